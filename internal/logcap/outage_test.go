package logcap

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// quotaFile is a log file on a file system with free bytes left: a write
// beyond them writes what fits and fails with ENOSPC, as on a full disk,
// and Truncate gives the space back, or fails with noTruncate. It truncates
// by path, which works on every OS (on Windows, a file opened for appending
// cannot be truncated through its handle). The Log's lock guards it.
type quotaFile struct {
	*os.File
	free       int64
	noTruncate bool
}

func (f *quotaFile) Write(p []byte) (int, error) {
	n, err := f.File.Write(p[:min(int64(len(p)), f.free)])
	f.free -= int64(n)
	if err == nil && n < len(p) {
		err = &fs.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
	}
	return n, err
}

func (f *quotaFile) Truncate(size int64) error {
	if f.noTruncate {
		return &fs.PathError{Op: "truncate", Path: f.Name(), Err: syscall.EIO}
	}
	st, err := f.Stat()
	if err != nil {
		return err
	}
	f.free += st.Size() - size
	return os.Truncate(f.Name(), size)
}

// onQuota makes l write through a quotaFile with free bytes and returns a
// function that sets the free bytes.
func onQuota(l *Log, free int64, noTruncate bool) func(free int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	q := &quotaFile{File: l.f.(*os.File), free: free, noTruncate: noTruncate}
	l.f = q
	return func(free int64) {
		l.mu.Lock()
		q.free = free
		l.mu.Unlock()
	}
}

// fileStates records what OnFile hears. It is safe for concurrent use.
type fileStates struct {
	mu   sync.Mutex
	list []FileState
}

func (s *fileStates) add(st FileState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.list = append(s.list, st)
}

func (s *fileStates) get() []FileState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]FileState(nil), s.list...)
}

// numbered returns the lines from to to-1 as output, each 50 bytes and a
// newline.
func numbered(from, to int) string {
	var b strings.Builder
	for i := from; i < to; i++ {
		fmt.Fprintf(&b, "line %04d %s\n", i, strings.Repeat("x", 40))
	}
	return b.String()
}

// lineBytes is the size of a line of numbered in the file, with the
// fixed clock's prefix.
const lineBytes = 32 + 50 + 1

// TestFullDiskIsReported: a write that fails is reported once, not per
// line; a partial write is taken back to the last whole line; the ring
// keeps every line; and when writing works again, a marker line says what
// was dropped, and that is reported too.
func TestFullDiskIsReported(t *testing.T) {
	states := &fileStates{}
	var l *Log
	l = open(t, Options{Ring: 100, OnFile: func(st FileState) {
		l.Tail(1) // OnFile may call the Log
		states.add(st)
	}})
	setFree := onQuota(l, 1<<20, false)
	capture := func(from, to int) error {
		t.Helper()
		return l.Capture(strings.NewReader(numbered(from, to)), Stdout)
	}
	if err := capture(0, 10); err != nil {
		t.Fatal(err)
	}
	setFree(lineBytes + 19) // one more line and a piece of the next
	if err := capture(10, 20); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Capture on a full disk: got %v, want ENOSPC", err)
	}
	if err := capture(20, 30); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Capture on a full disk: got %v, want ENOSPC", err)
	}
	got := states.get()
	if len(got) != 1 || !errors.Is(got[0].Err, syscall.ENOSPC) || !got[0].Since.Equal(t0) {
		t.Fatalf("OnFile heard %+v, want one ENOSPC since %v", got, t0)
	}
	if n := len(l.Tail(100)); n != 30 {
		t.Errorf("Tail during the outage: got %d lines, want 30", n)
	}
	setFree(1 << 20)
	if err := capture(30, 35); err != nil {
		t.Fatalf("Capture once there is space: %v", err)
	}
	got = states.get()
	if want := (FileState{Since: t0, Lines: 19, Bytes: 19 * lineBytes}); len(got) != 2 || got[1] != want {
		t.Fatalf("OnFile heard %+v, want the ENOSPC and then %+v", got, want)
	}
	want := strings.Split(numbered(0, 11), "\n")
	want[11] = "[steward] 19 lines (1577 bytes) of output since 2024-05-01T12:00:00.123Z were not written to this file: write " + l.Path() + ": no space left on device"
	want = append(want, strings.Split(strings.TrimSuffix(numbered(30, 35), "\n"), "\n")...)
	if got := fileTexts(t, l.Path()); !equal(got, want) {
		t.Errorf("file: got %q, want %q", short(got), short(want))
	}
}

// TestFullDiskTakesBackACutLine: a failure after an aligned flush wrote
// the head of a line takes that head back, so the line is not glued to
// the next.
func TestFullDiskTakesBackACutLine(t *testing.T) {
	states := &fileStates{}
	l := open(t, Options{Ring: 2000, OnFile: states.add})
	setFree := onQuota(l, 1<<20, false)
	if err := l.write(Stdout, []byte(numbered(0, 1000))); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(l.Path()); st.Size() != flushAlign || flushAlign%lineBytes == 0 {
		t.Fatalf("after an aligned flush: %d bytes in the file, want %d, inside a line", st.Size(), flushAlign)
	}
	setFree(0)
	if err := l.flush(); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("flush on a full disk: got %v, want ENOSPC", err)
	}
	whole := flushAlign / lineBytes
	if st, _ := os.Stat(l.Path()); st.Size() != int64(whole*lineBytes) {
		t.Errorf("after the failure: %d bytes in the file, want %d (the head of line %d taken back)", st.Size(), whole*lineBytes, whole)
	}
	setFree(1 << 20)
	if err := l.write(Stdout, []byte(numbered(1000, 1001))); err != nil {
		t.Fatal(err)
	}
	if err := l.flush(); err != nil {
		t.Fatal(err)
	}
	dropped := 1000 - whole
	got := states.get()
	if want := (FileState{Since: t0, Lines: int64(dropped), Bytes: int64(dropped * lineBytes)}); len(got) != 2 || got[1] != want {
		t.Fatalf("OnFile heard %+v, want ENOSPC and then %+v", got, want)
	}
	want := strings.Split(numbered(0, whole), "\n")
	want[whole] = fmt.Sprintf("[steward] %d lines (%d bytes) of output since 2024-05-01T12:00:00.123Z were not written to this file: write %s: no space left on device", dropped, dropped*lineBytes, l.Path())
	want = append(want, strings.TrimSuffix(numbered(1000, 1001), "\n"))
	if got := fileTexts(t, l.Path()); !equal(got, want) {
		t.Errorf("file: got %d lines, want %d; last: %q, want %q", len(got), len(want), short(got[max(len(got)-3, 0):]), short(want[len(want)-3:]))
	}
}

// TestFullDiskWithoutTruncate: when a partial write cannot be taken back,
// the next write ends the cut line with a newline before its marker.
func TestFullDiskWithoutTruncate(t *testing.T) {
	l := open(t, Options{Ring: 100})
	setFree := onQuota(l, lineBytes+19, true)
	if err := l.Capture(strings.NewReader(numbered(0, 5)), Stdout); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Capture on a full disk: got %v, want ENOSPC", err)
	}
	setFree(1 << 20)
	if err := l.Capture(strings.NewReader(numbered(5, 6)), Stdout); err != nil {
		t.Fatal(err)
	}
	first := fmt.Sprintf("2024-05-01T12:00:00.123Z stdout %s", numbered(0, 1))
	cut := first[:19] + "\n"
	content := readFile(t, l.Path())
	rest, ok := strings.CutPrefix(content, first+cut)
	if !ok {
		t.Fatalf("file: got %q, want it to start with %q", content, first+cut)
	}
	lines := strings.SplitAfter(rest, "\n")
	if len(lines) != 3 || lines[2] != "" {
		t.Fatalf("after the cut line: got %q, want a marker and a line", lines)
	}
	for _, s := range lines[:2] {
		if _, err := ParseLine(s); err != nil {
			t.Errorf("line %q: %v", s, err)
		}
	}
	if m, _ := ParseLine(lines[0]); m.Stream != Stderr || !strings.HasPrefix(m.Text, "[steward] 4 lines (") {
		t.Errorf("marker: got %+v", m)
	}
}

// TestOpenEndsCutLine: a file that ends inside a line, as a kill between
// two writes leaves it, gets a newline before new output.
func TestOpenEndsCutLine(t *testing.T) {
	dir := t.TempDir()
	old := "2024-05-01T12:00:00.123Z stdout cut sho"
	if err := os.WriteFile(filepath.Join(dir, "svc.log"), []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	l := open(t, Options{Dir: dir})
	if err := l.Capture(strings.NewReader("next\n"), Stdout); err != nil {
		t.Fatal(err)
	}
	if got, want := fileTexts(t, l.Path()), []string{"cut sho", "next"}; !equal(got, want) {
		t.Errorf("file: got %q, want %q", got, want)
	}
}

// TestMarkerWholeOrNotAtAll: when writing fails again right after a
// marker, the marker is taken back with what followed it, and the outage
// goes on: one report, one marker with every line counted.
func TestMarkerWholeOrNotAtAll(t *testing.T) {
	states := &fileStates{}
	l := open(t, Options{Ring: 100, OnFile: states.add})
	setFree := onQuota(l, 0, false)
	l.Capture(strings.NewReader(numbered(0, 2)), Stdout)
	marker := "2024-05-01T12:00:00.123Z stderr [steward] 2 lines (166 bytes) of output since 2024-05-01T12:00:00.123Z were not written to this file: write " + l.Path() + ": no space left on device\n"
	setFree(int64(len(marker)) + 10) // the marker fits, the lines after it do not
	l.Capture(strings.NewReader(numbered(2, 4)), Stdout)
	if content := readFile(t, l.Path()); content != "" {
		t.Errorf("file after the second failure: got %q, want it empty", content)
	}
	setFree(1 << 20)
	if err := l.Capture(strings.NewReader(numbered(4, 5)), Stdout); err != nil {
		t.Fatal(err)
	}
	if got := states.get(); len(got) != 2 || got[1].Lines != 4 {
		t.Errorf("OnFile heard %+v, want ENOSPC and then 4 lines dropped", got)
	}
	got := fileTexts(t, l.Path())
	if len(got) != 2 || !strings.HasPrefix(got[0], "[steward] 4 lines (332 bytes) of output since ") || got[1] != strings.TrimSuffix(numbered(4, 5), "\n") {
		t.Errorf("file: got %q, want a marker of 4 lines and line 4", short(got))
	}
	if bytes.Count([]byte(readFile(t, l.Path())), []byte("[steward]")) != 1 {
		t.Error("more than one marker")
	}
}
