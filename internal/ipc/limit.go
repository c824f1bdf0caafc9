package ipc

import (
	"context"
	"net"
	"sync"
	"time"
)

// MaxConns is the most connections one listener of steward's API keeps
// open at once: each listener (the local endpoint, api.listen, web.listen)
// has a budget of its own, so the local endpoint keeps answering while a
// TCP one is full. Where RLIMIT_NOFILE is low a listener gets less, an
// eighth of that limit (at least minConns): the other descriptors are the
// supervisor's, for log pipes, spawns and the store.
const MaxConns = 1024

// minConns is the least connections a listener keeps open, however low
// the descriptor limit.
const minConns = 8

// connBudget is the cap of each listener of this process.
func connBudget() int {
	n := MaxConns
	if lim := openFileLimit(); lim > 0 {
		n = min(n, max(lim/8, minConns))
	}
	return n
}

// LimitConns returns l keeping at most n connections open at once. A
// connection that arrives when n are open takes the place of the one that
// has waited longest without serving a request — one that never carried
// an authenticated request before one that did (see Busy) —, or, when
// every one is serving a request, is closed at once. Accept returns l's
// errors as they are, so that an http.Server backs off on a temporary one
// (EMFILE) as it does. The listener is safe for concurrent use.
func LimitConns(l net.Listener, n int) net.Listener {
	return &limitListener{Listener: l, max: n, conns: make(map[*limitedConn]struct{})}
}

type limitListener struct {
	net.Listener
	max   int
	mu    sync.Mutex
	conns map[*limitedConn]struct{} // the open ones
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		lc := &limitedConn{Conn: c, l: l, since: time.Now()}
		victim, ok := l.admit(lc)
		if victim != nil {
			victim.Conn.Close()
		}
		if ok {
			return lc, nil
		}
		c.Close()
	}
}

// admit adds c to the open connections, making room by dropping the
// connection to close when the listener is full, and reports whether c is
// in.
func (l *limitListener) admit(c *limitedConn) (victim *limitedConn, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.conns) >= l.max {
		for o := range l.conns {
			if o.busy == 0 && (victim == nil || o.before(victim)) {
				victim = o
			}
		}
		if victim == nil {
			return nil, false
		}
		delete(l.conns, victim)
	}
	l.conns[c] = struct{}{}
	return victim, true
}

// limitedConn is a connection of a limitListener. Its fields after Conn
// and l are guarded by l.mu.
type limitedConn struct {
	net.Conn
	l      *limitListener
	busy   int       // requests being served
	authed bool      // it carried an authenticated request
	since  time.Time // when it was accepted or last ended a request
}

// before reports whether c is to be closed before o.
func (c *limitedConn) before(o *limitedConn) bool {
	if c.authed != o.authed {
		return !c.authed
	}
	return c.since.Before(o.since)
}

func (c *limitedConn) Close() error {
	c.l.mu.Lock()
	delete(c.l.conns, c)
	c.l.mu.Unlock()
	return c.Conn.Close()
}

// NetConn returns the connection c wraps, as tls.Conn's does.
func (c *limitedConn) NetConn() net.Conn { return c.Conn }

// connKey keys a request's *limitedConn in its context.
type connKey struct{}

// ConnContext is (part of) the http.Server ConnContext hook of a listener
// of this package: it lets Busy find the connection of a request.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	for {
		switch cc := c.(type) {
		case *limitedConn:
			return context.WithValue(ctx, connKey{}, cc)
		case interface{ NetConn() net.Conn }:
			c = cc.NetConn()
		default:
			return ctx
		}
	}
}

// Busy marks the connection of the request with context ctx as serving it
// until the returned func is called, so that it is not closed to make room
// for another; authenticated says whether the request carried valid
// credentials. It does nothing for a request whose connection is not of
// this package (see ConnContext).
func Busy(ctx context.Context, authenticated bool) (done func()) {
	c, ok := ctx.Value(connKey{}).(*limitedConn)
	if !ok {
		return func() {}
	}
	l := c.l
	l.mu.Lock()
	c.busy++
	c.authed = c.authed || authenticated
	l.mu.Unlock()
	return func() {
		l.mu.Lock()
		c.busy--
		c.since = time.Now()
		l.mu.Unlock()
	}
}
