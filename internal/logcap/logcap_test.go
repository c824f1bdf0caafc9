package logcap

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/testwait"
)

// t0 is the fixed clock of most tests.
var t0 = time.Date(2024, 5, 1, 12, 0, 0, 123456789, time.UTC)

func fixedClock() time.Time { return t0 }

// open opens a log in a temporary directory with a fixed clock.
func open(t *testing.T, opts Options) *Log {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	if opts.Name == "" {
		opts.Name = "svc"
	}
	if opts.MaxSize == 0 {
		opts.MaxSize = 1 << 30
	}
	if opts.Now == nil {
		opts.Now = fixedClock
	}
	l, err := Open(opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// readFile returns the content of a file, "" if it does not exist.
func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return string(b)
}

// texts returns the texts of lines.
func texts(lines []Line) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = l.Text
	}
	return out
}

// fileTexts parses a log file and returns the texts of its lines.
func fileTexts(t *testing.T, path string) []string {
	t.Helper()
	var out []string
	content := readFile(t, path)
	for _, s := range strings.SplitAfter(content, "\n") {
		if s == "" {
			continue
		}
		ln, err := ParseLine(s)
		if err != nil {
			t.Fatalf("ParseLine(%q): %v", s, err)
		}
		out = append(out, ln.Text)
	}
	return out
}

func equal(a, b []string) bool { return slices.Equal(a, b) }

// short abbreviates long strings for failure messages.
func short(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		if len(s) > 40 {
			s = fmt.Sprintf("%s…(%d bytes)", s[:20], len(s))
		}
		out[i] = s
	}
	return out
}

// same reports whether two lines are equal, times compared with Equal.
func same(a, b Line) bool {
	return a.Time.Equal(b.Time) && a.Stream == b.Stream && a.Text == b.Text && a.Missed == b.Missed
}

func TestOpenRejectsBadOptions(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"no dir", Options{Name: "a", MaxSize: 1}},
		{"no name", Options{Dir: dir, MaxSize: 1}},
		{"slash in name", Options{Dir: dir, Name: "a/b", MaxSize: 1}},
		{"dot dot", Options{Dir: dir, Name: "..", MaxSize: 1}},
		{"zero max size", Options{Dir: dir, Name: "a"}},
		{"negative keep", Options{Dir: dir, Name: "a", MaxSize: 1, Keep: -1}},
		{"negative ring", Options{Dir: dir, Name: "a", MaxSize: 1, Ring: -1}},
		{"dir is a file", Options{Dir: filepath.Join(dir, "f", "x"), Name: "a", MaxSize: 1}},
		{"log is a directory", Options{Dir: dir, Name: "d", MaxSize: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.WriteFile(filepath.Join(dir, "f"), nil, 0o600)
			os.MkdirAll(filepath.Join(dir, "d.log"), 0o750)
			if l, err := Open(tc.opts); err == nil {
				l.Close()
				t.Fatalf("Open(%+v): got no error", tc.opts)
			}
		})
	}
}

func TestOpenCreatesDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	l := open(t, Options{Dir: dir})
	if got, want := l.Path(), filepath.Join(dir, "svc.log"); got != want {
		t.Errorf("Path: got %q, want %q", got, want)
	}
	st, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := st.Mode().Perm(), os.FileMode(0o750); runtime.GOOS != "windows" && got != want {
		t.Errorf("directory mode: got %v, want %v", got, want)
	}
}

func TestCaptureLines(t *testing.T) {
	long := strings.Repeat("x", MaxLine)
	for _, tc := range []struct {
		name string
		in   string
		want []string
	}{
		{"empty", "", nil},
		{"one line", "hello\n", []string{"hello"}},
		{"partial last line", "a\nb", []string{"a", "b"}},
		{"only a partial line", "no newline", []string{"no newline"}},
		{"empty lines", "\n\na\n\n", []string{"", "", "a", ""}},
		{"carriage return kept", "a\r\nb\r\n", []string{"a\r", "b\r"}},
		{"spaces kept", "  two  spaces \n", []string{"  two  spaces "}},
		{"exactly MaxLine", long + "\n", []string{long}},
		{"split past MaxLine", long + "yz\n", []string{long, "yz"}},
		{"split twice, partial", long + long + "z", []string{long, long, "z"}},
		{"invalid utf-8", "\xff\xfe\n", []string{"\xff\xfe"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := open(t, Options{Ring: 100})
			if err := l.Capture(strings.NewReader(tc.in), Stdout); err != nil {
				t.Fatalf("Capture: %v", err)
			}
			if got := fileTexts(t, l.Path()); !equal(got, tc.want) {
				t.Errorf("file: got %q, want %q", short(got), short(tc.want))
			}
			if got := texts(l.Tail(100)); !equal(got, tc.want) {
				t.Errorf("Tail: got %q, want %q", short(got), short(tc.want))
			}
		})
	}
}

func TestFileFormat(t *testing.T) {
	l := open(t, Options{Ring: 10})
	if err := l.Capture(strings.NewReader("out 1\nout 2"), Stdout); err != nil {
		t.Fatal(err)
	}
	if err := l.Capture(strings.NewReader("err\n"), Stderr); err != nil {
		t.Fatal(err)
	}
	want := "2024-05-01T12:00:00.123Z stdout out 1\n" +
		"2024-05-01T12:00:00.123Z stdout out 2\n" +
		"2024-05-01T12:00:00.123Z stderr err\n"
	if got := readFile(t, l.Path()); got != want {
		t.Errorf("file:\ngot  %q\nwant %q", got, want)
	}
	tail := l.Tail(3)
	wantT := time.Date(2024, 5, 1, 12, 0, 0, 123e6, time.UTC)
	for i, ln := range tail {
		if !ln.Time.Equal(wantT) || ln.Time.Location() != time.UTC {
			t.Errorf("Tail[%d].Time: got %v, want %v", i, ln.Time, wantT)
		}
	}
	if got := tail[2].Stream; got != Stderr {
		t.Errorf("Tail[2].Stream: got %q, want %q", got, Stderr)
	}
}

func TestCaptureRejectsUnknownStream(t *testing.T) {
	l := open(t, Options{})
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := l.Capture(r, "stdin"); err == nil {
		t.Fatal("Capture(stdin): got no error")
	}
	if err := r.Close(); err == nil {
		t.Error("Capture did not close the file it was given")
	}
}

// errReader returns its data, then err.
type errReader struct {
	data []byte
	err  error
}

func (r *errReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestCaptureReadError(t *testing.T) {
	l := open(t, Options{Ring: 10})
	boom := errors.New("boom")
	err := l.Capture(&errReader{data: []byte("a\npartial"), err: boom}, Stdout)
	if !errors.Is(err, boom) {
		t.Fatalf("Capture: got %v, want %v", err, boom)
	}
	if got, want := fileTexts(t, l.Path()), []string{"a", "partial"}; !equal(got, want) {
		t.Errorf("file: got %q, want %q", got, want)
	}
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

// chunkReader returns s n bytes at a time.
type chunkReader struct {
	s string
	n int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if r.s == "" {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), r.n)], r.s)
	r.s = r.s[n:]
	return n, nil
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

func TestTail(t *testing.T) {
	l := open(t, Options{Ring: 5})
	if got := l.Tail(3); got != nil {
		t.Errorf("Tail of empty log: got %q", texts(got))
	}
	l.Capture(strings.NewReader("1\n2\n3\n"), Stdout)
	for _, tc := range []struct {
		n    int
		want []string
	}{
		{-1, nil},
		{0, nil},
		{1, []string{"3"}},
		{2, []string{"2", "3"}},
		{3, []string{"1", "2", "3"}},
		{4, []string{"1", "2", "3"}},
	} {
		if got := texts(l.Tail(tc.n)); !equal(got, tc.want) {
			t.Errorf("Tail(%d): got %q, want %q", tc.n, got, tc.want)
		}
	}
	l.Capture(strings.NewReader("4\n5\n6\n7\n"), Stdout)
	if got, want := texts(l.Tail(10)), []string{"3", "4", "5", "6", "7"}; !equal(got, want) {
		t.Errorf("Tail(10) with Ring 5: got %q, want %q", got, want)
	}
	if got := (&Log{}).Tail(5); got != nil {
		t.Errorf("Tail with Ring 0: got %q", texts(got))
	}
}

func TestTailKeepsWhatFitsInRingBytes(t *testing.T) {
	l := open(t, Options{Ring: 100000, RingBytes: 1})
	var in strings.Builder
	for i := range 20000 {
		fmt.Fprintf(&in, "line %05d\n", i)
	}
	l.Capture(strings.NewReader(in.String()), Stdout)
	got := l.Tail(100000)
	// minRing bytes, 43 bytes a line.
	if n := len(got); n < minRing/43-1 || n > minRing/43 {
		t.Fatalf("Tail: got %d lines, want about %d", n, minRing/43)
	}
	for i, ln := range got {
		if want := fmt.Sprintf("line %05d", 20000-len(got)+i); ln.Text != want {
			t.Fatalf("Tail[%d]: got %q, want %q", i, ln.Text, want)
		}
	}
}

func TestSubscribe(t *testing.T) {
	testwait.NoLeak(t)
	l := open(t, Options{})
	lines, unsubscribe := l.Subscribe()
	other, unsubscribeOther := l.Subscribe()
	defer unsubscribeOther()
	l.Capture(strings.NewReader("a\nb\n"), Stdout)
	l.Capture(strings.NewReader("c"), Stderr)
	want := []Line{
		{Time: t0.Truncate(time.Millisecond), Stream: Stdout, Text: "a"},
		{Time: t0.Truncate(time.Millisecond), Stream: Stdout, Text: "b"},
		{Time: t0.Truncate(time.Millisecond), Stream: Stderr, Text: "c"},
	}
	for _, ch := range []<-chan Line{lines, other} {
		for _, w := range want {
			if got := <-ch; !same(got, w) {
				t.Errorf("got %+v, want %+v", got, w)
			}
		}
	}
	unsubscribe()
	unsubscribe() // a second call does nothing
	if _, ok := <-lines; ok {
		t.Error("channel open after unsubscribe")
	}
	l.Capture(strings.NewReader("d\n"), Stdout)
	if got := <-other; got.Text != "d" {
		t.Errorf("other subscriber: got %q, want %q", got.Text, "d")
	}
}

func TestSlowSubscriberDoesNotBlock(t *testing.T) {
	l := open(t, Options{Ring: 10})
	lines, unsubscribe := l.Subscribe()
	defer unsubscribe()
	const n = 3000
	var in strings.Builder
	for i := range n {
		fmt.Fprintf(&in, "%d\n", i)
	}
	done := make(chan error)
	go func() { done <- l.Capture(strings.NewReader(in.String()), Stdout) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Capture blocked on a subscriber that does not read")
	}
	for i := range subscriberBuffer {
		if got, want := (<-lines).Text, fmt.Sprint(i); got != want {
			t.Fatalf("line %d: got %q, want %q", i, got, want)
		}
	}
	l.Capture(strings.NewReader("next\n"), Stdout)
	got := <-lines
	if got.Text != "next" || got.Missed != n-subscriberBuffer {
		t.Errorf("got %q missing %d, want %q missing %d", got.Text, got.Missed, "next", n-subscriberBuffer)
	}
}

func TestClose(t *testing.T) {
	l := open(t, Options{Ring: 10})
	lines, unsubscribe := l.Subscribe()
	l.Capture(strings.NewReader("a\n"), Stdout)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	<-lines
	if _, ok := <-lines; ok {
		t.Error("subscription open after Close")
	}
	unsubscribe()
	late, _ := l.Subscribe()
	if _, ok := <-late; ok {
		t.Error("Subscribe after Close: channel open")
	}
	if err := l.Capture(strings.NewReader("b\n"), Stdout); !errors.Is(err, errClosed) {
		t.Errorf("Capture after Close: got %v, want %v", err, errClosed)
	}
	if got, want := texts(l.Tail(10)), []string{"a"}; !equal(got, want) {
		t.Errorf("Tail after Close: got %q, want %q", got, want)
	}
}

func TestBusyStreamWritesAlignedBlocks(t *testing.T) {
	l := open(t, Options{Ring: 10})
	line := strings.Repeat("x", 99) + "\n"
	batch := []byte(strings.Repeat(line, 1000)) // 132,000 bytes formatted
	if err := l.write(Stdout, batch); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(l.Path())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := st.Size(), int64(132000/flushAlign*flushAlign); got != want {
		t.Errorf("file size while busy: got %d, want %d", got, want)
	}
	if err := l.flush(); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(l.Path()); st.Size() != 132000 {
		t.Errorf("file size when quiet: got %d, want %d", st.Size(), 132000)
	}
}

func TestWriteErrorKeepsCapturing(t *testing.T) {
	l := open(t, Options{Ring: 10})
	l.mu.Lock()
	l.f.Close() // writes fail from now on
	l.mu.Unlock()
	err := l.Capture(strings.NewReader("a\nb\n"), Stdout)
	if err == nil {
		t.Fatal("Capture: got no error")
	}
	if got, want := texts(l.Tail(10)), []string{"a", "b"}; !equal(got, want) {
		t.Errorf("Tail: got %q, want %q", got, want)
	}
	// A file that could not be reopened is retried on the next write.
	l.mu.Lock()
	l.f = nil
	l.mu.Unlock()
	if err := l.Capture(strings.NewReader("c\n"), Stdout); err != nil {
		t.Fatalf("Capture after reopen: %v", err)
	}
	marker := "[steward] 2 lines (68 bytes) of output since 2024-05-01T12:00:00.123Z were not written to this file: write " + l.Path() + ": file already closed"
	if got, want := fileTexts(t, l.Path()), []string{marker, "c"}; !equal(got, want) {
		t.Errorf("file: got %q, want %q", got, want)
	}
	l.mu.Lock()
	l.f.Close()
	l.mu.Unlock()
	if err := l.Close(); err == nil {
		t.Error("Close of a closed file: got no error")
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

func TestConcurrentStreams(t *testing.T) {
	testwait.NoLeak(t)
	l := open(t, Options{Ring: 100, MaxSize: 64 << 10, Keep: 100, Now: time.Now})
	lines, unsubscribe := l.Subscribe()
	var wg sync.WaitGroup
	const n = 5000
	received := 0 // lines received or reported missed
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ln := range lines {
			received += 1 + ln.Missed
		}
	}()
	var cwg sync.WaitGroup
	for _, stream := range []string{Stdout, Stderr} {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		cwg.Add(2)
		go func() {
			defer cwg.Done()
			if err := l.Capture(r, stream); err != nil {
				t.Error(err)
			}
		}()
		go func() {
			defer cwg.Done()
			defer w.Close()
			for i := range n {
				fmt.Fprintf(w, "%s line %d of a concurrent test\n", stream, i)
			}
		}()
		go l.Tail(10) // readers run meanwhile
	}
	cwg.Wait()
	unsubscribe()
	wg.Wait()
	// Lines missed at the very end are never reported.
	if received == 0 || received > 2*n {
		t.Errorf("subscriber got %d lines, want up to %d", received, 2*n)
	}
	files, _ := filepath.Glob(l.Path() + "*")
	count := map[string]int{}
	for _, f := range files {
		for _, s := range fileTexts(t, f) {
			stream, _, _ := strings.Cut(s, " ")
			if !strings.HasSuffix(s, " of a concurrent test") {
				t.Fatalf("mixed line %q", s)
			}
			count[stream]++
		}
	}
	if count[Stdout] != n || count[Stderr] != n {
		t.Errorf("files hold %v lines, want %d of each", count, n)
	}
}

// child runs script with sh, its stdout and stderr on pipes made by pipe,
// captured into l; it returns once both captures have returned.
func child(t *testing.T, l *Log, pipe func() (r, w *os.File, err error), script string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("needs sh")
	}
	outR, outW, err := pipe()
	if err != nil {
		t.Fatal(err)
	}
	errR, errW, err := pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", script)
	cmd.Stdout, cmd.Stderr = outW, errW
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	outW.Close()
	errW.Close()
	errs := make(chan error, 2)
	go func() { errs <- l.Capture(outR, Stdout) }()
	go func() { errs <- l.Capture(errR, Stderr) }()
	for range 2 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
}

func TestChildProcess(t *testing.T) {
	for _, p := range []struct {
		name string
		pipe func() (r, w *os.File, err error)
	}{{"os.Pipe", os.Pipe}, {"Pipe", Pipe}} {
		t.Run(p.name, func(t *testing.T) {
			testwait.NoLeak(t)
			l := open(t, Options{Ring: 100})
			// Pauses make the capture wait for an idle stream.
			child(t, l, p.pipe, `echo one; sleep 0.05; printf 'two\nthr'; sleep 0.05; echo ee; echo err >&2; sleep 0.05; printf last`)
			got := texts(l.Tail(100))
			want := []string{"one", "two", "three", "err", "last"}
			if !equal(got, want) && !equal(got, []string{"one", "two", "err", "three", "last"}) {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

func TestChildProcessManySmallWrites(t *testing.T) {
	for _, p := range []struct {
		name string
		pipe func() (r, w *os.File, err error)
	}{{"os.Pipe", os.Pipe}, {"Pipe", Pipe}} {
		t.Run(p.name, func(t *testing.T) {
			l := open(t, Options{Ring: 10, MaxSize: 1 << 20, Keep: 20})
			const fast, size = "a fast line of output from a busy child process", 4000000
			// Many small writes, then a fast stream, then quiet.
			child(t, l, p.pipe, `i=0; while [ $i -lt 2000 ]; do echo "small $i"; i=$((i+1)); done; `+
				`yes '`+fast+`' | head -c `+fmt.Sprint(size)+`; echo; sleep 0.02; echo end`)
			last := fast[:size%(len(fast)+1)]
			if got, want := texts(l.Tail(2)), []string{last, "end"}; !equal(got, want) {
				t.Errorf("Tail: got %q, want %q", got, want)
			}
			files, _ := filepath.Glob(l.Path() + "*")
			var n, small int
			for _, f := range files {
				for _, s := range fileTexts(t, f) {
					n++
					if strings.HasPrefix(s, "small ") {
						small++
					}
				}
			}
			if want := 2000 + (size+len(fast))/(len(fast)+1) + 1; n != want || small != 2000 {
				t.Errorf("files hold %d lines (%d small), want %d (2000 small)", n, small, want)
			}
		})
	}
}

func TestCaptureRegularFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in")
	if err := os.WriteFile(path, []byte("a\nb\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	l := open(t, Options{Ring: 10})
	if err := l.Capture(f, Stdout); err != nil {
		t.Fatal(err)
	}
	if got, want := texts(l.Tail(10)), []string{"a", "b"}; !equal(got, want) {
		t.Errorf("Tail: got %q, want %q", got, want)
	}
	if err := f.Close(); err == nil {
		t.Error("Capture did not close the file it was given")
	}
}

func TestReaderSource(t *testing.T) {
	s := readerSource{strings.NewReader("")}
	if err := s.wait(false); err != nil {
		t.Errorf("wait: %v", err)
	}
	if got := s.grow(); got != 0 {
		t.Errorf("grow: got %d, want 0", got)
	}
	if err := s.close(); err != nil {
		t.Errorf("close: %v", err)
	}
}

func TestParseLine(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Line
		ok   bool
	}{
		{"2024-05-01T12:00:00.123Z stdout hi there\n", Line{Time: time.Date(2024, 5, 1, 12, 0, 0, 123e6, time.UTC), Stream: Stdout, Text: "hi there"}, true},
		{"2024-05-01T12:00:00.123Z stderr ", Line{Time: time.Date(2024, 5, 1, 12, 0, 0, 123e6, time.UTC), Stream: Stderr}, true},
		{"2024-05-01T12:00:00.123Z stderr", Line{Time: time.Date(2024, 5, 1, 12, 0, 0, 123e6, time.UTC), Stream: Stderr}, true},
		{"2024-05-01T14:00:00.123+02:00 stdout x", Line{Time: time.Date(2024, 5, 1, 12, 0, 0, 123e6, time.UTC), Stream: Stdout, Text: "x"}, true},
		{"", Line{}, false},
		{"garbage", Line{}, false},
		{"2024-05-01 stdout x", Line{}, false},
		{"2024-05-01T12:00:00.123Z stdin x", Line{}, false},
		{"2024-05-01T12:00:00.123Z stdout two\nlines", Line{}, false},
	} {
		got, err := ParseLine(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseLine(%q): got %+v, %v; want %+v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// FuzzParseLine checks that ParseLine never panics and that what it parses
// formats back to an equivalent line.
func FuzzParseLine(f *testing.F) {
	f.Add("2024-05-01T12:00:00.123Z stdout hello\n") // a line as written
	f.Add("2024-05-01T12:00:00.123Z stderr ")        // an empty line
	f.Add("2024-05-01T12:00:00.123+02:00 stdout x")  // another zone
	f.Add("not a line")                              // garbage
	f.Fuzz(func(t *testing.T, s string) {
		ln, err := ParseLine(s)
		if err != nil {
			return
		}
		again := ln.Time.Format(TimeFormat) + " " + ln.Stream + " " + ln.Text
		ln2, err := ParseLine(again)
		if err != nil || !ln2.Time.Equal(ln.Time) || ln2.Stream != ln.Stream || ln2.Text != ln.Text {
			t.Errorf("ParseLine(%q) = %+v; formatted again %q gives %+v, %v", s, ln, again, ln2, err)
		}
	})
}

func TestPacer(t *testing.T) {
	start := time.Unix(0, 0)
	for _, tc := range []struct {
		name     string
		capacity int
		got      int
		dt       time.Duration
		want     time.Duration
	}{
		{"not a pipe", 0, 100, time.Second, 0},
		{"idle before: the longest pause", 1 << 20, 62, time.Hour, maxPause},
		{"slow writer", 1 << 20, 1000, 2 * time.Millisecond, maxPause},
		{"half full in 1.5 ms", 1 << 20, 512 << 10, 1500 * time.Microsecond, 0},
		{"rate fills half in 1.5 ms", 1 << 20, 256 << 10, 750 * time.Microsecond, 1500 * time.Microsecond},
		{"too fast to pause", 64 << 10, 16 << 10, 100 * time.Microsecond, 0},
		{"nothing read", 64 << 10, 0, time.Millisecond, maxPause},
	} {
		p := pacer{capacity: tc.capacity, last: start, winStart: start}
		if got := p.pause(tc.got, start.Add(tc.dt)); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestPacerFast(t *testing.T) {
	start := time.Unix(0, 0)
	for _, tc := range []struct {
		name  string
		reads []int // bytes read, 1 ms apart
		want  bool
	}{
		{"too early to tell", []int{1 << 20, 1 << 20}, false},
		{"large writes", []int{600 << 10, 600 << 10, 600 << 10, 600 << 10, 600 << 10}, true},
		{"small writes", []int{400 << 10, 400 << 10, 400 << 10, 400 << 10, 400 << 10}, false},
	} {
		p := pacer{capacity: 1 << 20, last: start, winStart: start}
		for i, n := range tc.reads {
			p.pause(n, start.Add(time.Duration(i+1)*time.Millisecond))
		}
		if p.fast != tc.want {
			t.Errorf("%s: fast %v, want %v", tc.name, p.fast, tc.want)
		}
	}
}

func TestRing(t *testing.T) {
	r := ring{max: 32}
	pre := []byte("p ")
	for i := range 10 {
		r.putLine(pre, []byte(fmt.Sprint(i)))
		r.pend = 0
	}
	// 10 lines of 4 bytes in 32 bytes: the last 8, but whether the
	// oldest is whole cannot be known once output was overwritten.
	if got, want := string(r.tail(100)), "p 3\np 4\np 5\np 6\np 7\np 8\np 9\n"; got != want {
		t.Errorf("tail: got %q, want %q", got, want)
	}
	r.putLine(pre, []byte("long"))
	r.pend = 0
	// The oldest line, cut by the wrap, is left out.
	if got, want := string(r.tail(100)), "p 4\np 5\np 6\np 7\np 8\np 9\np long\n"; got != want {
		t.Errorf("tail after a wrap: got %q, want %q", got, want)
	}
	if got, want := string(r.tail(2)), "p 9\np long\n"; got != want {
		t.Errorf("tail(2): got %q, want %q", got, want)
	}
	a, b := r.last(r.n)
	if got := len(a) + len(b); got != 32 {
		t.Errorf("valid bytes: got %d, want 32", got)
	}
	if !bytes.HasSuffix(append(append([]byte{}, a...), b...), []byte("p long\n")) {
		t.Errorf("last: got %q %q", a, b)
	}
}
