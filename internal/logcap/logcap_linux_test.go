package logcap

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
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
