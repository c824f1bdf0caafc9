// Package events provides the Recorder, through which every part of
// steward records what happens: each event is written to the store first
// and only then published to live subscribers, so nothing a subscriber saw
// can be missing from the store, and a subscriber that fell behind replays
// what it missed from the store. Any package that produces or streams
// events may import it.
package events

import (
	"context"
	"fmt"
	"sync"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/store"
)

// SubscriberBuffer is how many events a subscriber may fall behind before
// it is dropped.
const SubscriberBuffer = 256

// Recorder stores events and publishes them to subscribers. It is safe for
// concurrent use. Subscribers receive events in ID order, the order in
// which they were stored.
type Recorder struct {
	store *store.Store

	// mu is held across the insert and the publishing of an event, so
	// that events are published in the order of their IDs.
	mu   sync.Mutex
	subs map[*subscriber]struct{}
}

type subscriber struct {
	ch chan steward.Event
}

// NewRecorder returns a Recorder that stores events in s.
func NewRecorder(s *store.Store) *Recorder {
	return &Recorder{store: s, subs: make(map[*subscriber]struct{})}
}

// Record stores ev, which sets its ID and, when zero, its Time, then
// publishes it to the subscribers and returns it as stored. An event that
// could not be stored is not published.
func (r *Recorder) Record(ctx context.Context, ev steward.Event) (steward.Event, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.store.AppendEvent(ctx, &ev); err != nil {
		return steward.Event{}, fmt.Errorf("record event: %w", err)
	}
	for s := range r.subs {
		select {
		case s.ch <- ev:
		default:
			// The subscriber is SubscriberBuffer events behind: drop it
			// rather than make Record wait.
			delete(r.subs, s)
			close(s.ch)
		}
	}
	return ev, nil
}

// Subscribe returns a channel that receives every event recorded from now
// on, and a function that ends the subscription; calling it again does
// nothing. The channel is closed when the subscription ends, and also when
// the subscriber falls SubscriberBuffer events behind: Record never waits
// for a subscriber, it drops a slow one. A dropped subscriber — an SSE
// stream, say — ends, and its client resumes from the last ID it saw with
// List (AfterID).
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

// List returns the stored events that f selects, in ID order.
func (r *Recorder) List(ctx context.Context, f store.EventFilter) ([]steward.Event, error) {
	return r.store.Events(ctx, f) // its errors already say "list events"
}
