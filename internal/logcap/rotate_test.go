package logcap

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRotation(t *testing.T) {
	line := func(i int) string { return fmt.Sprintf("line %03d", i) } // 8 bytes
	const lineSize = 32 + 8 + 1
	for _, tc := range []struct {
		name    string
		maxSize int64
		keep    int
		lines   int
		chunk   int // bytes a read
	}{
		{"keep 2", 3 * lineSize, 2, 20, 9},
		{"keep 2, one batch", 3 * lineSize, 2, 20, 1 << 20},
		{"keep 0", 3 * lineSize, 0, 10, 9},
		{"keep 1, one byte short of 3 lines", 3*lineSize - 1, 1, 9, 9},
		{"keep 1, one byte short, one batch", 3*lineSize - 1, 1, 9, 1 << 20},
		{"keep 3, exact fit", 2 * lineSize, 3, 8, 9},
		{"keep 3, exact fit, odd reads", 2 * lineSize, 3, 8, 7},
		{"line longer than max size", 10, 2, 3, 1 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := open(t, Options{MaxSize: tc.maxSize, Keep: tc.keep, Ring: 1000})
			var in strings.Builder
			var all []string
			for i := range tc.lines {
				in.WriteString(line(i) + "\n")
				all = append(all, line(i))
			}
			r := &chunkReader{s: in.String(), n: tc.chunk}
			if err := l.Capture(r, Stdout); err != nil {
				t.Fatal(err)
			}
			perFile := max(int(tc.maxSize/lineSize), 1)
			// Newest first: Name.log, Name.log.1, …
			var got []string
			for i := 0; i <= tc.keep+1; i++ {
				path := l.Path()
				if i > 0 {
					path = fmt.Sprintf("%s.%d", l.Path(), i)
				}
				content := readFile(t, path)
				if i == tc.keep+1 {
					if content != "" {
						t.Errorf("%s exists beyond keep %d", path, tc.keep)
					}
					break
				}
				if size := int64(len(content)); size > tc.maxSize && perFile > 1 {
					t.Errorf("%s: %d bytes, more than %d", path, size, tc.maxSize)
				}
				ft := fileTexts(t, path)
				if i > 0 && len(ft) != perFile {
					t.Errorf("%s: got %d lines, want %d (byte-precise rotation)", path, len(ft), perFile)
				}
				got = append(ft, got...)
			}
			want := all[len(all)-len(got):]
			if !equal(got, want) {
				t.Errorf("files hold %q, want the last lines %q", got, want)
			}
			if got := texts(l.Tail(1000)); !equal(got, all) {
				t.Errorf("Tail across rotation: got %q, want %q", got, all)
			}
		})
	}
}

func TestRotationDeletesBeyondKeep(t *testing.T) {
	dir := t.TempDir()
	for i := 1; i <= 6; i++ {
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("svc.log.%d", i)), []byte("old\n"), 0o600)
	}
	os.WriteFile(filepath.Join(dir, "svc.log"), []byte("current\n"), 0o600)
	l := open(t, Options{Dir: dir, MaxSize: 10, Keep: 2})
	if err := l.Capture(strings.NewReader("new\n"), Stdout); err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{true, true, true, false, false, false, false} {
		path := l.Path()
		if i > 0 {
			path = fmt.Sprintf("%s.%d", path, i)
		}
		if _, err := os.Stat(path); (err == nil) != want {
			t.Errorf("%s exists: got %v, want %v", path, err == nil, want)
		}
	}
	if got, want := readFile(t, l.Path()+".1"), "current\n"; got != want {
		t.Errorf("svc.log.1: got %q, want %q", got, want)
	}
}

// TestSetLimits lowers MaxSize and Keep of a log in use: the next write
// rotates the file that is now too big, and drops the backups beyond Keep.
func TestSetLimits(t *testing.T) {
	l := open(t, Options{MaxSize: 1 << 20, Keep: 3})
	for i := range 4 {
		if err := l.Capture(strings.NewReader(fmt.Sprintf("line %d\n", i)), Stdout); err != nil {
			t.Fatal(err)
		}
		if i < 3 {
			l.mu.Lock()
			err := l.rotateLocked()
			l.mu.Unlock()
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := l.SetLimits(0, 1); err == nil {
		t.Error("SetLimits with a max size of 0 succeeded")
	}
	if err := l.SetLimits(10, -1); err == nil {
		t.Error("SetLimits with a negative keep succeeded")
	}
	if err := l.SetLimits(10, 1); err != nil {
		t.Fatal(err)
	}
	if err := l.Capture(strings.NewReader("after\n"), Stdout); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, l.Path()); !strings.HasSuffix(got, " after\n") || strings.Contains(got, "line") {
		t.Errorf("current file %q, want only the line after SetLimits", got)
	}
	if got := readFile(t, l.Path()+".1"); !strings.HasSuffix(got, " line 3\n") {
		t.Errorf("%s.1 = %q, want the file that was current", l.Path(), got)
	}
	for _, i := range []int{2, 3} {
		if _, err := os.Stat(fmt.Sprintf("%s.%d", l.Path(), i)); err == nil {
			t.Errorf("%s.%d survived a Keep of 1", l.Path(), i)
		}
	}
}

func TestReopenAppends(t *testing.T) {
	dir := t.TempDir()
	l := open(t, Options{Dir: dir, MaxSize: 100, Keep: 1})
	if err := l.Capture(strings.NewReader("first\n"), Stdout); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = open(t, Options{Dir: dir, MaxSize: 100, Keep: 1})
	if err := l.Capture(strings.NewReader("second\n"), Stderr); err != nil {
		t.Fatal(err)
	}
	if got, want := fileTexts(t, l.Path()), []string{"first", "second"}; !equal(got, want) {
		t.Fatalf("after reopen: got %q, want %q", got, want)
	}
	// 2 lines of 38 and 39 bytes are there: the existing size counts, so
	// a third line rotates.
	if err := l.Capture(strings.NewReader("third\n"), Stdout); err != nil {
		t.Fatal(err)
	}
	if got, want := fileTexts(t, l.Path()), []string{"third"}; !equal(got, want) {
		t.Errorf("after rotation: got %q, want %q", got, want)
	}
	if got, want := fileTexts(t, l.Path()+".1"), []string{"first", "second"}; !equal(got, want) {
		t.Errorf("rotated: got %q, want %q", got, want)
	}
}

func TestRotationErrorKeepsCapturing(t *testing.T) {
	dir := t.TempDir()
	// A directory in the way of the file to delete makes a rename fail.
	if err := os.MkdirAll(filepath.Join(dir, ".svc.log.deleted", "x"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "svc.log.1"), []byte("old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l := open(t, Options{Dir: dir, MaxSize: 50, Keep: 1, Ring: 10})
	err := l.Capture(strings.NewReader("aaaaaaaaaa\nbbbbbbbbbb\n"), Stdout)
	if err == nil || !strings.Contains(err.Error(), "rotate") {
		t.Fatalf("Capture: got %v, want a rotate error", err)
	}
	if got, want := fileTexts(t, l.Path()), []string{"bbbbbbbbbb"}; !equal(got, want) {
		t.Errorf("file: got %q, want %q", got, want)
	}
	if got, want := fileTexts(t, l.Path()+".1"), []string{"aaaaaaaaaa"}; !equal(got, want) {
		t.Errorf("rotated file: got %q, want %q", got, want)
	}
}

func TestRotationDeletesInBackground(t *testing.T) {
	dir := t.TempDir()
	l := open(t, Options{Dir: dir, MaxSize: 50, Keep: 1})
	if err := l.Capture(strings.NewReader("1\n2\n3\n4\n"), Stdout); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"svc.log", "svc.log.1"}; !equal(names, want) {
		t.Errorf("after Close: got %q, want %q", names, want)
	}
}
