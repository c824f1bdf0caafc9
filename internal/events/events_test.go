package events

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/store"
)

// checkGoroutines fails the test if, once the test and its other cleanups
// are done, more goroutines run than before it began.
func checkGoroutines(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				t.Errorf("%d goroutines, want at most %d:\n%s",
					runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// newRecorder returns a Recorder over a new store, checking that the test
// leaks no goroutine.
func newRecorder(t *testing.T) (*Recorder, *store.Store) {
	t.Helper()
	checkGoroutines(t) // registered first, so it runs after the store is closed
	s, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return NewRecorder(s), s
}

func stateEvent(svc string, i int) steward.Event {
	return steward.Event{
		Type: steward.EventState, Service: svc, From: steward.StateRunning, To: steward.StateBackoff,
		PID: i, Reason: fmt.Sprintf("exit %d", i),
	}
}

func TestRecordThenList(t *testing.T) {
	ctx := context.Background()
	r, _ := newRecorder(t)
	var recorded []steward.Event
	for i := range 5 {
		ev, err := r.Record(ctx, stateEvent("api", i))
		if err != nil {
			t.Fatal(err)
		}
		if ev.ID != int64(i+1) || ev.Time.IsZero() || ev.PID != i {
			t.Errorf("Record returned %+v, want ID %d, a Time and PID %d", ev, i+1, i)
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
		if want := recorded[i+2]; ev != want {
			t.Errorf("List()[%d] = %+v, want %+v", i, ev, want)
		}
	}
	if _, err := r.List(ctx, store.EventFilter{Limit: -1}); err == nil {
		t.Error("List with a negative limit succeeded")
	}
}

func TestSubscribeOrder(t *testing.T) {
	ctx := context.Background()
	r, _ := newRecorder(t)
	ch, unsubscribe := r.Subscribe()
	defer unsubscribe()

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
	if len(stored) != writers*each {
		t.Fatalf("stored %d events, want %d", len(stored), writers*each)
	}
	for i, want := range stored {
		got := <-ch
		got.Time, want.Time = got.Time.UTC(), want.Time.UTC()
		if !got.Time.Equal(want.Time) {
			t.Errorf("event %d: Time %v, want %v", i, got.Time, want.Time)
		}
		got.Time, want.Time = time.Time{}, time.Time{}
		if got != want {
			t.Fatalf("published event %d = %+v, want %+v: publish order differs from store order", i, got, want)
		}
	}
	select {
	case ev := <-ch:
		t.Errorf("extra event %+v", ev)
	default:
	}
}

func TestSlowSubscriberDropped(t *testing.T) {
	ctx := context.Background()
	r, _ := newRecorder(t)
	slow, unsubscribeSlow := r.Subscribe() // never reads until the end
	defer unsubscribeSlow()
	fast, unsubscribeFast := r.Subscribe()
	defer unsubscribeFast()

	// The fast subscriber drains its channel between two batches, so only
	// the slow one falls behind.
	const n = SubscriberBuffer + 50
	done := make(chan error)
	go func() {
		for i := range n {
			if i == SubscriberBuffer {
				for range SubscriberBuffer {
					<-fast
				}
			}
			if _, err := r.Record(ctx, stateEvent("api", i)); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Record blocked on a slow subscriber")
	}
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
	r, _ := newRecorder(t)
	ch, unsubscribe := r.Subscribe()
	if _, err := r.Record(ctx, stateEvent("api", 1)); err != nil {
		t.Fatal(err)
	}
	unsubscribe()
	unsubscribe() // idempotent
	if _, err := r.Record(ctx, stateEvent("api", 2)); err != nil {
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

func TestRecordError(t *testing.T) {
	ctx := context.Background()
	r, s := newRecorder(t)
	ch, unsubscribe := r.Subscribe()
	defer unsubscribe()

	_, err := r.Record(ctx, steward.Event{}) // no type
	if got := steward.ErrorCode(err); got != steward.EINVALID {
		t.Errorf("Record without a type: code %q (err %v), want %q", got, err, steward.EINVALID)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = r.Record(ctx, stateEvent("api", 1))
	if err == nil || !strings.HasPrefix(err.Error(), "record event") {
		t.Errorf("Record on a closed store: err = %v, want one starting with \"record event\"", err)
	}
	select {
	case ev := <-ch:
		t.Errorf("an event that was not stored was published: %+v", ev)
	default:
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
}
