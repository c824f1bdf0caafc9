package outbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/notify"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/testwait"
)

func newHookReceiver(t *testing.T) *hookReceiver {
	t.Helper()
	h := &hookReceiver{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get(notify.HeaderIdempotencyKey)
		h.mu.Lock()
		defer h.mu.Unlock()
		h.keys = append(h.keys, key)
		if h.down.Load() {
			http.Error(w, "receiver down", http.StatusInternalServerError)
			return
		}
		h.accepted = append(h.accepted, key)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookReceiver) counts() (requests, accepted int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.keys), len(h.accepted)
}

func (h *hookReceiver) notifier(t *testing.T) notify.Notifier {
	t.Helper()
	w, err := notify.NewWebhook(notify.WebhookConfig{URL: notify.Secret(h.URL), Timeout: 2 * time.Second}, notify.Resolver{})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

var _ Store = (*store.Store)(nil)

func openStore(t *testing.T) (*store.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "steward.db")
	st, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, path
}

func startOutbox(t *testing.T, st *store.Store, ns map[string]notify.Notifier, opts Options) *Outbox {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	o, err := New(st, ns, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := o.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return o
}

func testMsg(key string) notify.Message {
	m := notify.Message{Key: key, Alerts: []notify.Alert{{Status: notify.StatusFiring, Severity: "critical", Rule: "disk", Subject: "/"}}}
	m.Summarize()
	return m
}

func state(t *testing.T, o *Outbox, id int64) Notification {
	t.Helper()
	n, err := o.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRetriesUntilReceiverIsBack has a receiver answer 500 for a while,
// then 200: the notification arrives, with the same key every time.
func TestRetriesUntilReceiverIsBack(t *testing.T) {
	testwait.NoLeak(t)
	h := newHookReceiver(t)
	h.down.Store(true)
	st, _ := openStore(t)
	var delivered atomic.Int64
	o := startOutbox(t, st, map[string]notify.Notifier{"hook": h.notifier(t)}, Options{
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 40 * time.Millisecond,
		OnDelivered: func(n Notification) { delivered.Store(n.ID) },
	})
	n, err := o.Enqueue(context.Background(), "hook", testMsg("key-1"))
	if err != nil {
		t.Fatal(err)
	}
	if n.State != store.NotificationPending || n.Message.Key != "key-1" {
		t.Errorf("enqueued = %+v", n)
	}
	testwait.For(t, 5*time.Second, "three failed attempts", func() bool { r, _ := h.counts(); return r >= 3 })
	got := state(t, o, n.ID)
	if got.State != store.NotificationPending || got.Attempts < 2 || !strings.Contains(got.LastError, "500") {
		t.Errorf("while down: %+v", got)
	}
	h.down.Store(false)
	testwait.For(t, 5*time.Second, "delivery", func() bool { return delivered.Load() == n.ID })
	got = state(t, o, n.ID)
	reqs, acc := h.counts()
	if got.State != store.NotificationDelivered || got.Attempts != reqs || acc != 1 || got.LastError != "" {
		t.Errorf("after delivery: %+v; %d requests, %d accepted", got, reqs, acc)
	}
	h.mu.Lock()
	for _, k := range h.keys {
		if k != "key-1" {
			t.Errorf("a request carried key %q, want key-1 every time", k)
		}
	}
	h.mu.Unlock()
}

// TestGiveUpAndRetry gives up on a notification after its max age, says so
// in the log and to OnGiveUp, then delivers it after a Retry.
func TestGiveUpAndRetry(t *testing.T) {
	testwait.NoLeak(t)
	h := newHookReceiver(t)
	h.down.Store(true)
	st, _ := openStore(t)
	var logs syncBuffer
	gaveUp := make(chan Notification, 1)
	o := startOutbox(t, st, map[string]notify.Notifier{"hook": h.notifier(t)}, Options{
		MaxAge: 200 * time.Millisecond, MinBackoff: 20 * time.Millisecond, MaxBackoff: 40 * time.Millisecond,
		Logger:   slog.New(slog.NewTextHandler(&logs, nil)),
		OnGiveUp: func(n Notification) { gaveUp <- n },
	})
	n, err := o.Enqueue(context.Background(), "hook", testMsg(""))
	if err != nil {
		t.Fatal(err)
	}
	if len(n.Key) != 32 || n.Message.Key != n.Key {
		t.Errorf("generated key = %q", n.Key)
	}
	var g Notification
	select {
	case g = <-gaveUp:
	case <-time.After(5 * time.Second):
		t.Fatal("not given up")
	}
	if g.ID != n.ID || g.State != store.NotificationFailed || !strings.Contains(g.LastError, "max age of 200ms") ||
		!strings.Contains(g.LastError, "500 Internal Server Error") || g.Message.Alerts[0].Rule != "disk" {
		t.Errorf("given up = %+v", g)
	}
	if !strings.Contains(logs.String(), "notification given up") || !strings.Contains(logs.String(), "id="+fmt.Sprint(n.ID)) {
		t.Errorf("log lacks the give-up line:\n%s", logs.String())
	}
	failed, err := o.List(context.Background(), Filter{States: []string{store.NotificationFailed}})
	if err != nil || len(failed) != 1 || failed[0].ID != n.ID || !failed[0].NextAttempt.IsZero() {
		t.Fatalf("failed list = %+v, %v", failed, err)
	}
	// The last attempt counts: what is stored is what the reason says.
	if want := fmt.Sprintf("after %d attempts", failed[0].Attempts); failed[0].Attempts != g.Attempts ||
		!strings.Contains(failed[0].LastError, want) || !failed[0].LastAttempt.Equal(failed[0].Done) {
		t.Errorf("stored %d attempts, last at %v, done %v, %q; reported %d", failed[0].Attempts,
			failed[0].LastAttempt, failed[0].Done, failed[0].LastError, g.Attempts)
	}
	if pending, _ := o.List(context.Background(), Filter{States: []string{store.NotificationPending}}); len(pending) != 0 {
		t.Errorf("pending = %+v, want none", pending)
	}

	h.down.Store(false)
	r, err := o.Retry(context.Background(), n.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r.State != store.NotificationPending || r.Attempts != 0 || r.Key != n.Key {
		t.Errorf("retried = %+v", r)
	}
	testwait.For(t, 5*time.Second, "delivery after retry", func() bool { return state(t, o, n.ID).State == store.NotificationDelivered })
	h.mu.Lock()
	if last := h.accepted[len(h.accepted)-1]; last != n.Key {
		t.Errorf("delivered with key %q, want %q", last, n.Key)
	}
	h.mu.Unlock()
	if _, err := o.Retry(context.Background(), n.ID); steward.ErrorCode(err) != steward.ECONFLICT {
		t.Errorf("retry of a delivered one: %v, want ECONFLICT", err)
	}
	if _, err := o.Retry(context.Background(), 999); steward.ErrorCode(err) != steward.ENOTFOUND {
		t.Errorf("retry of a missing one: %v, want ENOTFOUND", err)
	}
	if _, err := o.Get(context.Background(), 999); steward.ErrorCode(err) != steward.ENOTFOUND {
		t.Errorf("get of a missing one: %v, want ENOTFOUND", err)
	}
}

// fakeClock is a clock that moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// failing is a notifier that fails until ok is set, counting its calls.
type failing struct {
	calls atomic.Int64
	ok    atomic.Bool
	err   error
}

func (f *failing) Notify(ctx context.Context, m notify.Message) error {
	f.calls.Add(1)
	if f.ok.Load() {
		return nil
	}
	return f.err
}

// TestMaxAgeWithClock drives the max age with an injected clock: the
// notification is attempted once more at its max age, then given up.
func TestMaxAgeWithClock(t *testing.T) {
	testwait.NoLeak(t)
	clock := &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	st, _ := openStore(t)
	f := &failing{err: errors.New("connection refused")}
	gaveUp := make(chan Notification, 1)
	o := startOutbox(t, st, map[string]notify.Notifier{"n": f}, Options{
		MaxAge: time.Hour, MinBackoff: time.Minute, MaxBackoff: 10 * time.Minute,
		Now: clock.Now, OnGiveUp: func(n Notification) { gaveUp <- n },
	})
	n, err := o.Enqueue(context.Background(), "n", testMsg("k"))
	if err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 5*time.Second, "first attempt", func() bool { return state(t, o, n.ID).Attempts == 1 })
	got := state(t, o, n.ID)
	if d := got.NextAttempt.Sub(clock.Now()); d < time.Minute || d > 75*time.Second {
		t.Errorf("first retry in %v, want 1m to 1m15s", d)
	}
	// Time passes; each wake-up finds the notification due.
	for i := 0; i < 20 && state(t, o, n.ID).State == store.NotificationPending; i++ {
		clock.Add(12 * time.Minute) // past the longest backoff with jitter
		o.Wake()
		want := int64(i + 2)
		testwait.For(t, 5*time.Second, "an attempt after the clock moved", func() bool {
			return f.calls.Load() >= want || state(t, o, n.ID).State != store.NotificationPending
		})
	}
	select {
	case g := <-gaveUp:
		// The loop may move the clock once more while the give-up is under
		// way, so Done is at or before the clock's time.
		if !strings.Contains(g.LastError, "connection refused") || g.Done.After(clock.Now()) {
			t.Errorf("given up = %+v", g)
		}
		// The last attempt is due at the max age; the clock moves 12m a step.
		if age := g.Done.Sub(g.Since); age < time.Hour || age > 72*time.Minute {
			t.Errorf("given up after %v, want within a step past the max age of 1h", age)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("not given up: %+v", state(t, o, n.ID))
	}
}

func TestBackoff(t *testing.T) {
	o, err := New(&store.Store{}, nil, Options{MinBackoff: time.Second, MaxBackoff: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for attempts, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 5: 16 * time.Second, 6: 30 * time.Second, 60: 30 * time.Second} {
		for range 20 {
			if got := o.backoff(attempts); got < want || got > min(want*5/4, 30*time.Second) {
				t.Errorf("backoff(%d) = %v, want %v to 25%% more, at most 30s", attempts, got, want)
			}
		}
	}
	if _, err := New(nil, nil, Options{}); err == nil {
		t.Error("New without a store succeeded")
	}
	if _, err := New(&store.Store{}, nil, Options{MaxAge: -1}); steward.ErrorCode(err) != steward.EINVALID {
		t.Errorf("New with a negative option: %v", err)
	}
}

// retryLater is a notifier that asks for a wait, like a 429 does.
type retryLater struct{}

type laterErr struct{}

func (laterErr) Error() string                                  { return "429 Too Many Requests" }
func (laterErr) RetryAfter() time.Duration                      { return time.Hour }
func (retryLater) Notify(context.Context, notify.Message) error { return laterErr{} }

func TestRetryAfterIsHonored(t *testing.T) {
	testwait.NoLeak(t)
	st, _ := openStore(t)
	o := startOutbox(t, st, map[string]notify.Notifier{"n": retryLater{}}, Options{MaxAge: 30 * time.Minute, MinBackoff: time.Millisecond})
	n, err := o.Enqueue(context.Background(), "n", testMsg("k"))
	if err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 5*time.Second, "an attempt", func() bool { return state(t, o, n.ID).Attempts == 1 })
	got := state(t, o, n.ID)
	// Retry-After of an hour, but the max age is 30 minutes: one last try then.
	if want := got.Since.Add(30 * time.Minute); !got.NextAttempt.Equal(want) {
		t.Errorf("next attempt %v, want the max age %v", got.NextAttempt, want)
	}
}

// TestUnknownNotifier keeps a notification whose notifier is gone pending
// until the notifier is back.
func TestUnknownNotifier(t *testing.T) {
	testwait.NoLeak(t)
	st, _ := openStore(t)
	o := startOutbox(t, st, nil, Options{MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	n, err := o.Enqueue(context.Background(), "later", testMsg("k"))
	if err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 5*time.Second, "a failed attempt", func() bool { return state(t, o, n.ID).Attempts >= 1 })
	if got := state(t, o, n.ID); !strings.Contains(got.LastError, `notifier "later" is not configured`) {
		t.Errorf("last error = %q", got.LastError)
	}
	f := &failing{}
	f.ok.Store(true)
	o.SetNotifiers(map[string]notify.Notifier{"later": f})
	testwait.For(t, 5*time.Second, "delivery", func() bool { return state(t, o, n.ID).State == store.NotificationDelivered })
	if _, err := o.Enqueue(context.Background(), "later", testMsg("k")); steward.ErrorCode(err) != steward.ECONFLICT {
		t.Errorf("enqueue of a known key: %v, want ECONFLICT", err)
	}
}

// blocking is a notifier that waits for its context.
type blocking struct{ started chan struct{} }

func (b *blocking) Notify(ctx context.Context, m notify.Message) error {
	b.started <- struct{}{}
	<-ctx.Done()
	return ctx.Err()
}

// TestStopCancelsAttempts stops with attempts under way: they end, and the
// notifications stay pending and due, to be made again after Start.
func TestStopCancelsAttempts(t *testing.T) {
	testwait.NoLeak(t)
	st, _ := openStore(t)
	b := &blocking{started: make(chan struct{}, 10)}
	o, err := New(st, map[string]notify.Notifier{"b": b}, Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Stop(context.Background()); err != nil {
		t.Errorf("Stop before Start: %v", err)
	}
	var ids []int64
	for i := range 3 {
		n, err := o.Enqueue(context.Background(), "b", testMsg(fmt.Sprint("k", i)))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, n.ID)
	}
	if err := o.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := o.Start(context.Background()); err == nil {
		t.Error("a second Start succeeded")
	}
	<-b.started
	<-b.started
	select {
	case <-b.started:
		t.Error("a third attempt ran beside two with 2 workers")
	case <-time.After(50 * time.Millisecond):
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := o.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := o.Stop(ctx); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	for _, id := range ids {
		if got := state(t, o, id); got.State != store.NotificationPending || got.Attempts != 0 {
			t.Errorf("after Stop: %+v, want pending with no attempt counted", got)
		}
	}
}

func TestStopDeadline(t *testing.T) {
	st, _ := openStore(t)
	stuck := make(chan struct{})
	defer close(stuck)
	attempting := make(chan struct{})
	n := notifierFunc(func(ctx context.Context, m notify.Message) error { close(attempting); <-stuck; return nil })
	o, _ := New(st, map[string]notify.Notifier{"n": n}, Options{})
	o.Start(context.Background())
	o.Enqueue(context.Background(), "n", testMsg("k"))
	<-attempting
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := o.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Stop with a stuck notifier = %v, want DeadlineExceeded", err)
	}
}

type notifierFunc func(ctx context.Context, m notify.Message) error

func (f notifierFunc) Notify(ctx context.Context, m notify.Message) error { return f(ctx, m) }

func TestUnreadableBodyIsGivenUp(t *testing.T) {
	testwait.NoLeak(t)
	st, _ := openStore(t)
	row := store.Notification{Key: "bad", Notifier: "n", Body: []byte("{not json")}
	if err := st.AddNotification(context.Background(), &row); err != nil {
		t.Fatal(err)
	}
	gaveUp := make(chan Notification, 1)
	o := startOutbox(t, st, map[string]notify.Notifier{"n": &failing{}}, Options{OnGiveUp: func(n Notification) { gaveUp <- n }})
	select {
	case g := <-gaveUp:
		if !strings.Contains(g.LastError, "unreadable message") {
			t.Errorf("reason = %q", g.LastError)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("not given up")
	}
	if got, _ := o.List(context.Background(), Filter{Notifier: "n", Limit: 5}); len(got) != 1 || got[0].Message.Key != "" {
		t.Errorf("list = %+v", got)
	}
	if _, err := o.List(context.Background(), Filter{Limit: -1}); err == nil {
		t.Error("negative limit accepted")
	}
}

func TestPrune(t *testing.T) {
	testwait.NoLeak(t)
	clock := &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	st, _ := openStore(t)
	f := &failing{}
	f.ok.Store(true)
	o, _ := New(st, map[string]notify.Notifier{"n": f}, Options{Now: clock.Now, Retention: time.Hour})
	n, _ := o.Enqueue(context.Background(), "n", testMsg("old"))
	o.Start(context.Background())
	defer o.Stop(context.Background())
	testwait.For(t, 5*time.Second, "delivery", func() bool { return state(t, o, n.ID).State == store.NotificationDelivered })
	clock.Add(2 * time.Hour)
	o.Wake()
	testwait.For(t, 5*time.Second, "prune", func() bool {
		_, err := o.Get(context.Background(), n.ID)
		return steward.ErrorCode(err) == steward.ENOTFOUND
	})
}

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
