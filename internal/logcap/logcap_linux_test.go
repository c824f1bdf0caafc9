package logcap

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/stewardhq/steward/internal/testfs"
)

func TestGrowPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	GrowPipe(r)
	src, err := newSource(r) // closes r
	if err != nil {
		t.Fatal(err)
	}
	defer src.close()
	s := src.(*fileSource)
	if got := pipeSize(s.fd); got != grownPipe {
		t.Errorf("after GrowPipe: got %d bytes, want %d", got, grownPipe)
	}
	// A busy stream grows its pipe and gives the memory back when idle.
	setPipeSize(s.fd, 64<<10)
	s.pipe, s.base = 64<<10, 64<<10
	if got := s.grow(); got != grownPipe || pipeSize(s.fd) != grownPipe {
		t.Errorf("grow: got %d bytes, want %d", got, grownPipe)
	}
	s.shrink()
	if got := s.capacity(); got != 64<<10 || pipeSize(s.fd) != 64<<10 {
		t.Errorf("shrink: got %d bytes, want %d", got, 64<<10)
	}
	GrowPipe(os.NewFile(^uintptr(0), "invalid")) // does nothing
	if got := pipeSize(-1); got != 0 {
		t.Errorf("pipeSize(-1): got %d, want 0", got)
	}
	if got := setPipeSize(-1, 1<<20); got != 0 {
		t.Errorf("setPipeSize(-1): got %d, want 0", got)
	}
	var st unix.Stat_t
	if err := unix.Fstat(s.fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		t.Errorf("source descriptor is not the pipe: %v", err)
	}
}

// TestFullTmpfs fills a real file system: the failure is reported once,
// the file holds only whole lines, the ring keeps every line, and once
// there is space again a marker says what the file did not get.
func TestFullTmpfs(t *testing.T) {
	dir := testfs.Tmpfs(t, "64k")
	filler := filepath.Join(dir, "filler")
	if err := os.WriteFile(filler, make([]byte, 24<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	states := &fileStates{}
	l := open(t, Options{Dir: dir, Ring: 2000, OnFile: states.add})
	if err := l.Capture(strings.NewReader(numbered(0, 1000)), Stdout); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Capture on a full file system: got %v, want ENOSPC", err)
	}
	if err := l.Capture(strings.NewReader(numbered(1000, 1100)), Stdout); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Capture on a full file system: got %v, want ENOSPC", err)
	}
	if n := len(l.Tail(2000)); n != 1100 {
		t.Errorf("Tail: got %d lines, want 1100", n)
	}
	kept := fileTexts(t, l.Path())
	if want := strings.Split(numbered(0, len(kept)), "\n"); len(kept) == 0 || !equal(kept, want[:len(kept)]) {
		t.Errorf("file during the outage: got %d lines ending %q, want the first lines of the output", len(kept), short(kept[max(len(kept)-2, 0):]))
	}
	got := states.get()
	if len(got) != 1 || !errors.Is(got[0].Err, syscall.ENOSPC) {
		t.Errorf("OnFile heard %+v, want one ENOSPC", got)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if err := l.Capture(strings.NewReader(numbered(1100, 1110)), Stdout); err != nil {
		t.Fatalf("Capture once there is space: %v", err)
	}
	dropped := 1100 - len(kept)
	want := append(kept, fmt.Sprintf("[steward] %d lines (%d bytes) of output since 2024-05-01T12:00:00.123Z were not written to this file: write %s: no space left on device", dropped, dropped*lineBytes, l.Path()))
	want = append(want, strings.Split(strings.TrimSuffix(numbered(1100, 1110), "\n"), "\n")...)
	if got := fileTexts(t, l.Path()); !equal(got, want) { // fileTexts fails on a line glued to another
		t.Errorf("file: got %d lines, want %d; last: %q, want %q", len(got), len(want), short(got[max(len(got)-12, 0):]), short(want[len(want)-12:]))
	}
	got = states.get()
	if want := (FileState{Since: t0, Lines: int64(dropped), Bytes: int64(dropped * lineBytes)}); len(got) != 2 || got[1] != want {
		t.Errorf("OnFile heard %+v, want ENOSPC and then %+v", got, want)
	}
}
