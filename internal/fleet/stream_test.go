package fleet

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/testwait"
)

// streamKeepalive is the keepalive of the test streams: either side ends
// a stream once the other was silent for 5 of them.
const streamKeepalive = 50 * time.Millisecond

// streamer is the API of a test node that streams: GET /lines writes each
// line sent on lines, flushed, until its caller goes away (then ended
// gets a value); GET /count writes n numbered lines as fast as it can,
// counting them in sent.
type streamer struct {
	lines chan string
	ended chan struct{}
	sent  atomic.Int64
}

func newStreamer() *streamer {
	return &streamer{lines: make(chan string), ended: make(chan struct{}, 4)}
}

func (s *streamer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	switch r.URL.Path {
	case "/lines":
		defer func() { s.ended <- struct{}{} }()
		w.Header().Set("Content-Type", "application/x-ndjson")
		w.WriteHeader(http.StatusOK)
		if err := rc.Flush(); err != nil {
			return
		}
		for {
			select {
			case <-r.Context().Done():
				return
			case l := <-s.lines:
				fmt.Fprintln(w, l)
				if rc.Flush() != nil {
					return
				}
			}
		}
	case "/count":
		for i := range 200 {
			fmt.Fprintln(w, i)
			if rc.Flush() != nil {
				return
			}
			s.sent.Add(1)
		}
	default:
		writeError(w, steward.Errorf(steward.ENOTFOUND, "no %s", r.URL.Path))
	}
}

// startStreamNode starts node name, whose API is h, with short stream
// keepalives.
func startStreamNode(t *testing.T, url, name string, clk *clock, h http.Handler) *Fleet {
	t.Helper()
	cfg := &config.Config{Node: name, Services: map[string]*config.Service{}}
	f, err := Start(context.Background(), Options{Config: func() *config.Config { return cfg },
		Node: name, Version: "test", Conn: connect(t, url), Services: &services{}, Events: &events{ch: make(chan steward.Event)},
		Handler: h, Caller: withPrincipal, WriteError: writeError, Heartbeat: time.Hour, TTL: time.Hour, Now: clk.Now,
		StreamKeepalive: streamKeepalive,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return f
}

// pair starts nodes a and b, b's API s, each sure the other is up.
func pair(t *testing.T, s http.Handler) (a, b *Fleet) {
	t.Helper()
	url := natsURL(t)
	clk := newClock()
	a = startStreamNode(t, url, "a", clk, newStreamer())
	b = startStreamNode(t, url, "b", clk, s)
	waitStates(t, a, "a=up b=up")
	return a, b
}

// pipeWriter is a ResponseWriter whose writes go to lines, one a write,
// and which Flush passes.
type pipeWriter struct {
	header http.Header
	status atomic.Int64
	lines  chan string
}

func newPipeWriter() *pipeWriter {
	return &pipeWriter{header: http.Header{}, lines: make(chan string, 1000)}
}

func (w *pipeWriter) Header() http.Header  { return w.header }
func (w *pipeWriter) WriteHeader(code int) { w.status.Store(int64(code)) }
func (w *pipeWriter) Flush()               {}
func (w *pipeWriter) Write(b []byte) (int, error) {
	w.lines <- string(b)
	return len(b), nil
}

// next returns the next write to w, failing t after a while.
func (w *pipeWriter) next(t *testing.T) string {
	t.Helper()
	select {
	case l := <-w.lines:
		return l
	case <-time.After(10 * time.Second):
		t.Fatal("no write in 10s")
		return ""
	}
}

func waitEnded(t *testing.T, s *streamer, what string) {
	t.Helper()
	select {
	case <-s.ended:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: the stream's handler did not end in 10s", what)
	}
}

var streamRq = Request{Method: "GET", Target: "/lines", Principal: alice, Stream: true}

// TestStream: a stream of b's, forwarded by a, writes each line as b's
// handler flushes it, for longer than a stream's timeout; when a's caller
// goes away, b's handler ends.
func TestStream(t *testing.T) {
	s := newStreamer()
	a, _ := pair(t, s)
	w := newPipeWriter()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Forward(ctx, "b", streamRq, w) }()
	for i := range 3 {
		line := fmt.Sprintf("line %d", i)
		s.lines <- line
		if got := w.next(t); got != line+"\n" {
			t.Fatalf("write %q, want %q", got, line)
		}
		// The next line comes after more than a stream's timeout: the
		// keepalives of both sides keep it open.
		select {
		case <-s.ended:
			t.Fatal("the stream ended while both sides are there")
		case <-time.After((streamTimeouts + 1) * streamKeepalive):
		}
	}
	if w.status.Load() != 200 || w.header.Get("Content-Type") != "application/x-ndjson" {
		t.Errorf("status %d, header %v", w.status.Load(), w.header)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("a stream whose caller went away: %v", err)
	}
	waitEnded(t, s, "caller gone")
}

// TestStreamTargetGone: when b's connection dies mid-stream, a's Forward
// ends with an error saying b stopped answering, within the stream's
// timeout; when b stops cleanly, with the error b sent.
func TestStreamTargetGone(t *testing.T) {
	s := newStreamer()
	a, b := pair(t, s)
	w := newPipeWriter()
	done := make(chan error, 1)
	go func() { done <- a.Forward(context.Background(), "b", streamRq, w) }()
	s.lines <- "one"
	w.next(t)
	b.nc.Close()
	select {
	case err := <-done:
		if steward.ErrorCode(err) != steward.EUNAVAILABLE || !strings.Contains(err.Error(), `node "b" stopped answering: nothing of its stream for 250ms`) {
			t.Errorf("b gone: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Forward did not end in 10s once b was gone")
	}

	s2 := newStreamer()
	a, b = pair(t, s2)
	go func() { done <- a.Forward(context.Background(), "b", streamRq, newPipeWriter()) }()
	s2.lines <- "one" // the stream started
	b.Close()
	if err := <-done; steward.ErrorCode(err) != steward.EUNAVAILABLE || !strings.Contains(err.Error(), `node "b" ended the stream: node stopping`) {
		t.Errorf("b stopped: %v", err)
	}
}

// streamRequest sends a stream request for target to node b as a bare
// client of url would, and returns the subscription of its answer.
func streamRequest(t *testing.T, nc *nats.Conn, target string) *nats.Subscription {
	t.Helper()
	m := nats.NewMsg(apiSubject("b"))
	m.Header.Set(hMethod, "GET")
	m.Header.Set(hTarget, target)
	m.Header.Set(hCaller, `{"who": "w"}`)
	m.Header.Set(hFrom, "x")
	m.Header.Set(hStream, "1")
	m.Reply = nc.NewInbox()
	sub, err := nc.SubscribeSync(m.Reply)
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.PublishMsg(m); err != nil {
		t.Fatal(err)
	}
	return sub
}

// TestStreamForwarderGone: a forwarder that never acks is gone for b
// within the stream's timeout; one that cancels, at once; either way b's
// handler ends. Meanwhile b sends keepalives.
func TestStreamForwarderGone(t *testing.T) {
	s := newStreamer()
	a, _ := pair(t, s)
	sub := streamRequest(t, a.nc, "/lines")
	first, err := sub.NextMsg(10 * time.Second)
	if err != nil || first.Header.Get(hStatus) != "200" || first.Header.Get(hSeq) != "1" || first.Header.Get(hAck) == "" {
		t.Fatalf("first message: %v %v", err, first)
	}
	ka, err := sub.NextMsg(10 * time.Second)
	if fr, ferr := parseFrame(ka.Header); err != nil || ferr != nil || !fr.keepalive {
		t.Errorf("a keepalive: %v %v %+v", err, ferr, fr)
	}
	waitEnded(t, s, "no acks")

	sub = streamRequest(t, a.nc, "/lines")
	first, err = sub.NextMsg(10 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	cancel := nats.NewMsg(first.Header.Get(hAck))
	cancel.Header.Set(hCancel, "1")
	a.nc.PublishMsg(cancel)
	waitEnded(t, s, "cancelled")
	for {
		m, err := sub.NextMsg(10 * time.Second)
		if err != nil {
			t.Fatalf("no last message after the cancel: %v", err)
		}
		if m.Header.Get(hDone) != "" {
			if !strings.Contains(m.Header.Get(hError), "cancelled") {
				t.Errorf("last message: %v", m.Header)
			}
			break
		}
	}
}

// blockingWriter is a ResponseWriter whose writes wait until open is
// closed.
type blockingWriter struct {
	*pipeWriter
	open chan struct{}
}

func (w blockingWriter) Write(b []byte) (int, error) {
	<-w.open
	return w.pipeWriter.Write(b)
}

// TestStreamWindow: b sends no more than a window of messages that a did
// not ack, while a's writer is stuck, and all of them, in order, once it
// is not.
func TestStreamWindow(t *testing.T) {
	s := newStreamer()
	a, _ := pair(t, s)
	w := blockingWriter{newPipeWriter(), make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		done <- a.Forward(context.Background(), "b", Request{Method: "GET", Target: "/count", Principal: alice, Stream: true}, w)
	}()
	testwait.For(t, 10*time.Second, "a window of messages sent", func() bool { return s.sent.Load() >= streamWindow-1 })
	if n := s.sent.Load(); n > streamWindow+1 {
		t.Errorf("%d messages sent while a acked none", n)
	}
	close(w.open)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for len(w.lines) > 0 {
		b.WriteString(<-w.lines)
	}
	var want strings.Builder
	for i := range 200 {
		fmt.Fprintln(&want, i)
	}
	if b.String() != want.String() {
		t.Errorf("the stream: %q", b.String())
	}
}

// TestStreamAnswers: a stream request answered at once (an error) is a
// plain answer; a first message without its ack subject, and one out of
// order, are errors.
func TestStreamAnswers(t *testing.T) {
	a, _ := pair(t, newStreamer())
	w := newPipeWriter()
	if err := a.Forward(context.Background(), "b", Request{Method: "GET", Target: "/nothing", Principal: alice, Stream: true}, w); err != nil || w.status.Load() != 400 ||
		!strings.Contains(w.next(t), "no /nothing") {
		t.Errorf("a stream answered with an error: %v %d", err, w.status.Load())
	}

	// mute answers as the test says.
	nc := a.nc
	nc.Publish(presenceSubject("mute"), []byte(`{"name": "mute"}`))
	reqs, _ := nc.SubscribeSync(apiSubject("mute"))
	nc.Flush()
	waitStates(t, a, "a=up b=up mute=up")
	for name, answer := range map[string][]nats.Header{
		"no ack subject": {{hStatus: {"200"}, hSeq: {"1"}}},
		"busy":           {{hStatus: {"503"}, hDone: {"1"}}},
		"a gap":          {{hStatus: {"200"}, hSeq: {"1"}, hAck: {"ack.x"}}, {hSeq: {"3"}}},
		"a bad number":   {{hStatus: {"200"}, hSeq: {"1"}, hAck: {"ack.x"}}, {hSeq: {"x"}}},
		"bad end":        {{hStatus: {"200"}, hSeq: {"1"}, hAck: {"ack.x"}}, {hDone: {"1"}}},
		"done":           {{hStatus: {"200"}, hSeq: {"1"}, hAck: {"ack.x"}}, {}, {hSeq: {"2"}, hDone: {"1"}}},
	} {
		go func() {
			m, err := reqs.NextMsg(10 * time.Second)
			if err != nil {
				return
			}
			for _, h := range answer {
				nc.PublishMsg(&nats.Msg{Subject: m.Reply, Header: h, Data: []byte("x")})
			}
		}()
		err := a.Forward(context.Background(), "mute", Request{Method: "GET", Target: "/lines", Principal: alice, Stream: true}, newPipeWriter())
		want := map[string]string{
			"no ack subject": `node "mute" answered a stream without its ack subject`,
			"a gap":          `node "mute"'s stream lost messages 2 to 2`,
			"a bad number":   `node "mute"'s stream: a message numbered "x"`,
			"bad end":        `node "mute"'s stream: a last message without its number`,
		}[name]
		if (want == "" && err != nil) || (want != "" && (err == nil || err.Error() != want)) {
			t.Errorf("%s: %v, want %q", name, err, want)
		}
	}
}

func FuzzParseFrame(f *testing.F) {
	for _, s := range []string{"", "1", "2", "0", "x", "-1", "18446744073709551616"} {
		f.Add(s, false, "")
		f.Add(s, true, "why")
	}
	f.Fuzz(func(t *testing.T, seq string, done bool, why string) {
		h := nats.Header{}
		if seq != "" {
			h.Set(hSeq, seq)
		}
		if done {
			h.Set(hDone, "1")
		}
		if why != "" {
			h.Set(hError, why)
		}
		fr, err := parseFrame(h)
		switch {
		case err != nil:
		case fr.keepalive && (fr.seq != 0 || fr.done):
			t.Errorf("a keepalive %+v", fr)
		case !fr.keepalive && fr.seq == 0:
			t.Errorf("a message without its number: %+v", fr)
		}
	})
}

// TestStreamStuckForwarder: a forwarder that takes a window of messages
// and never acks them leaves b's handler waiting until the stream's
// timeout, which ends it: b's last message says so.
func TestStreamStuckForwarder(t *testing.T) {
	s := newStreamer()
	a, _ := pair(t, s)
	sub := streamRequest(t, a.nc, "/count")
	for {
		m, err := sub.NextMsg(10 * time.Second)
		if err != nil {
			t.Fatalf("no last message: %v (%d sent)", err, s.sent.Load())
		}
		if m.Header.Get(hDone) != "" {
			if !strings.Contains(m.Header.Get(hError), "not heard of for 250ms") {
				t.Errorf("last message: %v", m.Header)
			}
			break
		}
	}
	if n := s.sent.Load(); n >= 200 || n > streamWindow {
		t.Errorf("%d lines sent without an ack", n)
	}
}

// failingWriter is a ResponseWriter whose caller went away: its writes
// fail.
type failingWriter struct{ *pipeWriter }

func (failingWriter) Write([]byte) (int, error) { return 0, fmt.Errorf("broken pipe") }

// TestStreamCallerFails: a caller whose writes fail ends the stream, and
// b's handler; a forwarder whose connection closes ends it with an error.
func TestStreamCallerFails(t *testing.T) {
	s := newStreamer()
	a, _ := pair(t, s)
	done := make(chan error, 1)
	go func() { done <- a.Forward(context.Background(), "b", streamRq, failingWriter{newPipeWriter()}) }()
	s.lines <- "one"
	if err := <-done; err != nil {
		t.Errorf("a caller that went away: %v", err)
	}
	waitEnded(t, s, "the caller's writes fail")

	w := newPipeWriter()
	go func() { done <- a.Forward(context.Background(), "b", streamRq, w) }()
	s.lines <- "two"
	w.next(t)
	a.nc.Close()
	if err := <-done; steward.ErrorCode(err) != steward.EUNAVAILABLE || !strings.Contains(err.Error(), `node "b"'s stream: nats: connection closed`) {
		t.Errorf("a's connection closed: %v", err)
	}
	waitEnded(t, s, "a's connection closed")
}
