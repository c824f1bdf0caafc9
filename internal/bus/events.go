package bus

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/backoff"
	"github.com/stewardhq/steward/internal/config"
)

// EventsStream is the stream of steward's events, with _NODE after it
// where nodes share one JetStream (streamOf).
const EventsStream = "STEWARD_EVENTS"

// eventsPending is how many event publishes may await their ack.
const eventsPending = 256

// replayPage is how many stored events one read of the store returns.
const replayPage = 500

// EventSource is the event recorder as the forwarder reads it.
type EventSource interface {
	// Subscribe returns the events stored from now on; the channel closes
	// when the subscriber falls behind.
	Subscribe() (<-chan steward.Event, func())
	// After returns up to limit stored events with an ID above id and a
	// time not before since, in ID order.
	After(ctx context.Context, id int64, since time.Time, limit int) ([]steward.Event, error)
}

// EventSubject is the subject of ev on node: steward.NODE.event.TYPE.SERVICE,
// "-" for an event of no service.
func EventSubject(node string, ev steward.Event) string {
	return "steward." + Token(node) + ".event." + Token(ev.Type) + "." + Token(ev.Service)
}

// eventsSubjects is what the events stream of node holds.
func eventsSubjects(node string) []string { return []string{"steward." + Token(node) + ".event.>"} }

// ensureEventsStream creates or updates the events stream.
func (s *Server) ensureEventsStream(ctx context.Context) error {
	cfg := s.options().Config
	_, err := s.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        s.eventsStream(),
		Description: "steward's events, as stored in its database",
		Placement:   s.eventsPlacement(),
		Subjects:    eventsSubjects(s.node),
		Storage:     jetstream.FileStorage,
		MaxAge:      cfg.Events.MaxAge,
		Discard:     jetstream.DiscardOld,
		Duplicates:  2 * time.Minute,
	})
	if err != nil {
		return fmt.Errorf("stream %s: %w", s.eventsStream(), err)
	}
	s.ensureUserStreams(ctx, cfg)
	return nil
}

// ensureUserStreams creates or updates the streams of bus.streams; one
// JetStream refuses (its subjects overlap another stream's, or a limit
// cannot shrink) is logged, and the others are made. A stream no longer
// in bus.streams is kept, with its messages, until someone deletes it.
func (s *Server) ensureUserStreams(ctx context.Context, cfg config.Bus) {
	for _, name := range cfg.StreamOrder {
		st := cfg.Streams[name]
		_, err := s.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
			Name:     st.Name,
			Subjects: st.Subjects,
			Storage:  jetstream.FileStorage,
			MaxAge:   st.MaxAge,
			MaxBytes: cmp.Or(st.MaxBytes, -1),
			Discard:  jetstream.DiscardOld,
			Replicas: max(st.Replicas, 1),
		})
		if err != nil {
			s.log.Error("bus: stream of bus.streams not made", "stream", name, "err", err)
		}
	}
}

// ForwardEvents publishes every event of src into the events stream until
// ctx ends. It first publishes the stored events the stream lacks (those
// after its last one, within its max age), then follows src; it never
// holds src up: when it falls behind, src drops it, and it catches up from
// the store. Publishes are pipelined, and each one expects the stream's
// last sequence to be its predecessor's, so the stream refuses every
// publish after one it refused: the stream only ever holds the events in
// order, and a round that failed starts again after the stream's last one.
// Each event's message id is derived from its ID as well, so an event
// whose ack was lost is stored once.
func (s *Server) ForwardEvents(ctx context.Context, src EventSource) {
	policy := backoff.Policy{Min: 100 * time.Millisecond, Max: 10 * time.Second}
	var last int64
	for failures := 0; ctx.Err() == nil; {
		acked, err := s.forward(ctx, src)
		if acked > last {
			failures, last = 0, acked
		}
		if err == nil || ctx.Err() != nil {
			continue // dropped by src: catch up at once
		}
		failures++
		s.log.Warn("bus: publish events", "err", err, "after", acked)
		select {
		case <-ctx.Done():
		case <-time.After(policy.Delay(failures)):
		}
	}
}

// tail returns the ID of the last event in the stream (0 when there is
// none) and the stream's last sequence.
func (s *Server) tail(ctx context.Context) (int64, uint64, error) {
	st, err := s.js.Stream(ctx, s.eventsStream())
	if err != nil {
		return 0, 0, fmt.Errorf("stream %s: %w", s.eventsStream(), err)
	}
	raw, err := st.GetLastMsgForSubject(ctx, eventsSubjects(s.node)[0])
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return 0, st.CachedInfo().State.LastSeq, nil // empty, or all expired
	}
	if err != nil {
		return 0, 0, fmt.Errorf("last event: %w", err)
	}
	var ev steward.Event
	if err := json.Unmarshal(raw.Data, &ev); err != nil {
		return 0, 0, fmt.Errorf("last event: %w", err)
	}
	return ev.ID, raw.Sequence, nil
}

// forward publishes the stored events after the stream's last one and then
// the live ones, until src drops it (nil), ctx ends (nil) or a publish
// fails. It returns the ID of the last event whose publish was
// acknowledged.
func (s *Server) forward(ctx context.Context, src EventSource) (int64, error) {
	cursor, seq, err := s.tail(ctx)
	if err != nil {
		return 0, err
	}
	ch, cancel := src.Subscribe()
	defer cancel()
	p := &eventPublisher{s: s, acked: cursor, sent: cursor, seq: seq}
	defer p.wait(ctx)
	since := time.Now().Add(-s.options().Config.Events.MaxAge)
	for {
		evs, err := src.After(ctx, p.sent, since, replayPage)
		if err != nil {
			return p.acked, fmt.Errorf("read stored events: %w", err)
		}
		for _, ev := range evs {
			if err := p.publish(ctx, ev); err != nil {
				return p.acked, err
			}
		}
		if len(evs) < replayPage {
			break
		}
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return p.acked, nil
		case <-tick.C:
			if !p.harvest() {
				return p.acked, errNotStored
			}
		case ev, ok := <-ch:
			if !ok {
				return p.acked, nil
			}
			if ev.ID <= p.sent {
				continue
			}
			if ev.ID > p.sent+1 {
				return p.acked, nil // a gap: catch up from the store
			}
			if err := p.publish(ctx, ev); err != nil {
				return p.acked, err
			}
		}
	}
}

// eventPublisher publishes events asynchronously and keeps the ID up to
// which every one was acknowledged.
type eventPublisher struct {
	s       *Server
	sent    int64  // the last event handed to JetStream
	acked   int64  // every event up to this one is in the stream
	seq     uint64 // the stream's last sequence once sent is stored
	pending []pendingEvent
}

type pendingEvent struct {
	id  int64
	ack jetstream.PubAckFuture
}

// publish hands ev to JetStream without waiting for its ack.
func (p *eventPublisher) publish(ctx context.Context, ev steward.Event) error {
	data, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	m := Message{
		Subject: EventSubject(p.s.node, ev), Type: TypeEvent, Source: p.s.source(), Time: ev.Time, Data: data,
		ID: "event." + Token(p.s.node) + "." + strconv.FormatInt(ev.ID, 10),
	}
	ack, err := p.s.js.PublishMsgAsync(m.msg(), jetstream.WithStallWait(time.Second), jetstream.WithExpectLastSequence(p.seq))
	if err != nil {
		return fmt.Errorf("publish event %d: %w", ev.ID, err)
	}
	p.pending = append(p.pending, pendingEvent{ev.ID, ack})
	p.sent, p.seq = ev.ID, p.seq+1
	if !p.harvest() {
		return fmt.Errorf("publish event: %w", errNotStored)
	}
	return nil
}

var errNotStored = errors.New("the stream did not store an event")

// harvest moves acked past the events acknowledged in order; it reports
// false when one was refused (and with it every one after it).
func (p *eventPublisher) harvest() bool {
	for len(p.pending) > 0 {
		select {
		case <-p.pending[0].ack.Ok():
			p.acked = p.pending[0].id
			p.pending = p.pending[1:]
			continue
		case <-p.pending[0].ack.Err():
			p.pending = nil
			return false
		default:
		}
		break
	}
	return true
}

// wait waits a little for the acks still pending, so that the cursor
// passed to the next round is as far as it can be.
func (p *eventPublisher) wait(ctx context.Context) {
	if len(p.pending) == 0 {
		return
	}
	select {
	case <-p.s.js.PublishAsyncComplete():
	case <-ctx.Done():
	case <-time.After(2 * time.Second):
	}
	p.harvest()
}
