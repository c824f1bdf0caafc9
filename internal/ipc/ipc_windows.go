package ipc

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"strings"
	"time"

	"github.com/Microsoft/go-winio"
	"golang.org/x/sys/windows"

	"github.com/stewardhq/steward"
)

// pipePrefix starts the name of every local named pipe.
const pipePrefix = `\\.\pipe\`

// probeTimeout bounds the check whether a steward answers on a pipe.
const probeTimeout = time.Second

// Listen listens on the local API endpoint at address: a named pipe here,
// keeping at most MaxConns connections open (see LimitConns).
func Listen(address, group string) (net.Listener, error) {
	l, err := ListenPipe(address, group)
	if err != nil {
		return nil, err
	}
	return LimitConns(l, connBudget()), nil
}

// openFileLimit returns 0: Windows has no per-process handle limit that
// steward could come near.
func openFileLimit() int { return 0 }

// PipeName returns name as a full pipe path: a bare name gets the
// \\.\pipe\ prefix.
func PipeName(name string) string {
	if strings.HasPrefix(name, `\\`) {
		return name
	}
	return pipePrefix + name
}

// ListenPipe listens on the named pipe name (\\.\pipe\NAME or a bare NAME).
// Only Administrators, SYSTEM, the user steward runs as and, when group is
// not "", the members of group may connect. A pipe on which a steward
// already answers is an error.
func ListenPipe(name, group string) (net.Listener, error) {
	path := PipeName(name)
	sddl, err := pipeSDDL(group)
	if err != nil {
		return nil, err
	}
	if c, err := winio.DialPipe(path, ptr(probeTimeout)); err == nil {
		c.Close()
		return nil, steward.Errorf(steward.ECONFLICT, "steward is already running on %s", path)
	}
	l, err := winio.ListenPipe(path, &winio.PipeConfig{SecurityDescriptor: sddl})
	if errors.Is(err, windows.ERROR_ACCESS_DENIED) || errors.Is(err, windows.ERROR_PIPE_BUSY) {
		return nil, steward.Errorf(steward.ECONFLICT, "steward is already running on %s", path)
	}
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	useUpFirstInstance(path)
	return l, nil
}

// useUpFirstInstance opens and closes the pipe once. go-winio creates the
// first instance of a pipe without read or write access, so that Windows
// keeps clients waiting until Accept creates a usable instance; Wine and
// Windows 7 let a client connect to that first instance instead, and its
// reads and writes then hang forever (go-winio issues 173 and 313). Opening
// it here uses it up. Where the first instance refuses clients, as on
// Windows 10 and later, the open fails with ERROR_PIPE_BUSY and nothing
// happens.
func useUpFirstInstance(path string) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return
	}
	h, err := windows.CreateFile(p, 0, 0, nil, windows.OPEN_EXISTING,
		windows.SECURITY_SQOS_PRESENT|windows.SECURITY_ANONYMOUS, 0)
	if err == nil {
		windows.CloseHandle(h)
	}
}

// pipeSDDL is the security descriptor of the pipe: full access for
// SYSTEM, Administrators and the current user, read and write for group.
func pipeSDDL(group string) (string, error) {
	var b strings.Builder
	b.WriteString("D:P(A;;GA;;;SY)(A;;GA;;;BA)")
	if tu, err := windows.GetCurrentProcessToken().GetTokenUser(); err == nil {
		fmt.Fprintf(&b, "(A;;GA;;;%s)", tu.User.Sid.String())
	}
	if group != "" {
		sid, _, _, err := windows.LookupSID("", group)
		if err != nil {
			return "", steward.Wrap(steward.EINVALID, err, "socket group %q", group)
		}
		fmt.Fprintf(&b, "(A;;GRGW;;;%s)", sid.String())
	}
	return b.String(), nil
}

func ptr[T any](v T) *T { return &v }

// Dial connects to the local API endpoint at address, a named pipe. When
// steward is not running it returns an *steward.Error with code
// EUNAVAILABLE that says so.
func Dial(ctx context.Context, address string) (net.Conn, error) {
	path := PipeName(address)
	c, err := winio.DialPipeContext(ctx, path)
	switch {
	case err == nil:
		return c, nil
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, windows.ERROR_FILE_NOT_FOUND):
		return nil, steward.Errorf(steward.EUNAVAILABLE, "steward is not running (no pipe at %s)", path)
	case errors.Is(err, fs.ErrPermission), errors.Is(err, windows.ERROR_ACCESS_DENIED):
		return nil, steward.Errorf(steward.EFORBIDDEN, "permission denied on %s: run as an administrator or join steward's socket group", path)
	}
	return nil, fmt.Errorf("connect to steward at %s: %w", path, err)
}

// ListenUnix is not available here: steward serves a named pipe on windows.
func ListenUnix(path, group string) (net.Listener, error) {
	return nil, fmt.Errorf("listen on socket %s: steward uses a named pipe on windows: %w", path, errors.ErrUnsupported)
}
