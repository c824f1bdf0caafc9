//go:build unix

package ipc_test

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/ipc"
)

// shortDir returns a temporary directory with a path short enough for
// Unix sockets.
func shortDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "ipc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func TestListenUnixOwnerOnly(t *testing.T) {
	dir := shortDir(t)
	path := filepath.Join(dir, "run", "steward.sock")
	l, err := ipc.Listen(path, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Addr().String(); got != path {
		t.Errorf("Addr = %q, want %q", got, path)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&fs.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode = %v, want a socket 0600", fi.Mode())
	}
	di, err := os.Stat(filepath.Dir(path))
	if err != nil || di.Mode().Perm() != 0o750 {
		t.Errorf("directory mode = %v, %v, want 0750", di.Mode(), err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want the socket only", len(entries))
	}

	go func() {
		c, err := l.Accept()
		if err == nil {
			c.Write([]byte("hi"))
			c.Close()
		}
	}()
	c, err := ipc.Dial(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2)
	if _, err := c.Read(buf); err != nil || string(buf) != "hi" {
		t.Errorf("read %q, %v", buf, err)
	}
	c.Close()

	// A second steward on the same path is refused.
	_, err = ipc.ListenUnix(path, "")
	wantCode(t, err, steward.ECONFLICT)
	if !strings.Contains(err.Error(), "steward is already running on "+path) {
		t.Errorf("error = %q", err)
	}

	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("socket file left after Close: %v", err)
	}
	_, err = ipc.Dial(context.Background(), path)
	wantCode(t, err, steward.EUNAVAILABLE)
	if want := "steward is not running (no socket at " + path + ")"; err.Error() != want {
		t.Errorf("Dial error = %q, want %q", err, want)
	}
}

func TestListenUnixGroup(t *testing.T) {
	dir := shortDir(t)
	path := filepath.Join(dir, "run", "steward.sock")
	gid := os.Getgid()
	g, err := user.LookupGroupId(strconv.Itoa(gid))
	if err != nil {
		t.Skipf("no name for gid %d: %v", gid, err)
	}
	for _, group := range []string{g.Name, strconv.Itoa(gid)} {
		l, err := ipc.ListenUnix(path, group)
		if err != nil {
			t.Fatalf("group %q: %v", group, err)
		}
		fi, err := os.Lstat(path)
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if fi.Mode().Perm() != 0o660 || int(st.Gid) != gid {
			t.Errorf("group %q: socket mode %v gid %d, want 0660 gid %d", group, fi.Mode().Perm(), st.Gid, gid)
		}
		l.Close()
	}
	_, err = ipc.ListenUnix(filepath.Join(dir, "x.sock"), "no-such-group-stw")
	wantCode(t, err, steward.EINVALID)
}

func TestListenUnixStale(t *testing.T) {
	dir := shortDir(t)
	path := filepath.Join(dir, "steward.sock")
	// A socket left by a steward that was killed: nothing answers.
	ul, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ul.SetUnlinkOnClose(false)
	ul.Close()
	_, err = ipc.Dial(context.Background(), path)
	wantCode(t, err, steward.EUNAVAILABLE)
	if want := "steward is not running (nothing answers on " + path + ")"; err.Error() != want {
		t.Errorf("Dial error = %q, want %q", err, want)
	}

	l, err := ipc.ListenUnix(path, "")
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	// A socket file replaced by someone else is not removed by Close.
	os.Remove(path)
	other, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	l.Close()
	if _, err := os.Lstat(path); err != nil {
		t.Errorf("Close removed another listener's socket: %v", err)
	}
}

func TestListenUnixNotASocket(t *testing.T) {
	dir := shortDir(t)
	path := filepath.Join(dir, "steward.sock")
	os.WriteFile(path, []byte("x"), 0o600)
	_, err := ipc.ListenUnix(path, "")
	wantCode(t, err, steward.ECONFLICT)
	if !strings.Contains(err.Error(), "is not a socket") {
		t.Errorf("error = %q", err)
	}
	// A file where the directory should be.
	if _, err := ipc.ListenUnix(filepath.Join(path, "s.sock"), ""); err == nil {
		t.Errorf("listening under a file succeeded")
	}
	if _, err := ipc.ListenUnix(filepath.Join(path, "sub", "s.sock"), ""); err == nil {
		t.Errorf("listening under a file succeeded")
	}
	// A path too long for a socket.
	_, err = ipc.ListenUnix(filepath.Join(dir, strings.Repeat("x", 120)), "")
	wantCode(t, err, steward.EINVALID)
}

func TestDialOtherErrors(t *testing.T) {
	dir := shortDir(t)
	path := filepath.Join(dir, "file")
	os.WriteFile(path, nil, 0o600)
	_, err := ipc.Dial(context.Background(), path)
	wantCode(t, err, steward.EUNAVAILABLE)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ipc.Dial(ctx, path); err == nil || steward.ErrorCode(err) != steward.EINTERNAL {
		t.Errorf("Dial(canceled) = %v", err)
	}
	if os.Getuid() != 0 {
		l, err := ipc.ListenUnix(filepath.Join(dir, "s.sock"), "")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		os.Chmod(filepath.Join(dir, "s.sock"), 0)
		_, err = ipc.Dial(context.Background(), filepath.Join(dir, "s.sock"))
		wantCode(t, err, steward.EFORBIDDEN)
	}
}

func TestListenPipeUnsupported(t *testing.T) {
	_, err := ipc.ListenPipe("steward", "")
	if !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("ListenPipe = %v, want ErrUnsupported", err)
	}
}

// Other users, run as a copy of this test binary under another uid.

// TestMain runs the helper when the environment asks for it.
func TestMain(m *testing.M) {
	if path := os.Getenv("STW_IPC_DIAL"); path != "" {
		c, err := ipc.Dial(context.Background(), path)
		if err != nil {
			os.Stdout.WriteString(steward.ErrorCode(err))
			os.Exit(0)
		}
		c.Close()
		os.Stdout.WriteString("ok")
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// dialAs dials path from a process running as uid and gid, and returns
// "ok" or the error code.
func dialAs(t *testing.T, bin, path string, uid, gid uint32) string {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "STW_IPC_DIAL="+path)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: gid}}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("run helper as %d:%d: %v", uid, gid, err)
	}
	return string(out)
}

// TestOtherUsers checks who may connect: only the owner without a group;
// the group's members, not others, with one. It needs root to run
// processes as other users.
func TestOtherUsers(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to run as other users")
	}
	grp, err := user.LookupGroupId("65534")
	if err != nil {
		t.Skip("no group 65534")
	}
	dir := shortDir(t)
	os.Chmod(dir, 0o755)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "helper")
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}

	private := filepath.Join(dir, "private", "s.sock")
	l, err := ipc.ListenUnix(private, "")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if got := dialAs(t, bin, private, 12345, 12345); got != steward.EFORBIDDEN {
		t.Errorf("another user on an owner-only socket: %q, want %q", got, steward.EFORBIDDEN)
	}

	shared := filepath.Join(dir, "shared", "s.sock")
	gl, err := ipc.ListenUnix(shared, grp.Name)
	if err != nil {
		t.Fatal(err)
	}
	defer gl.Close()
	who := make(chan string, 1)
	go func() {
		c, err := gl.Accept()
		if err != nil {
			return
		}
		who <- ipc.PeerUser(c)
		c.Close()
	}()
	if got := dialAs(t, bin, shared, 12345, 65534); got != "ok" {
		t.Errorf("a member of the socket group: %q, want ok", got)
	}
	// A uid with no name is named by its number.
	if got := <-who; runtime.GOOS == "linux" && got != "12345" {
		t.Errorf("PeerUser = %q, want 12345", got)
	}
	if got := dialAs(t, bin, shared, 12345, 12345); got != steward.EFORBIDDEN {
		t.Errorf("a user outside the socket group: %q, want %q", got, steward.EFORBIDDEN)
	}
}
