package supervise

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// notifySocket is the NOTIFY_SOCKET of one instance: an abstract unixgram
// socket, so nothing is left in the file system, that takes only datagrams
// whose kernel-attested sender (SO_PASSCRED) is a process of the
// instance's tree.
type notifySocket struct {
	conn *net.UnixConn
	addr string
}

// openNotify opens the NOTIFY_SOCKET of the service's instance n.
func (s *service) openNotify(n int) (*notifySocket, error) {
	addr := "@" + s.sup.opts.Tag + "/" + s.name + "/" + strconv.Itoa(n) + "/notify"
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		return nil, fmt.Errorf("notify socket: %w", err)
	}
	raw, err := conn.SyscallConn()
	if err == nil {
		cerr := raw.Control(func(fd uintptr) {
			err = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_PASSCRED, 1)
		})
		err = errors.Join(err, cerr)
	}
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("notify socket: SO_PASSCRED: %w", err)
	}
	return &notifySocket{conn: conn, addr: addr}, nil
}

// Env is the NOTIFY_SOCKET entry of the child's environment.
func (ns *notifySocket) Env() string { return "NOTIFY_SOCKET=" + ns.addr }

// Close closes the socket; serve then returns.
func (ns *notifySocket) Close() error { return ns.conn.Close() }

// serve reads datagrams until the socket is closed and sends those of a
// process in the tree of main to out, as messages of instance n.
func (ns *notifySocket) serve(ctx context.Context, n, main int, out chan<- notifyMsg, warn func(msg string, args ...any)) {
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(unix.SizeofUcred))
	for {
		nb, noob, _, _, err := ns.conn.ReadMsgUnix(buf, oob)
		if err != nil {
			return
		}
		pid, ok := senderPID(oob[:noob])
		if !ok {
			warn("notify message without credentials dropped")
			continue
		}
		if !inTree(pid, main) {
			warn("notify message from a process outside the service's tree dropped", "pid", pid)
			continue
		}
		select {
		case out <- notifyMsg{inst: n, fields: parseNotify(buf[:nb])}:
		case <-ctx.Done():
			return
		}
	}
}

// senderPID returns the pid of the SCM_CREDENTIALS of a datagram.
func senderPID(oob []byte) (int, bool) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return 0, false
	}
	for _, m := range msgs {
		if cred, err := unix.ParseUnixCredentials(&m); err == nil {
			return int(cred.Pid), true
		}
	}
	return 0, false
}

// inTree reports whether pid is main or a descendant of it, following
// parent links in /proc; a process that is gone, or was reparented away
// from main, is not.
func inTree(pid, main int) bool {
	for range 64 {
		if pid == main {
			return true
		}
		if pid <= 1 {
			return false
		}
		data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return false
		}
		// The command name may hold spaces and parentheses: skip past the last ')'.
		rest := string(data[strings.LastIndexByte(string(data), ')')+1:])
		f := strings.Fields(rest)
		if len(f) < 2 {
			return false
		}
		if pid, err = strconv.Atoi(f[1]); err != nil {
			return false
		}
	}
	return false
}
