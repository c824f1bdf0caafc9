package logcap

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/testwait"
)

// idle waits until l's work on rotated files is done.
func idle(t *testing.T, l *Log) {
	t.Helper()
	testwait.For(t, 30*time.Second, "the rotated files tidied", func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return !l.tidying
	})
}

// rotatedPaths returns the rotated files of l, newest first, once its work
// on them is done.
func rotatedPaths(t *testing.T, l *Log) []string {
	t.Helper()
	idle(t, l)
	files, _, err := l.rotatedFiles()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		out = append(out, f.path)
	}
	return out
}

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
			rotated := rotatedPaths(t, l)
			if len(rotated) != tc.keep {
				t.Errorf("%d rotated files %q, want keep %d", len(rotated), rotated, tc.keep)
			}
			// Newest first: Name.log, then the rotated files.
			var got []string
			for i, path := range append([]string{l.Path()}, rotated...) {
				if size := int64(len(readFile(t, path))); size > tc.maxSize && perFile > 1 {
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

// TestRotatedNames: a rotated file is named after the time of its
// rotation, a millisecond later when that name is taken.
func TestRotatedNames(t *testing.T) {
	l := open(t, Options{Keep: 10})
	var want []string
	for i := range 3 {
		if err := l.Capture(strings.NewReader("x\n"), Stdout); err != nil {
			t.Fatal(err)
		}
		got, err := l.Rotate()
		if err != nil {
			t.Fatal(err)
		}
		w := l.Path() + "." + t0.Add(time.Duration(i)*time.Millisecond).UTC().Format(StampFormat)
		if got != w {
			t.Errorf("rotation %d: got %s, want %s", i, got, w)
		}
		want = append([]string{w}, want...)
	}
	if got := rotatedPaths(t, l); !equal(got, want) {
		t.Errorf("rotated files: got %q, want %q", got, want)
	}
	if got, want := filepath.Base(want[2]), "svc.log.2024-05-01T12-00-00.123Z"; got != want {
		t.Errorf("name: got %s, want %s", got, want)
	}
}

// TestRotatedNamesClockBack: when the clock steps back, a rotated file is
// still named after the newest one, this Log's or an earlier one's in the
// directory, so that pruning by name keeps the newest lines.
func TestRotatedNamesClockBack(t *testing.T) {
	dir := t.TempDir()
	clock := &testClock{}
	clock.set(t0)
	l := open(t, Options{Dir: dir, Keep: 1, Now: clock.Now})
	for _, text := range []string{"first\n", "second\n"} {
		if err := l.Capture(strings.NewReader(text), Stdout); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Rotate(); err != nil {
			t.Fatal(err)
		}
		clock.set(clock.Now().Add(-time.Hour))
	}
	rotated := rotatedPaths(t, l)
	if len(rotated) != 1 || readFile(t, rotated[0]) == "" || !strings.HasSuffix(fileTexts(t, rotated[0])[0], "second") {
		t.Fatalf("rotated %q, want the one holding the second line", rotated)
	}
	l.Close()

	l2 := open(t, Options{Dir: dir, Keep: 1, Now: clock.Now})
	if err := l2.Capture(strings.NewReader("third\n"), Stdout); err != nil {
		t.Fatal(err)
	}
	got, err := l2.Rotate()
	if err != nil {
		t.Fatal(err)
	}
	if want := dir + "/svc.log." + t0.Add(2*time.Millisecond).UTC().Format(StampFormat); got != want {
		t.Errorf("after a restart: rotated to %s, want %s", got, want)
	}
	if rotated := rotatedPaths(t, l2); len(rotated) != 1 || rotated[0] != got {
		t.Errorf("rotated %q, want just %s", rotated, got)
	}
}

// TestRotationDeletesBeyondKeep: the Name.log.N files of earlier versions
// count as rotated at their modification time.
func TestRotationDeletesBeyondKeep(t *testing.T) {
	dir := t.TempDir()
	for i := 1; i <= 6; i++ {
		p := filepath.Join(dir, fmt.Sprintf("svc.log.%d", i))
		os.WriteFile(p, []byte("old\n"), 0o600)
		mt := t0.Add(-time.Duration(i) * time.Hour)
		os.Chtimes(p, mt, mt)
	}
	os.WriteFile(filepath.Join(dir, "svc.log.0"), []byte("not a rotated file\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "svc.log.x.gz.tmp"), []byte("left by a crash\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "svc.log"), []byte("current\n"), 0o600)
	l := open(t, Options{Dir: dir, MaxSize: 10, Keep: 2})
	if err := l.Capture(strings.NewReader("new\n"), Stdout); err != nil {
		t.Fatal(err)
	}
	stamped := l.Path() + "." + t0.UTC().Format(StampFormat)
	if got, want := rotatedPaths(t, l), []string{stamped, l.Path() + ".1"}; !equal(got, want) {
		t.Errorf("rotated: got %q, want %q", got, want)
	}
	if got, want := readFile(t, stamped), "current\n"; got != want {
		t.Errorf("%s: got %q, want %q", stamped, got, want)
	}
	for _, name := range []string{"svc.log.2", "svc.log.6", "svc.log.x.gz.tmp"} {
		if exists(filepath.Join(dir, name)) {
			t.Errorf("%s survived", name)
		}
	}
	if !exists(filepath.Join(dir, "svc.log.0")) {
		t.Error("svc.log.0, not a rotated file, was deleted")
	}
}

// TestSetRotation lowers MaxSize and Keep of a log in use: the next write
// rotates the file that is now too big, and drops the backups beyond Keep.
func TestSetRotation(t *testing.T) {
	l := open(t, Options{MaxSize: 1 << 20, Keep: 3})
	for i := range 4 {
		if err := l.Capture(strings.NewReader(fmt.Sprintf("line %d\n", i)), Stdout); err != nil {
			t.Fatal(err)
		}
		if i < 3 {
			if _, err := l.Rotate(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := l.SetRotation(Options{MaxSize: 0, Keep: 1}); err == nil {
		t.Error("SetRotation with a max size of 0 succeeded")
	}
	if err := l.SetRotation(Options{MaxSize: 10, Keep: -1}); err == nil {
		t.Error("SetRotation with a negative keep succeeded")
	}
	if err := l.SetRotation(Options{MaxSize: 10, Keep: 1}); err != nil {
		t.Fatal(err)
	}
	if err := l.Capture(strings.NewReader("after\n"), Stdout); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, l.Path()); !strings.HasSuffix(got, " after\n") || strings.Contains(got, "line") {
		t.Errorf("current file %q, want only the line after SetRotation", got)
	}
	rotated := rotatedPaths(t, l)
	if len(rotated) != 1 || !strings.HasSuffix(readFile(t, rotated[0]), " line 3\n") {
		t.Errorf("rotated %q, want only the file that was current", rotated)
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
	rotated := rotatedPaths(t, l)
	if len(rotated) != 1 {
		t.Fatalf("rotated %q, want 1 file", rotated)
	}
	if got, want := fileTexts(t, rotated[0]), []string{"first", "second"}; !equal(got, want) {
		t.Errorf("rotated: got %q, want %q", got, want)
	}
}

// TestRotationErrorKeepsCapturing: with its directory gone, the log cannot
// rotate nor reopen its file; Capture keeps reading and says so, and Tail
// has every line.
func TestRotationErrorKeepsCapturing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs")
	l := open(t, Options{Dir: dir, MaxSize: 50, Keep: 1, Ring: 10})
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	err := l.Capture(strings.NewReader("aaaaaaaaaa\nbbbbbbbbbb\ncccccccccc\n"), Stdout)
	if err == nil || !strings.Contains(err.Error(), "rotate") {
		t.Fatalf("Capture: got %v, want a rotate error", err)
	}
	if got, want := texts(l.Tail(10)), []string{"aaaaaaaaaa", "bbbbbbbbbb", "cccccccccc"}; !equal(got, want) {
		t.Errorf("Tail: got %q, want %q", got, want)
	}
}

// TestRotate: an empty file is not rotated; a closed log says so.
func TestRotate(t *testing.T) {
	l := open(t, Options{Keep: 1})
	if got, err := l.Rotate(); got != "" || err != nil {
		t.Errorf("Rotate of an empty file: got %q, %v, want nothing", got, err)
	}
	if err := l.Capture(strings.NewReader("x\n"), Stdout); err != nil {
		t.Fatal(err)
	}
	got, err := l.Rotate()
	if err != nil || got == "" || fileTexts(t, got)[0] != "x" {
		t.Errorf("Rotate: got %q, %v, want the file with x", got, err)
	}
	if fileTexts(t, l.Path()) != nil {
		t.Error("the new file is not empty")
	}
	l.Close()
	if _, err := l.Rotate(); err == nil {
		t.Error("Rotate after Close succeeded")
	}
}
