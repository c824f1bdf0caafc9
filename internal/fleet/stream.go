package fleet

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/stewardhq/steward"
)

// A stream (logs -f, events -f) is an answer without an end in sight. Its
// request carries Steward-Stream. The target sends the answer as for any
// request, each message numbered (Steward-Seq, from 1), the first naming
// the ack subject (Steward-Ack, an inbox of the target's). The forwarder
// acks on it what it received (Steward-Acked) every keepalive and every
// half window, and sends Steward-Cancel when its caller goes away. The
// target sends at most streamWindow messages that are not acked, and
// a keepalive (a message without a number) when it has sent nothing for a
// keepalive. Either side ends the stream when it heard nothing from the
// other for streamTimeouts keepalives; the target's last message has
// Steward-Error when the stream ended early on its side.
const (
	hStream = "Steward-Stream"
	hSeq    = "Steward-Seq"
	hAck    = "Steward-Ack"
	hAcked  = "Steward-Acked"
	hCancel = "Steward-Cancel"
	hError  = "Steward-Error"
)

// DefaultStreamKeepalive is how often the two sides of a stream tell each
// other they are there.
const DefaultStreamKeepalive = time.Second

const (
	// streamWindow is how many messages of a stream the target sends
	// before it waits for their ack.
	streamWindow = 32
	// streamTimeouts is how many keepalives either side of a stream waits
	// to hear from the other before it ends the stream.
	streamTimeouts = 5
)

// frame is what the headers of a stream's message say.
type frame struct {
	seq       uint64 // 0 for a keepalive
	done      bool
	err       string // why the stream ended early, on the last message
	keepalive bool
}

// parseFrame reads the headers of a message of a stream's answer.
func parseFrame(h nats.Header) (frame, error) {
	fr := frame{done: h.Get(hDone) != "", err: h.Get(hError)}
	s := h.Get(hSeq)
	if s == "" {
		if fr.done || fr.err != "" {
			return fr, errors.New("a last message without its number")
		}
		fr.keepalive = true
		return fr, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 {
		return fr, fmt.Errorf("a message numbered %q", s)
	}
	fr.seq = n
	return fr, nil
}

// nodeStopping is why a stream ends when its target stops.
const nodeStopping = "node stopping"

// streamOut is the target's side of a stream: it numbers the messages,
// holds them back while streamWindow are not acked, sends keepalives, and
// ends the handler (cancel) when the forwarder goes away.
type streamOut struct {
	ctx       context.Context // the responder's: ends when the node stops
	nc        *nats.Conn
	keepalive time.Duration
	reply     string
	ackSubj   string
	sub       *nats.Subscription
	cancel    context.CancelFunc
	stop      chan struct{}
	wg        sync.WaitGroup

	mu       sync.Mutex
	cond     *sync.Cond
	seq      uint64 // the last message sent
	acked    uint64
	heard    time.Time // when the forwarder was last heard, once the stream started
	sentAt   time.Time // when a message was last sent
	gone     string    // why the stream ended on this side, if it did
	stopOnce sync.Once
}

// newStreamOut starts the target's side of a stream answered on reply;
// cancel ends its handler.
func newStreamOut(ctx context.Context, nc *nats.Conn, reply string, keepalive time.Duration, cancel context.CancelFunc) (*streamOut, error) {
	s := &streamOut{ctx: ctx, nc: nc, keepalive: keepalive, reply: reply, ackSubj: nc.NewInbox(), cancel: cancel, stop: make(chan struct{})}
	s.cond = sync.NewCond(&s.mu)
	sub, err := nc.Subscribe(s.ackSubj, s.onAck)
	if err != nil {
		return nil, fmt.Errorf("answer a fleet stream: %w", err)
	}
	s.sub = sub
	s.wg.Add(1)
	go s.watch(ctx)
	return s, nil
}

// onAck takes an ack or a cancel of the forwarder.
func (s *streamOut) onAck(m *nats.Msg) {
	if m.Header.Get(hCancel) != "" {
		s.end("the forwarding node cancelled the stream")
		return
	}
	n, err := strconv.ParseUint(m.Header.Get(hAcked), 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.heard = time.Now()
	if err == nil && n > s.acked && n <= s.seq {
		s.acked = n
		s.cond.Broadcast()
	}
}

// watch sends keepalives, and ends the stream when ctx ends or the
// forwarder is not heard of for streamTimeouts keepalives.
func (s *streamOut) watch(ctx context.Context) {
	defer s.wg.Done()
	tick := time.NewTicker(s.keepalive)
	defer tick.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-ctx.Done():
			s.end(nodeStopping)
			return
		case now := <-tick.C:
			s.mu.Lock()
			started, heard, idle := s.seq > 0, s.heard, now.Sub(s.sentAt) >= s.keepalive
			s.mu.Unlock()
			switch {
			case !started:
			case now.Sub(heard) > streamTimeouts*s.keepalive:
				s.end(fmt.Sprintf("the forwarding node was not heard of for %v", streamTimeouts*s.keepalive))
				return
			case idle:
				s.nc.Publish(s.reply, nil) // a keepalive that fails is followed by the next
			}
		}
	}
}

// end ends the stream on this side, for why.
func (s *streamOut) end(why string) {
	s.mu.Lock()
	if s.gone == "" {
		s.gone = why
	}
	s.cond.Broadcast()
	s.mu.Unlock()
	s.cancel()
}

// publish numbers m and sends it once fewer than streamWindow messages
// are not acked, or fails when the stream ended.
func (s *streamOut) publish(m *nats.Msg, first bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.gone == "" && s.seq-s.acked >= streamWindow {
		s.cond.Wait()
	}
	if s.gone == "" && s.ctx.Err() != nil {
		s.gone = nodeStopping
	}
	if s.gone != "" {
		if m.Header.Get(hDone) == "" {
			return errors.New("the stream ended: " + s.gone)
		}
		m.Header.Set(hError, s.gone)
	}
	s.seq++
	m.Header.Set(hSeq, strconv.FormatUint(s.seq, 10))
	if first {
		m.Header.Set(hAck, s.ackSubj)
		s.heard = time.Now()
	}
	s.sentAt = time.Now()
	return s.nc.PublishMsg(m)
}

// close stops the keepalives and the acks.
func (s *streamOut) close() {
	s.stopOnce.Do(func() { close(s.stop) })
	s.wg.Wait()
	s.sub.Unsubscribe() // the connection may be closing
}

// forwardStream reads the answer of a stream request on sub, which the
// first message in started, and writes it to w as it comes, flushed, until
// the target ends it, the target is not heard of for streamTimeouts
// keepalives (an error), or ctx ends (the target is told to stop).
func (f *Fleet) forwardStream(ctx context.Context, node string, sub *nats.Subscription, in *nats.Msg, w http.ResponseWriter) error {
	keepalive := f.opts.StreamKeepalive
	ackSubj := in.Header.Get(hAck)
	switch {
	case ackSubj == "" && in.Header.Get(hDone) != "": // an answer that does not stream: too busy
		_, err := w.Write(in.Data)
		return err
	case ackSubj == "":
		return steward.Errorf(steward.EINTERNAL, "node %q answered a stream without its ack subject", node)
	}
	var last atomic.Uint64
	ack := func(cancel bool) {
		m := nats.NewMsg(ackSubj)
		m.Header.Set(hAcked, strconv.FormatUint(last.Load(), 10))
		if cancel {
			m.Header.Set(hCancel, "1")
		}
		f.nc.PublishMsg(m) // an ack that fails is followed by the next
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(keepalive)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				ack(false)
			}
		}
	})
	defer func() { close(stop); wg.Wait() }()
	rc := http.NewResponseController(w)
	acked := uint64(0)
	timeout := streamTimeouts * keepalive
	for {
		fr, err := parseFrame(in.Header)
		switch {
		case err != nil:
			return steward.Errorf(steward.EINTERNAL, "node %q's stream: %v", node, err)
		case fr.keepalive:
		case fr.seq != last.Load()+1:
			return steward.Errorf(steward.EUNAVAILABLE, "node %q's stream lost messages %d to %d", node, last.Load()+1, fr.seq-1)
		default:
			last.Store(fr.seq)
			if len(in.Data) > 0 {
				if _, err := w.Write(in.Data); err != nil {
					ack(true)
					return nil // the caller is gone
				}
			}
			rc.Flush() // a writer that cannot flush gets the data at its end
			if fr.err != "" {
				return steward.Errorf(steward.EUNAVAILABLE, "node %q ended the stream: %s", node, fr.err)
			}
			if fr.done {
				return nil
			}
			if fr.seq-acked >= streamWindow/2 {
				ack(false)
				acked = fr.seq
			}
		}
		next, cancel := context.WithTimeout(ctx, timeout)
		in, err = sub.NextMsgWithContext(next)
		cancel()
		switch {
		case ctx.Err() != nil:
			ack(true)
			return nil // the caller is gone
		case errors.Is(err, context.DeadlineExceeded):
			return steward.Errorf(steward.EUNAVAILABLE, "node %q stopped answering: nothing of its stream for %v", node, timeout)
		case err != nil:
			return steward.Errorf(steward.EUNAVAILABLE, "node %q's stream: %v", node, err)
		}
	}
}
