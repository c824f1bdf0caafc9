//go:build unix

package ipc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/stewardhq/steward"
)

// staleProbeTimeout bounds the check whether a steward answers on an
// existing socket file.
const staleProbeTimeout = time.Second

// Listen listens on the local API endpoint at address: a Unix socket here,
// keeping at most MaxConns connections open (see LimitConns).
func Listen(address, group string) (net.Listener, error) {
	l, err := ListenUnix(address, group)
	if err != nil {
		return nil, err
	}
	return LimitConns(l, connBudget()), nil
}

// openFileLimit returns the soft RLIMIT_NOFILE, or 0 when unknown. Go's
// runtime has raised it to the hard limit at start, and gives the children
// steward starts the soft limit it found (go.dev/issue/46279); a call of
// syscall.Setrlimit on RLIMIT_NOFILE would end that restoring.
func openFileLimit() int {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) != nil {
		return 0
	}
	return int(min(lim.Cur, math.MaxInt32))
}

// ListenUnix listens on a Unix socket at path, created 0600, or 0660 owned
// by group when group is not "". The directory is created 0750 when
// missing (group-owned when group is set). A socket file left by a steward
// that is gone is replaced; one that answers is an error. The socket gets
// its permissions before it appears at path, so no one connects early.
// Closing the listener removes the socket file.
func ListenUnix(path, group string) (net.Listener, error) {
	if limit := len(syscall.RawSockaddrUnix{}.Path); len(path) >= limit {
		return nil, steward.Errorf(steward.EINVALID, "socket path %s is %d bytes long, more than the %d this OS allows", path, len(path), limit-1)
	}
	gid := -1
	if group != "" {
		var err error
		if gid, err = lookupGroup(group); err != nil {
			return nil, err
		}
	}
	dir := filepath.Dir(path)
	if err := makeDir(dir, gid); err != nil {
		return nil, err
	}
	if err := removeStale(path); err != nil {
		return nil, err
	}

	// Bind under a private name, set owner and mode, then move into place.
	var rnd [4]byte
	rand.Read(rnd[:])
	tmp := filepath.Join(dir, ".stw"+hex.EncodeToString(rnd[:]))
	ul, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmp, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	ul.SetUnlinkOnClose(false)
	fi, err := place(tmp, path, gid)
	if err != nil {
		ul.Close()
		os.Remove(tmp)
		return nil, err
	}
	return &unixListener{UnixListener: ul, path: path, file: fi}, nil
}

// place gives the socket file tmp its group and mode, then moves it to path.
func place(tmp, path string, gid int) (fs.FileInfo, error) {
	var err error
	mode := os.FileMode(0o600)
	if gid >= 0 {
		mode = 0o660
		err = os.Chown(tmp, -1, gid)
	}
	if err == nil {
		err = os.Chmod(tmp, mode)
	}
	var fi fs.FileInfo
	if err == nil {
		fi, err = os.Lstat(tmp)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return nil, fmt.Errorf("set up socket %s: %w", path, err)
	}
	return fi, nil
}

// unixListener is a Unix socket listener that reports and removes the path
// it was moved to, not the one it was bound to.
type unixListener struct {
	*net.UnixListener
	path string
	file fs.FileInfo
	once sync.Once
}

func (l *unixListener) Addr() net.Addr { return &net.UnixAddr{Name: l.path, Net: "unix"} }

// Close stops listening and removes the socket file, unless another
// listener has replaced it since.
func (l *unixListener) Close() error {
	err := l.UnixListener.Close()
	l.once.Do(func() {
		if fi, err := os.Lstat(l.path); err == nil && os.SameFile(fi, l.file) {
			os.Remove(l.path)
		}
	})
	return err
}

// makeDir creates dir 0750 (group gid when gid >= 0) if it does not exist.
func makeDir(dir string, gid int) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	err := os.MkdirAll(dir, 0o750)
	if err == nil {
		err = os.Chmod(dir, 0o750) // whatever the umask
	}
	if err == nil && gid >= 0 {
		err = os.Chown(dir, -1, gid)
	}
	if err != nil {
		return fmt.Errorf("create socket directory: %w", err)
	}
	return nil
}

// removeStale removes a socket file at path that nothing answers on.
func removeStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("check socket %s: %w", path, err)
	}
	if fi.Mode()&fs.ModeSocket == 0 {
		return steward.Errorf(steward.ECONFLICT, "%s exists and is not a socket", path)
	}
	c, err := net.DialTimeout("unix", path, staleProbeTimeout)
	if err == nil {
		c.Close()
		return steward.Errorf(steward.ECONFLICT, "steward is already running on %s", path)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("check socket %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove stale socket %s: %w", path, err)
	}
	return nil
}

// lookupGroup returns the gid of the group named (or numbered) group.
func lookupGroup(group string) (int, error) {
	g, err := user.LookupGroup(group)
	if err != nil {
		var err2 error
		if g, err2 = user.LookupGroupId(group); err2 != nil {
			return -1, steward.Errorf(steward.EINVALID, "socket group %q: no such group", group)
		}
	}
	gid, err := strconv.Atoi(g.Gid)
	if err != nil {
		return -1, steward.Errorf(steward.EINVALID, "socket group %q: gid %q is not a number", group, g.Gid)
	}
	return gid, nil
}

// Dial connects to the local API endpoint at address, a Unix socket path.
// When steward is not running it returns an *steward.Error with code
// EUNAVAILABLE that says so.
func Dial(ctx context.Context, address string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", address)
	switch {
	case err == nil:
		return c, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, steward.Errorf(steward.EUNAVAILABLE, "steward is not running (no socket at %s)", address)
	case errors.Is(err, syscall.ECONNREFUSED):
		return nil, steward.Errorf(steward.EUNAVAILABLE, "steward is not running (nothing answers on %s)", address)
	case errors.Is(err, fs.ErrPermission):
		return nil, steward.Errorf(steward.EFORBIDDEN, "permission denied on %s: run as the user steward runs as, or join its socket group", address)
	}
	return nil, fmt.Errorf("connect to steward at %s: %w", address, err)
}

// ListenPipe is not available here: named pipes are a Windows thing.
func ListenPipe(name, group string) (net.Listener, error) {
	return nil, fmt.Errorf("listen on pipe %s: named pipes need windows: %w", name, errors.ErrUnsupported)
}
