package events

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/store"
)

// holdWriteLock takes the write lock of the database at path from a
// connection of its own, as `sqlite3 steward.db 'BEGIN EXCLUSIVE;'` does,
// and returns the function that releases it.
func holdWriteLock(t *testing.T, path string) (release func()) {
	t.Helper()
	ctx := context.Background()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	var released bool
	release = func() {
		if released {
			return
		}
		released = true
		if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
			t.Error(err)
		}
		conn.Close()
		db.Close()
	}
	t.Cleanup(release)
	return release
}

// chain is the state events of a service that goes round and round
// starting → running → backoff.
var chain = []steward.State{steward.StateStarting, steward.StateRunning, steward.StateBackoff}

func chainEvent(svc string, i int) steward.Event {
	return steward.Event{Type: steward.EventState, Service: svc, From: chain[i%3], To: chain[(i+1)%3],
		PID: 1000 + i, Reason: fmt.Sprintf("step %d", i)}
}

// superviseWhileLocked records each services' events from a goroutine
// standing in for the supervisor and fails t unless every Record call
// returns while the store's write lock is still held — the test holds it
// until then — with nothing stored yet.
func superviseWhileLocked(t *testing.T, r *Recorder, s *store.Store, services []string, each int) {
	t.Helper()
	ctx := context.Background()
	returned := make(chan error, 1)
	go func() {
		for i := range each {
			for _, svc := range services {
				if _, err := r.Record(ctx, chainEvent(svc, i)); err != nil {
					returned <- err
					return
				}
			}
		}
		returned <- nil
	}()
	select {
	case err := <-returned:
		if err != nil {
			t.Fatalf("Record while the store is locked: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the supervisor's Record calls waited for the store's write lock")
	}
	stored, err := s.Events(ctx, store.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 0 {
		t.Fatalf("%d events stored while another connection held the write lock", len(stored))
	}
}

// TestLockedStoreDoesNotStallRecord is the regression test of a kill that
// was restarted only once the store's lock was released: Record returns
// while another connection holds the write lock, and once it is released
// every event is stored, in order, and published.
func TestLockedStoreDoesNotStallRecord(t *testing.T) {
	r, s, path := newRecorder(t)
	ch, unsubscribe := r.Subscribe()
	published := collect(ch)
	release := holdWriteLock(t, path)

	// Fewer events than a subscriber's buffer, so that the subscriber is
	// not dropped however the goroutines are scheduled.
	services := []string{"api", "db", "web"}
	const each = SubscriberBuffer / 4
	superviseWhileLocked(t, r, s, services, each)
	release()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stored, err := r.List(ctx, store.EventFilter{Limit: 10 * each})
	if err != nil {
		t.Fatal(err)
	}
	unsubscribe()
	if len(stored) != len(services)*each {
		t.Fatalf("stored %d events, want %d", len(stored), len(services)*each)
	}
	for i, ev := range stored {
		want := chainEvent(services[i%len(services)], i/len(services))
		if ev.Service != want.Service || ev.From != want.From || ev.To != want.To || ev.PID != want.PID || ev.Reason != want.Reason {
			t.Fatalf("stored event %d = %+v, want %+v", i, ev, want)
		}
	}
	samePublished(t, published(), stored)
}

var mergedRE = regexp.MustCompile(`\[and (\d+) earlier state events of this kind, merged while the store could not be written\]$`)

// TestFullQueueMerges: while the store stays locked, a full queue merges
// each service's state events instead of growing or blocking; what is
// stored still tells each service's story from its first state to its last,
// and says how many events each merged one stands for.
func TestFullQueueMerges(t *testing.T) {
	r, s, path := newRecorder(t)
	const limit = 16
	r.j.limit = limit
	ch, unsubscribe := r.Subscribe()
	published := collect(ch)
	release := holdWriteLock(t, path)

	services := []string{"api", "db", "web"}
	const each = 200
	superviseWhileLocked(t, r, s, services, each)
	r.mu.Lock()
	queued := len(r.queue)
	r.mu.Unlock()
	if queued > limit+len(services) {
		t.Errorf("%d events queued, want at most %d", queued, limit+len(services))
	}
	release()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stored, err := r.List(ctx, store.EventFilter{Limit: 10 * each})
	if err != nil {
		t.Fatal(err)
	}
	unsubscribe()
	if len(stored) >= len(services)*each {
		t.Errorf("stored %d events, want fewer than the %d recorded: merged", len(stored), len(services)*each)
	}
	for _, svc := range services {
		var evs []steward.Event
		for _, ev := range stored {
			if ev.Service == svc {
				evs = append(evs, ev)
			}
		}
		n := 0
		for i, ev := range evs {
			n++
			if m := mergedRE.FindStringSubmatch(ev.Reason); m != nil {
				k, _ := strconv.Atoi(m[1])
				n += k
			}
			if i > 0 && ev.From != evs[i-1].To {
				t.Errorf("%s: event %d goes from %s, but the one before went to %s", svc, i, ev.From, evs[i-1].To)
			}
		}
		last := chainEvent(svc, each-1)
		switch {
		case n != each:
			t.Errorf("%s: stored events stand for %d recorded ones, want %d", svc, n, each)
		case evs[0].From != chain[0]:
			t.Errorf("%s: first stored event goes from %s, want %s", svc, evs[0].From, chain[0])
		case evs[len(evs)-1].To != last.To || evs[len(evs)-1].PID != last.PID ||
			!strings.HasPrefix(evs[len(evs)-1].Reason, last.Reason):
			t.Errorf("%s: last stored event %+v, want it to end like %+v", svc, evs[len(evs)-1], last)
		}
	}
	samePublished(t, published(), stored)
}

// TestCloseGivesUp: Close, with the store locked and its deadline passed,
// gives up what is queued, says how much, and leaves no goroutine behind.
func TestCloseGivesUp(t *testing.T) {
	r, s, path := newRecorder(t)
	holdWriteLock(t, path)
	superviseWhileLocked(t, r, s, []string{"api"}, 10)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := r.Close(ctx)
	if err == nil || !strings.Contains(err.Error(), "10 events not stored") {
		t.Errorf("Close with the store locked: %v, want 10 events not stored", err)
	}
}
