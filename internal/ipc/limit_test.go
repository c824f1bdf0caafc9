package ipc_test

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/ipc"
	"github.com/stewardhq/steward/internal/testwait"
)

// limited listens on loopback with a cap of n and returns the listener and
// a func that dials it and returns the client end and the server end.
func limited(t *testing.T, n int) (net.Listener, func() (client, server net.Conn)) {
	t.Helper()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := ipc.LimitConns(raw, n)
	t.Cleanup(func() { l.Close() })
	accepted := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	return l, func() (net.Conn, net.Conn) {
		t.Helper()
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		select {
		case s := <-accepted:
			t.Cleanup(func() { s.Close() })
			return c, s
		case <-time.After(5 * time.Second):
			t.Fatal("no connection accepted")
			return nil, nil
		}
	}
}

// closedByServer reports whether the server closed c: a read ends at once
// with an error other than its deadline's (EOF, or a reset).
func closedByServer(t *testing.T, c net.Conn) bool {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	_, err := c.Read(make([]byte, 1))
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

// busy marks the server end s as serving a request, authenticated or not.
func busy(t *testing.T, s net.Conn, authenticated bool) {
	t.Helper()
	t.Cleanup(ipc.Busy(ipc.ConnContext(context.Background(), s), authenticated))
}

func TestLimitConnsClosesTheLongestIdle(t *testing.T) {
	_, dial := limited(t, 2)
	older, _ := dial()
	newer, _ := dial()
	third, _ := dial() // full: the longest idle goes
	if !closedByServer(t, older) {
		t.Error("the oldest idle connection is still open when a third arrives at a cap of 2")
	}
	if closedByServer(t, newer) || closedByServer(t, third) {
		t.Error("a newer connection was closed")
	}
}

func TestLimitConnsUnauthenticatedFirst(t *testing.T) {
	_, dial := limited(t, 2)
	authed, s := dial()
	func() { // one authenticated request, over
		done := ipc.Busy(ipc.ConnContext(context.Background(), s), true)
		done()
	}()
	anonymous, _ := dial()
	dial()
	if !closedByServer(t, anonymous) {
		t.Error("the unauthenticated connection is still open")
	}
	if closedByServer(t, authed) {
		t.Error("the older authenticated connection was closed before an unauthenticated one")
	}
}

func TestLimitConnsRefusesWhenAllAreBusy(t *testing.T) {
	l, dial := limited(t, 2)
	a, sa := dial()
	b, sb := dial()
	busy(t, sa, false)
	busy(t, sb, true)
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !closedByServer(t, c) {
		t.Error("a connection beyond the cap, all others busy, is not closed at once")
	}
	if closedByServer(t, a) || closedByServer(t, b) {
		t.Error("a busy connection was closed")
	}
}

// emfileListener fails every Accept as a process out of descriptors does.
type emfileListener struct {
	net.Listener
	accepts atomic.Int32
}

func (l *emfileListener) Accept() (net.Conn, error) {
	l.accepts.Add(1)
	return nil, &net.OpError{Op: "accept", Net: "tcp", Err: syscall.EMFILE}
}

// TestAcceptBacksOffOnEMFILE checks that an http.Server on a limited
// listener waits between accepts that fail with EMFILE, as net/http does
// for temporary errors (5 ms, doubling), rather than spinning.
func TestAcceptBacksOffOnEMFILE(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fake := &emfileListener{Listener: raw}
	srv := &http.Server{ErrorLog: log.New(io.Discard, "", 0)}
	start := time.Now()
	go srv.Serve(ipc.LimitConns(fake, 4))
	defer srv.Close()
	testwait.For(t, 5*time.Second, "six accepts", func() bool { return fake.accepts.Load() >= 6 })
	// 5 + 10 + 20 + 40 + 80 ms of back-off come between the first and the sixth.
	if got, want := time.Since(start), 150*time.Millisecond; got < want {
		t.Errorf("six failing accepts took %v, want at least %v of back-off", got, want)
	}
}
