//go:build unix

package logcap

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// fileSource reads a descriptor of its own in non-blocking mode, outside the
// runtime's poller. A descriptor registered with the poller (as os.Pipe's
// are) makes every write of the child wake the poller's thread, even while
// the reader pauses: that is what makes a reader of many small writes slow.
// Only to wait for an idle stream does fileSource register, briefly, a
// duplicate with the poller, so an idle stream holds no thread.
type fileSource struct {
	fd       int
	pipe     int // pipe buffer size; 0 = not a pipe
	base     int // pipe buffer size before grow
	blocking bool
}

// newSource returns the source for r. An *os.File is closed and replaced by
// a duplicate of its descriptor.
func newSource(r io.Reader) (source, error) {
	f, ok := r.(*os.File)
	if !ok {
		return readerSource{r}, nil
	}
	sc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	fd := -1
	var derr error
	cerr := sc.Control(func(u uintptr) {
		fd, derr = unix.FcntlInt(u, unix.F_DUPFD_CLOEXEC, 0)
	})
	f.Close()
	if err := errors.Join(cerr, derr); err != nil {
		return nil, fmt.Errorf("duplicate descriptor: %w", err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("set non-blocking: %w", err)
	}
	s := &fileSource{fd: fd}
	var st unix.Stat_t
	if unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFIFO {
		s.pipe = pipeSize(fd)
		s.base = s.pipe
	}
	return s, nil
}

func (s *fileSource) read(p []byte) (int, error) {
	for {
		n, err := unix.Read(s.fd, p)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return 0, errAgain
		case err != nil:
			return 0, err
		case n == 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

// wait registers a duplicate of the descriptor with the runtime's poller
// and parks until it is readable (or at end of file). Registering checks
// readiness, so data that came after the last read is not missed.
func (s *fileSource) wait() error {
	if s.blocking {
		return nil
	}
	fd, err := unix.FcntlInt(uintptr(s.fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("duplicate descriptor: %w", err)
	}
	f := os.NewFile(uintptr(fd), "logcap")
	sc, err := f.SyscallConn()
	if err == nil {
		first := true // the first call is before waiting
		err = sc.Read(func(uintptr) bool {
			if first {
				first = false
				return false
			}
			return true
		})
	}
	f.Close()
	if err != nil {
		// Not pollable after all: read blocking from now on.
		s.blocking = true
		if err := unix.SetNonblock(s.fd, false); err != nil {
			return fmt.Errorf("set blocking: %w", err)
		}
	}
	return nil
}

func (s *fileSource) capacity() int { return s.pipe }

func (s *fileSource) grow() int {
	if s.pipe > 0 && s.pipe < grownPipe {
		if n := setPipeSize(s.fd, grownPipe); n > 0 {
			s.pipe = n
		}
	}
	return s.pipe
}

func (s *fileSource) shrink() {
	if s.pipe > s.base {
		if n := setPipeSize(s.fd, s.base); n > 0 {
			s.pipe = n
		}
	}
}

func (s *fileSource) close() error { return unix.Close(s.fd) }
