package supervise

import (
	"errors"
	"io/fs"
	"os/exec"
	"os/user"
	"strconv"
	"syscall"
)

// finalStartError reports whether err, from starting an instance of a
// service, is one that trying again cannot cure: the program is missing,
// not executable or not a program; the working directory or env_file is
// missing or not accessible; the user or group is unknown or invalid; or
// the OS cannot do what the service asks. Every other start error — out
// of descriptors, processes or memory, a busy executable, an interrupted
// call, anything not known to be final — counts as a failed run under the
// restart policy, as a crash does.
func finalStartError(err error) bool {
	for _, transient := range [...]error{syscall.EMFILE, syscall.ENFILE, syscall.EAGAIN, syscall.ENOMEM, syscall.ETXTBSY, syscall.EINTR} {
		if errors.Is(err, transient) {
			return false
		}
	}
	for _, final := range [...]error{
		fs.ErrNotExist, fs.ErrPermission, exec.ErrNotFound, exec.ErrDot, errors.ErrUnsupported,
		syscall.ENOEXEC, syscall.ENOTDIR, syscall.ELOOP, syscall.ENAMETOOLONG,
	} {
		if errors.Is(err, final) {
			return true
		}
	}
	return errors.As(err, new(user.UnknownUserError)) || errors.As(err, new(user.UnknownUserIdError)) ||
		errors.As(err, new(user.UnknownGroupError)) || errors.As(err, new(user.UnknownGroupIdError)) ||
		errors.As(err, new(*strconv.NumError))
}
