package daemon

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/ipc"
)

// The limits of the API's HTTP servers: caddy's admin server's read, idle
// and header limits, and a deadline per write. A connection has
// readTimeout to send a request's header and body, and idleTimeout to
// begin the next; each write of a response, and so each flush of a stream,
// has writeTimeout (see deadlines). A request may then take as long as it
// needs (a reload waits for its services), and a stream (logs -f, events
// -f) lasts as long as its client reads.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 10 * time.Second
	idleTimeout       = 60 * time.Second
	maxHeaderBytes    = 64 << 10
)

// served is one listener of the API and its server.
type served struct {
	l   net.Listener
	srv *http.Server
}

// close stops s at once. It closes the listener itself, for its server
// may not have begun to serve it yet, and its address is to be free when
// close returns.
func (s served) close() {
	s.l.Close()
	s.srv.Close()
}

// httpServer serves h on l, a listener of package ipc. tokens checks the
// bearer tokens of a TCP listener, to tell its authenticated connections
// from the others when it is full (see ipc.LimitConns); nil means the
// local endpoint, where every request is.
func (d *Daemon) httpServer(h http.Handler, l net.Listener, tokens api.Authenticator) served {
	idle := d.opts.IdleTimeout
	if idle <= 0 {
		idle = idleTimeout
	}
	srv := &http.Server{
		Handler:           deadlines(h, tokens, writeTimeout),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		IdleTimeout:       idle,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(d.opts.Logger.Handler(), slog.LevelWarn),
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return ipc.ConnContext(api.ConnContext(ctx, c), c)
		},
	}
	go func() {
		// A listener closed by relisten ends Serve with net.ErrClosed.
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			d.opts.Logger.Error("serve API", "addr", l.Addr().String(), "err", err)
		}
	}()
	return served{l: l, srv: srv}
}

// deadlines wraps h with the write deadlines the constants above describe:
// each write and flush of a response gets timeout, starting from none, so
// that a handler may work as long as it needs before it writes and a
// stream lives as long as its client reads. (The read side needs nothing:
// net/http lifts ReadTimeout's deadline once a request's body is read.) It
// marks the connection busy while h serves (ipc.Busy); tokens is as for
// httpServer.
func deadlines(h http.Handler, tokens api.Authenticator, timeout time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer ipc.Busy(r.Context(), tokens == nil || validBearer(r, tokens))()
		rc := http.NewResponseController(w)
		rc.SetWriteDeadline(time.Time{}) // the last request's, on a kept-alive connection
		h.ServeHTTP(&writeDeadline{ResponseWriter: w, rc: rc, timeout: timeout}, r)
	})
}

// validBearer reports whether r carries a bearer token tokens accepts.
func validBearer(r *http.Request, tokens api.Authenticator) bool {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	_, err := tokens.Authenticate(r.Context(), strings.TrimSpace(tok))
	return err == nil
}

// writeDeadline gives each write and flush of a response timeout.
type writeDeadline struct {
	http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
}

func (w *writeDeadline) extend() { w.rc.SetWriteDeadline(time.Now().Add(w.timeout)) }

func (w *writeDeadline) Write(b []byte) (int, error) {
	w.extend()
	return w.ResponseWriter.Write(b)
}

// FlushError flushes the response, for http.ResponseController.
func (w *writeDeadline) FlushError() error {
	w.extend()
	return w.rc.Flush()
}

// Unwrap lets http.ResponseController reach the deadlines.
func (w *writeDeadline) Unwrap() http.ResponseWriter { return w.ResponseWriter }
