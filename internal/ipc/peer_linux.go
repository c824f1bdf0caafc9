package ipc

import (
	"net"
	"os/user"
	"strconv"

	"golang.org/x/sys/unix"
)

// PeerUser names the user on the other end of c, a connection accepted on
// the local endpoint, as "UID:NAME" (just "UID" when the name is unknown)
// from the socket's peer credentials. It returns "local" when c carries none.
func PeerUser(c net.Conn) string {
	uc, ok := unwrap(c).(*net.UnixConn)
	if !ok {
		return "local"
	}
	var (
		cred *unix.Ucred
		cerr error
	)
	raw, err := uc.SyscallConn()
	if err == nil {
		err = raw.Control(func(fd uintptr) {
			cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
		})
	}
	if err != nil || cerr != nil {
		return "local"
	}
	uid := strconv.FormatUint(uint64(cred.Uid), 10)
	if u, err := user.LookupId(uid); err == nil && u.Username != "" {
		return uid + ":" + u.Username
	}
	return uid
}

// unwrap returns the connection under the wrappers of this package and of
// crypto/tls.
func unwrap(c net.Conn) net.Conn {
	for {
		u, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			return c
		}
		c = u.NetConn()
	}
}
