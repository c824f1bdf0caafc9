package fleet

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/stewardhq/steward"
)

// Headers of the fleet's API messages. A request carries the HTTP
// request's method, target (path and query), principal and a few HTTP
// headers; its data is the body. The answer comes as one or more
// messages on the request's reply subject: the first has the status, the
// last has Steward-Done, and their data, in order, is the body.
const (
	hMethod  = "Steward-Method"
	hTarget  = "Steward-Target"
	hCaller  = "Steward-Principal" // the caller's steward.Principal, JSON
	hFrom    = "Steward-From"
	hTimeout = "Steward-Timeout" // in milliseconds
	hStatus  = "Steward-Status"
	hDone    = "Steward-Done"
)

// forwardedHeaders are the HTTP headers a fleet request carries both ways.
var forwardedHeaders = []string{"Content-Type", "Accept", "Last-Event-ID", "Cache-Control", "Location", "Allow", "Retry-After"}

// chunk is how much of an answer one message carries at most.
const chunk = 256 << 10

// maxConcurrent bounds the API requests a node answers at once for the
// others.
const maxConcurrent = 64

// responder answers the API requests of other nodes with the API's
// handler, in process.
type responder struct {
	f       *Fleet
	sem     chan struct{}
	streams chan struct{} // the same for the streams, which last
	ctx     context.Context
	end     context.CancelFunc

	wg sync.WaitGroup
}

func newResponder(f *Fleet) *responder {
	ctx, cancel := context.WithCancel(context.Background())
	return &responder{f: f, sem: make(chan struct{}, maxConcurrent), streams: make(chan struct{}, maxConcurrent), ctx: ctx, end: cancel}
}

// close ends the requests under way and waits for them.
func (r *responder) close() {
	r.end()
	r.wg.Wait()
}

// serve answers one request, in a goroutine of its own.
func (r *responder) serve(m *nats.Msg) {
	if m.Reply == "" {
		return
	}
	sem, what := r.sem, "requests"
	if m.Header.Get(hStream) != "" {
		sem, what = r.streams, "streams"
	}
	select {
	case sem <- struct{}{}:
	default:
		w := &chunkWriter{nc: r.f.nc, reply: m.Reply, header: http.Header{}}
		r.f.opts.WriteError(w, steward.Errorf(steward.EUNAVAILABLE, "node %s answers %d fleet %s already", r.f.opts.Node, maxConcurrent, what))
		w.finish()
		return
	}
	r.wg.Add(1)
	go func() {
		defer func() { <-sem; r.wg.Done() }()
		r.answer(m)
	}()
}

func (r *responder) answer(m *nats.Msg) {
	w := &chunkWriter{nc: r.f.nc, reply: m.Reply, header: http.Header{}}
	ctx, cancel := context.WithCancel(r.ctx)
	defer cancel()
	if m.Header.Get(hStream) != "" {
		st, err := newStreamOut(r.ctx, r.f.nc, m.Reply, r.f.opts.StreamKeepalive, cancel)
		if err != nil {
			r.f.opts.WriteError(w, err)
			w.finish()
			return
		}
		w.st = st
		defer st.close()
	}
	defer w.finish() // before st.close: the last message may wait for an ack
	if ms, err := strconv.Atoi(m.Header.Get(hTimeout)); err == nil && ms > 0 {
		ctx, cancel = context.WithTimeout(ctx, time.Duration(ms)*time.Millisecond)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, m.Header.Get(hMethod), "http://steward"+m.Header.Get(hTarget), bytes.NewReader(m.Data))
	if err != nil || req.URL.Path == "" || req.URL.Path[0] != '/' {
		r.f.opts.WriteError(w, steward.Errorf(steward.EINVALID, "a fleet request for %q that is not an API request", m.Header.Get(hTarget)))
		return
	}
	for _, h := range forwardedHeaders {
		if v := m.Header.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	req.ContentLength = int64(len(m.Data))
	from := m.Header.Get(hFrom)
	req.RemoteAddr = "fleet:" + from
	var p steward.Principal
	if err := json.Unmarshal([]byte(m.Header.Get(hCaller)), &p); err != nil || p.Who == "" || from == "" {
		r.f.opts.WriteError(w, steward.Errorf(steward.EUNAUTHORIZED, "a fleet request without its node or principal"))
		return
	}
	p.Via = "node:" + from
	req = req.WithContext(r.f.opts.Caller(req.Context(), p))
	r.f.opts.Handler.ServeHTTP(w, req)
}

// chunkWriter is the http.ResponseWriter of a fleet request: it sends
// what the handler writes as messages on the reply subject, chunk bytes
// each, the last one marked done.
type chunkWriter struct {
	nc     *nats.Conn
	reply  string
	header http.Header
	status int
	buf    bytes.Buffer
	sent   bool // the first message is sent
	err    error
	st     *streamOut // the stream's side, when the answer streams
}

func (w *chunkWriter) Header() http.Header { return w.header }

func (w *chunkWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *chunkWriter) Write(b []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	w.WriteHeader(http.StatusOK)
	n := len(b)
	for len(b) > 0 {
		k := min(len(b), chunk-w.buf.Len())
		w.buf.Write(b[:k])
		b = b[k:]
		if w.buf.Len() >= chunk {
			w.send(false)
		}
	}
	return n, w.err
}

// FlushError sends what was written and not sent yet, as
// http.ResponseController's Flush asks.
func (w *chunkWriter) FlushError() error {
	w.WriteHeader(http.StatusOK)
	w.send(false)
	return w.err
}

func (w *chunkWriter) finish() {
	w.WriteHeader(http.StatusOK)
	w.send(true)
}

// send sends what is buffered, and with done the last message, which goes
// even after a failure: a stream that ended on this side says why in it.
func (w *chunkWriter) send(done bool) {
	if !done && (w.err != nil || (w.buf.Len() == 0 && w.sent)) {
		return
	}
	m := nats.NewMsg(w.reply)
	first := !w.sent
	if first {
		m.Header.Set(hStatus, strconv.Itoa(w.status))
		for _, h := range forwardedHeaders {
			if v := w.header.Get(h); v != "" {
				m.Header.Set(h, v)
			}
		}
	}
	if done {
		m.Header.Set(hDone, "1")
	}
	m.Data = bytes.Clone(w.buf.Bytes())
	w.buf.Reset()
	w.sent = true
	var err error
	if w.st != nil {
		err = w.st.publish(m, first)
	} else {
		err = w.nc.PublishMsg(m)
	}
	if err != nil {
		w.err = fmt.Errorf("answer a fleet request: %w", err)
	}
}
