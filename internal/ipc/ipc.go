// Package ipc provides the listeners steward serves its API on — a Unix
// socket or a Windows named pipe, owned by steward and restricted to its
// user and an optional group, and an optional TCP listener that refuses a
// non-loopback address without TLS, each keeping a bounded number of
// connections open — and the dialer clients reach the local endpoint with. It is imported by the daemon wiring, the api package (for
// peer credentials) and the client.
package ipc

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/netip"

	"github.com/stewardhq/steward"
)

// ListenTCP listens on the TCP address addr, serving TLS when tlsConf is
// not nil, and keeps at most MaxConns connections open (see LimitConns).
// Without TLS it refuses any address but a loopback IP address or
// "localhost", so a token never crosses a network in clear text.
func ListenTCP(addr string, tlsConf *tls.Config) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, steward.Wrap(steward.EINVALID, err, "api.listen %q", addr)
	}
	if tlsConf == nil && !loopbackHost(host) {
		return nil, errNeedsTLS(addr)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	l = LimitConns(l, connBudget()) // under TLS, so http.Server sees a *tls.Conn
	if tlsConf != nil {
		l = tls.NewListener(l, tlsConf)
	}
	return l, nil
}

func errNeedsTLS(addr string) error {
	return steward.Errorf(steward.EINVALID,
		"refusing to listen on %s without TLS: an api.listen other than a loopback address needs api.tls (auto, or cert and key)", addr)
}

// loopbackHost reports whether host is "localhost" or a loopback IP
// address. Any other name may resolve to anything; "" is every interface.
func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}
