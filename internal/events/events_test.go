package events

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/testwait"
)

var _ EventStore = (*store.Store)(nil)

// newRecorder returns a Recorder over a new store, checking that the test
// leaks no goroutine. The Recorder, then the store, are closed when the
// test ends.
func newRecorder(t *testing.T, opts ...Option) (*Recorder, *store.Store, string) {
	t.Helper()
	testwait.NoLeak(t) // registered first, so it runs after the store is closed
	return openRecorder(t, opts...)
}

// openRecorder returns a Recorder over a new store, and the store's path.
// The Recorder, then the store, are closed when the test ends.
func openRecorder(t *testing.T, opts ...Option) (*Recorder, *store.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "steward.db")
	s, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	r := NewRecorder(s, append([]Option{WithLogger(slog.New(slog.DiscardHandler))}, opts...)...)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := r.Close(ctx); err != nil {
			t.Error(err)
		}
	})
	return r, s, path
}

func stateEvent(svc string, i int) steward.Event {
	return steward.Event{
		Type: steward.EventState, Service: svc, From: steward.StateRunning, To: steward.StateBackoff,
		PID: i, Reason: fmt.Sprintf("exit %d", i),
	}
}

func TestRecordThenList(t *testing.T) {
	ctx := context.Background()
	r, _, _ := newRecorder(t)
	var recorded []steward.Event
	for i := range 5 {
		ev, err := r.Record(ctx, stateEvent("api", i))
		if err != nil {
			t.Fatal(err)
		}
		if ev.ID != 0 || ev.Time.IsZero() || ev.PID != i {
			t.Errorf("Record returned %+v, want no ID yet, a Time and PID %d", ev, i)
		}
		recorded = append(recorded, ev)
	}
	got, err := r.List(ctx, store.EventFilter{AfterID: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("List after 2 = %d events, want 3", len(got))
	}
	for i, ev := range got {
		want := recorded[i+2]
		want.ID = int64(i + 3)
		if !ev.Time.Equal(want.Time) {
			t.Errorf("List()[%d].Time = %v, want %v", i, ev.Time, want.Time)
		}
		ev.Time, want.Time = time.Time{}, time.Time{}
		if ev != want {
			t.Errorf("List()[%d] = %+v, want %+v", i, ev, want)
		}
	}
	if _, err := r.List(ctx, store.EventFilter{Limit: -1}); err == nil {
		t.Error("List with a negative limit succeeded")
	}
}

// collect receives from ch until it is closed, and returns what it got
// through the function it returns, which waits for the end.
func collect(ch <-chan steward.Event) func() []steward.Event {
	var got []steward.Event
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range ch {
			got = append(got, ev)
		}
	}()
	return func() []steward.Event {
		<-done
		return got
	}
}

// samePublished fails t unless published are exactly the stored events,
// in ID order.
func samePublished(t *testing.T, published, stored []steward.Event) {
	t.Helper()
	if len(published) != len(stored) {
		t.Fatalf("published %d events, stored %d", len(published), len(stored))
	}
	for i, want := range stored {
		got := published[i]
		if !got.Time.Equal(want.Time) {
			t.Errorf("event %d: published Time %v, stored %v", i, got.Time, want.Time)
		}
		got.Time, want.Time = time.Time{}, time.Time{}
		if got != want {
			t.Fatalf("published event %d = %+v, stored %+v: publish order differs from store order", i, got, want)
		}
		if i > 0 && stored[i].ID <= stored[i-1].ID {
			t.Fatalf("stored IDs not increasing at %d: %d after %d", i, stored[i].ID, stored[i-1].ID)
		}
	}
}

func TestSubscribeOrder(t *testing.T) {
	ctx := context.Background()
	r, _, _ := newRecorder(t)
	ch, unsubscribe := r.Subscribe()
	published := collect(ch)

	// Fewer events than the buffer, so that the subscriber is not dropped
	// however the goroutines are scheduled.
	const writers, each = 4, SubscriberBuffer / 4
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if _, err := r.Record(ctx, stateEvent(fmt.Sprint("s", w), i)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()

	stored, err := r.List(ctx, store.EventFilter{Limit: writers * each})
	if err != nil {
		t.Fatal(err)
	}
	unsubscribe()
	if len(stored) != writers*each {
		t.Fatalf("stored %d events, want %d", len(stored), writers*each)
	}
	samePublished(t, published(), stored)
}

func TestSlowSubscriberDropped(t *testing.T) {
	ctx := context.Background()
	r, _, _ := newRecorder(t)
	slow, unsubscribeSlow := r.Subscribe() // never reads until the end
	defer unsubscribeSlow()
	fast, unsubscribeFast := r.Subscribe()
	defer unsubscribeFast()

	// The fast subscriber drains its channel between two batches, so only
	// the slow one falls behind.
	record := func(from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			if _, err := r.Record(ctx, stateEvent("api", i)); err != nil {
				t.Fatal(err)
			}
		}
		if err := r.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	const n = SubscriberBuffer + 50
	record(0, SubscriberBuffer)
	for range SubscriberBuffer {
		<-fast
	}
	record(SubscriberBuffer, n)
	if got := len(fast); got != n-SubscriberBuffer {
		t.Errorf("fast subscriber has %d events waiting, want %d", got, n-SubscriberBuffer)
	}

	// The slow one got the buffer's worth, in order, then its channel closed.
	var ids []int64
	for ev := range slow {
		ids = append(ids, ev.ID)
	}
	if len(ids) != SubscriberBuffer {
		t.Errorf("slow subscriber received %d events before being dropped, want %d", len(ids), SubscriberBuffer)
	}
	for i, id := range ids {
		if id != int64(i+1) {
			t.Fatalf("slow subscriber's event %d has ID %d, want %d", i, id, i+1)
		}
	}
	unsubscribeSlow() // after being dropped: does nothing

	r.mu.Lock()
	subs := len(r.subs)
	r.mu.Unlock()
	if subs != 1 {
		t.Errorf("%d subscribers left, want 1", subs)
	}
}

func TestUnsubscribe(t *testing.T) {
	ctx := context.Background()
	r, _, _ := newRecorder(t)
	ch, unsubscribe := r.Subscribe()
	if _, err := r.Record(ctx, stateEvent("api", 1)); err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	unsubscribe()
	unsubscribe() // idempotent
	if _, err := r.Record(ctx, stateEvent("api", 2)); err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var got []int64
	for ev := range ch { // closed by unsubscribe
		got = append(got, ev.ID)
	}
	if len(got) != 1 || got[0] != 1 {
		t.Errorf("received IDs %v, want [1]: nothing after unsubscribing", got)
	}

	// Unsubscribing concurrently with Record is safe.
	var wg sync.WaitGroup
	for range 8 {
		_, unsub := r.Subscribe()
		wg.Go(unsub)
		wg.Go(func() {
			if _, err := r.Record(ctx, stateEvent("api", 3)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

// syncBuffer is a log destination that the journal goroutine writes while
// the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestRecordError: an event without a type is refused at once; one the
// store refuses for good is logged and not published.
func TestRecordError(t *testing.T) {
	ctx := context.Background()
	var logs syncBuffer
	r, s, _ := newRecorder(t, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	ch, unsubscribe := r.Subscribe()
	defer unsubscribe()

	_, err := r.Record(ctx, steward.Event{}) // no type
	if got := steward.ErrorCode(err); got != steward.EINVALID {
		t.Errorf("Record without a type: code %q (err %v), want %q", got, err, steward.EINVALID)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err = r.Record(ctx, stateEvent("api", 1)); err != nil {
		t.Errorf("Record on a closed store: %v, want it queued", err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-ch:
		t.Errorf("an event that was not stored was published: %+v", ev)
	default:
	}
	if got := logs.String(); !strings.Contains(got, "events not stored") || !strings.Contains(got, "events=1") {
		t.Errorf("log = %q, want the event that was not stored reported", got)
	}
}

func TestRecordAfterClose(t *testing.T) {
	ctx := context.Background()
	r, _, _ := newRecorder(t)
	if err := r.Close(ctx); err != nil {
		t.Fatal(err)
	}
	_, err := r.Record(ctx, stateEvent("api", 1))
	if got := steward.ErrorCode(err); got != steward.EUNAVAILABLE {
		t.Errorf("Record after Close: code %q (err %v), want %q", got, err, steward.EUNAVAILABLE)
	}
}

func BenchmarkRecord(b *testing.B) {
	ctx := context.Background()
	s, err := store.Open(ctx, filepath.Join(b.TempDir(), "steward.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	r := NewRecorder(s)
	defer r.Close(ctx)
	ch, unsubscribe := r.Subscribe()
	defer unsubscribe()
	go func() {
		for range ch {
		}
	}()
	for b.Loop() {
		if _, err := r.Record(ctx, stateEvent("api", 1)); err != nil {
			b.Fatal(err)
		}
	}
	if err := r.Flush(ctx); err != nil {
		b.Fatal(err)
	}
}
