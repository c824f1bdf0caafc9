package logcap

import (
	"os"

	"golang.org/x/sys/unix"
)

// grownPipe is the pipe buffer size GrowPipe and a busy Capture ask for:
// the default limit for unprivileged users (/proc/sys/fs/pipe-max-size).
const grownPipe = 1 << 20

// GrowPipe enlarges the buffer of pipe f (either end) to 1 MiB, best
// effort, so that a child writing fast is not held up while Capture batches
// its reads. Capture enlarges a pipe itself once its stream is busy and
// gives the memory back when it has been idle for a while, so calling
// GrowPipe is optional; a pipe it enlarged stays so. Pipe buffers count
// against the per-user limit /proc/sys/fs/pipe-user-pages-soft (64 MiB by
// default, which does not apply to root): past it, new pipes of the user get
// 8 KiB. GrowPipe does nothing on other systems.
func GrowPipe(f *os.File) {
	sc, err := f.SyscallConn()
	if err != nil {
		return
	}
	sc.Control(func(fd uintptr) {
		unix.FcntlInt(fd, unix.F_SETPIPE_SZ, grownPipe)
	})
}

// pipeSize returns the buffer size of pipe fd.
func pipeSize(fd int) int {
	n, err := unix.FcntlInt(uintptr(fd), unix.F_GETPIPE_SZ, 0)
	if err != nil {
		return 0
	}
	return n
}

// setPipeSize sets the buffer size of pipe fd and returns the size set, 0
// if it could not.
func setPipeSize(fd, size int) int {
	n, err := unix.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, size)
	if err != nil {
		return 0
	}
	return n
}
