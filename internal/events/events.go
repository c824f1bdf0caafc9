// Package events provides the Recorder, through which every part of
// steward records what happens. Record never waits for the disk: it queues
// the event for the Recorder's journal goroutine, which writes queued events
// to the store in order and only then publishes them to live subscribers,
// so nothing a subscriber saw can be missing from the store, and a
// subscriber that fell behind replays what it missed from the store. Any
// package that produces or streams events may import it.
package events

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/store"
)

// SubscriberBuffer is how many events a subscriber may fall behind before
// it is dropped.
const SubscriberBuffer = 256

// EventStore is where a Recorder keeps events: *store.Store.
type EventStore interface {
	// AppendEvents stores evs in one transaction and sets their IDs.
	AppendEvents(ctx context.Context, evs []steward.Event) error
	Events(ctx context.Context, f store.EventFilter) ([]steward.Event, error)
}

// Recorder stores events and publishes them to subscribers. It is safe for
// concurrent use. Subscribers receive events in ID order, the order in
// which they were stored, and each only once it is stored.
type Recorder struct {
	store EventStore
	log   *slog.Logger
	j     journal

	// ctx ends when Close gives up on the events not stored yet; the
	// journal's writes run under it.
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	queue   []entry // recorded, not yet taken by the journal goroutine
	seq     uint64  // events accepted by Record so far
	done    uint64  // events stored and published, or given up, so far
	dropped uint64  // events given up so far
	moved   chan struct{}
	active  bool // the journal goroutine runs
	closed  bool
	subs    map[*subscriber]struct{}
}

type subscriber struct {
	ch chan steward.Event
}

// Option configures a Recorder.
type Option func(*Recorder)

// WithLogger makes the Recorder report events it could not store, and a
// store that stays busy, to l instead of slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(r *Recorder) { r.log = l }
}

// NewRecorder returns a Recorder that stores events in s. It starts no
// goroutine: the journal goroutine runs while events wait to be stored.
// Close it before s.
func NewRecorder(s EventStore, opts ...Option) *Recorder {
	r := &Recorder{store: s, j: defaultJournal, moved: make(chan struct{}), subs: make(map[*subscriber]struct{})}
	for _, o := range opts {
		o(r)
	}
	r.log = cmp.Or(r.log, slog.Default())
	r.ctx, r.cancel = context.WithCancel(context.Background())
	return r
}

// Record queues ev to be stored and then published, and returns at once,
// without waiting for the store: the supervisor records from its kill and
// restart paths. The event returned has its Time set (to now when zero) but
// no ID yet; List, which waits for the events recorded before it, shows it
// with its ID. An event the store refuses for good is logged, not
// published. When the store has been busy for so long that the journal's
// queue is full, ev is merged into the last queued event of the same type
// and service (see journal). Record fails with code steward.EINVALID for
// an event without a type, and with steward.EUNAVAILABLE after Close.
func (r *Recorder) Record(ctx context.Context, ev steward.Event) (steward.Event, error) {
	if ev.Type == "" {
		return steward.Event{}, fmt.Errorf("record event: %w", steward.Errorf(steward.EINVALID, "event type is empty"))
	}
	ev.Time = cmp.Or(ev.Time, time.Now()).UTC()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return steward.Event{}, fmt.Errorf("record event: %w", steward.Errorf(steward.EUNAVAILABLE, "the event recorder is closed"))
	}
	r.seq++
	r.enqueue(ev)
	if !r.active {
		r.active = true
		go r.run()
	}
	return ev, nil
}

// Subscribe returns a channel that receives every event stored from now
// on, and a function that ends the subscription; calling it again does
// nothing. The channel is closed when the subscription ends, and also when
// the subscriber falls SubscriberBuffer events behind: the journal never
// waits for a subscriber, it drops a slow one. A dropped subscriber — an
// SSE stream, say — ends, and its client resumes from the last ID it saw
// with List (AfterID).
//
// To replay history and then follow live events without a gap, subscribe
// first, then List, and skip live events whose ID is not greater than the
// last listed.
func (r *Recorder) Subscribe() (<-chan steward.Event, func()) {
	s := &subscriber{ch: make(chan steward.Event, SubscriberBuffer)}
	r.mu.Lock()
	r.subs[s] = struct{}{}
	r.mu.Unlock()
	return s.ch, func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if _, ok := r.subs[s]; ok {
			delete(r.subs, s)
			close(s.ch)
		}
	}
}

// publish sends evs, as stored, to the subscribers; r.mu is held.
func (r *Recorder) publish(evs []steward.Event) {
	for _, ev := range evs {
		for s := range r.subs {
			select {
			case s.ch <- ev:
			default:
				// The subscriber is SubscriberBuffer events behind: drop
				// it rather than make the journal wait.
				delete(r.subs, s)
				close(s.ch)
			}
		}
	}
}

// List returns the stored events that f selects, in ID order. It first
// waits, until ctx is done, for the events recorded before the call to be
// stored, so that a caller reads what it recorded.
func (r *Recorder) List(ctx context.Context, f store.EventFilter) ([]steward.Event, error) {
	if err := r.Flush(ctx); err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return r.store.Events(ctx, f) // its errors already say "list events"
}

// Flush waits until the events recorded before the call are stored and
// published, or given up, or until ctx is done.
func (r *Recorder) Flush(ctx context.Context) error {
	r.mu.Lock()
	target := r.seq
	for r.done < target {
		moved := r.moved
		r.mu.Unlock()
		select {
		case <-moved:
		case <-ctx.Done():
			return fmt.Errorf("wait for events to be stored: %w", ctx.Err())
		}
		r.mu.Lock()
	}
	r.mu.Unlock()
	return nil
}

// Close stops Record and waits, until ctx is done, for the journal to
// store and publish what is queued; what is still queued then is given up,
// and the error says how many events that was. Closing again waits again.
func (r *Recorder) Close(ctx context.Context) error {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	err := r.Flush(ctx)
	if err == nil {
		return nil
	}
	r.mu.Lock()
	before := r.dropped
	r.mu.Unlock()
	r.cancel() // the journal gives up its retries
	if err := r.Flush(context.Background()); err != nil {
		return fmt.Errorf("close event recorder: %w", err)
	}
	r.mu.Lock()
	lost := r.dropped - before
	r.mu.Unlock()
	return fmt.Errorf("close event recorder: %d events not stored: %w", lost, err)
}
