//go:build unix

package logcap

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// fileSource reads a descriptor of its own in non-blocking mode, outside the
// runtime's poller: a descriptor registered with the poller (as os.Pipe's
// are) makes every write of the child wake the poller's thread, even while
// the reader pauses, which is what makes a reader of many small writes slow.
//
// A pipe that has ever been polled (os.Pipe's are at once) also costs every
// later write of the child a wake-up call in the kernel, about a third more
// for a small write. So when a stream goes quiet, fileSource first looks
// again every few milliseconds, for up to quietWindow, and only then waits
// in the runtime's poller, on a duplicate registered for the wait, which
// holds no thread. A pipe from Pipe therefore stays unpolled as long as its
// child never pauses for long. A pipe already polled waits in the poller at
// once, and so does one read faster than half a pipe a millisecond, which
// would fill up while fileSource slept (that takes large writes, for which
// the wake-up call costs little).
type fileSource struct {
	fd     int
	polled bool // the pipe has been polled: wait in the runtime's poller
	pipe   int  // pipe buffer size; 0 = not a pipe
	base   int  // pipe buffer size before grow
	early  []byte
	small  [512]byte // what a wait read
}

const (
	// quietWindow is how long a stream on an unpolled pipe may be quiet
	// before Capture waits for it in the runtime's poller.
	quietWindow = 100 * time.Millisecond
	// quietStart is how long the looks are 1 ms apart; then they are
	// maxQuietStep apart, which bounds the latency of a line that ends a
	// quiet spell.
	quietStart   = 10 * time.Millisecond
	maxQuietStep = 8 * time.Millisecond
)

// Pipe returns a pipe for a child's output that, unlike os.Pipe's, is not
// registered with the runtime's poller, which keeps the child's writes
// cheapest while Capture reads it (see fileSource). Both ends are
// close-on-exec and in blocking mode.
func Pipe() (r, w *os.File, err error) {
	var p [2]int
	syscall.ForkLock.RLock()
	err = syscall.Pipe(p[:])
	if err == nil {
		syscall.CloseOnExec(p[0])
		syscall.CloseOnExec(p[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return nil, nil, fmt.Errorf("logcap: pipe: %w", err)
	}
	return os.NewFile(uintptr(p[0]), "|0"), os.NewFile(uintptr(p[1]), "|1"), nil
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
	fd, flags := -1, 0
	var derr, ferr error
	cerr := sc.Control(func(u uintptr) {
		flags, ferr = unix.FcntlInt(u, unix.F_GETFL, 0)
		fd, derr = unix.FcntlInt(u, unix.F_DUPFD_CLOEXEC, 0)
	})
	f.Close()
	if err := errors.Join(cerr, ferr, derr); err != nil {
		if fd >= 0 {
			unix.Close(fd)
		}
		return nil, fmt.Errorf("duplicate descriptor: %w", err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("set non-blocking: %w", err)
	}
	s := &fileSource{fd: fd, polled: flags&unix.O_NONBLOCK != 0}
	var st unix.Stat_t
	if unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFIFO {
		s.pipe = pipeSize(fd)
		s.base = s.pipe
	}
	return s, nil
}

func (s *fileSource) read(p []byte) (int, error) {
	if len(s.early) > 0 {
		n := copy(p, s.early)
		s.early = s.early[n:]
		return n, nil
	}
	return readFD(s.fd, p)
}

// readFD reads fd: io.EOF at end of file, errAgain when nothing is there.
func readFD(fd int, p []byte) (int, error) {
	for {
		n, err := unix.Read(fd, p)
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

// wait returns once read has something to return.
func (s *fileSource) wait(fast bool) error {
	if !s.polled && !fast {
		start := time.Now()
		for elapsed := time.Duration(0); elapsed < quietWindow; elapsed = time.Since(start) {
			step := time.Millisecond
			if elapsed >= quietStart {
				step = maxQuietStep
			}
			time.Sleep(step)
			if ok, err := s.peek(); ok || err != nil {
				return err
			}
		}
	}
	if !fast {
		// Idle: give back the memory of an enlarged pipe.
		s.shrink()
	}
	s.polled = true // from now on
	fd, err := unix.FcntlInt(uintptr(s.fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("duplicate descriptor: %w", err)
	}
	f := os.NewFile(uintptr(fd), "logcap")
	sc, err := f.SyscallConn()
	if err == nil {
		waited := false
		err = sc.Read(func(fd uintptr) bool {
			// The poller forgets readiness it saw before this first
			// call, so look before waiting.
			if waited {
				return true
			}
			waited = true
			return readable(int(fd))
		})
	}
	f.Close()
	if err != nil {
		// Not pollable after all: a blocking read then.
		if err := unix.SetNonblock(s.fd, false); err != nil {
			return fmt.Errorf("set blocking: %w", err)
		}
		defer unix.SetNonblock(s.fd, true)
		_, err := s.peek()
		return err
	}
	return nil
}

// peek reads a little, which read returns first; it reports whether read
// has something to return.
func (s *fileSource) peek() (bool, error) {
	n, err := readFD(s.fd, s.small[:])
	switch {
	case err == errAgain:
		return false, nil
	case err == io.EOF:
		return true, nil // read reports it again
	case err != nil:
		return true, err
	}
	s.early = s.small[:n]
	return true, nil
}

// readable reports whether a read of fd would not block.
func readable(fd int) bool {
	p := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	n, err := unix.Poll(p, 0)
	return err != nil || n > 0
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
