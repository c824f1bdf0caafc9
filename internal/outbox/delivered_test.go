package outbox

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/notify"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/testwait"
)

var _ DeliveredStore = (*store.Store)(nil)

// msgReceiver is a webhook receiver that keeps the messages it is sent.
type msgReceiver struct {
	*httptest.Server
	mu   sync.Mutex
	msgs []notify.Message
}

func newMsgReceiver(t *testing.T) *msgReceiver {
	t.Helper()
	h := &msgReceiver{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m notify.Message
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.msgs = append(h.msgs, m)
		h.mu.Unlock()
	}))
	t.Cleanup(h.Close)
	return h
}

// statuses returns, for each message received, the statuses of its alerts
// with the given ID.
func (h *msgReceiver) statuses(id string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, m := range h.msgs {
		for _, a := range m.Alerts {
			if a.ID == id {
				out = append(out, string(a.Status))
			}
		}
	}
	return out
}

// TestRestartNotifiesNothingTwice is the regression test of a restart that
// notified again every alert still firing: each run opens the store, an
// outbox delivering to a real webhook receiver and a router, as a start of
// steward does; the alert engine feeds the router the alerts still firing,
// then whatever changed; the run ends once everything was delivered.
func TestRestartNotifiesNothingTwice(t *testing.T) {
	testwait.NoLeak(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "steward.db")
	rcv := newMsgReceiver(t)
	hook, err := notify.NewWebhook(notify.WebhookConfig{URL: notify.Secret(rcv.URL), Timeout: 5 * time.Second}, notify.Resolver{})
	if err != nil {
		t.Fatal(err)
	}
	rc := RouterConfig{Routes: []Route{{Name: "ops", To: []string{"hook"}, GroupWait: -1}}}
	quiet := slog.New(slog.DiscardHandler)

	run := func(feed ...notify.Alert) {
		t.Helper()
		st, err := store.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		o, err := New(st, map[string]notify.Notifier{"hook": hook}, Options{Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		if err := o.Start(ctx); err != nil {
			t.Fatal(err)
		}
		r, err := NewRouter(rc, o, RouterOptions{Delivered: st, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Start(ctx); err != nil {
			t.Fatal(err)
		}
		for _, a := range feed {
			if err := r.Alert(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := r.Stop(sctx); err != nil { // enqueues what the router holds
			t.Fatal(err)
		}
		testwait.NoError(t, 10*time.Second, func() error {
			pending, err := o.List(ctx, Filter{States: []string{store.NotificationPending}})
			if err != nil {
				return err
			}
			if len(pending) > 0 {
				return fmt.Errorf("%d notifications not delivered", len(pending))
			}
			return nil
		})
		if err := o.Stop(sctx); err != nil {
			t.Fatal(err)
		}
	}

	firing := notify.Alert{ID: "alert-1", Status: notify.StatusFiring, Severity: "critical", Rule: "cpu", Subject: "web",
		Summary: "cpu at 95%", Started: time.Now().UTC()}
	resolved := firing
	resolved.Status, resolved.Summary, resolved.Ended = notify.StatusResolved, "resolved: cpu at 20%", time.Now().UTC()

	run(firing)
	if got, want := rcv.statuses("alert-1"), []string{"firing"}; !slices.Equal(got, want) {
		t.Fatalf("first run: received %v, want %v", got, want)
	}
	run(firing) // a restart: the engine feeds the alert still firing
	if got, want := rcv.statuses("alert-1"), []string{"firing"}; !slices.Equal(got, want) {
		t.Fatalf("after a restart: received %v, want %v: the firing alert was notified twice", got, want)
	}
	run(firing, resolved) // another restart, then the alert resolves
	if got, want := rcv.statuses("alert-1"), []string{"firing", "resolved"}; !slices.Equal(got, want) {
		t.Fatalf("after it resolved: received %v, want %v", got, want)
	}
	run(firing) // a stale feed after the resolution is a new notification, not a leftover
	st, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if rows, err := st.RouteAlerts(ctx); err != nil || len(rows) != 1 {
		t.Errorf("route alerts = %+v, %v; want the one firing again", rows, err)
	}
}

// TestRestartKeepsRepeatSchedule: after a restart, a route repeats what is
// still firing its Repeat after the last message, not after the restart,
// and forgets what routes that are gone notified.
func TestRestartKeepsRepeatSchedule(t *testing.T) {
	ctx := context.Background()
	st, _ := openStore(t)
	rc := RouterConfig{Routes: []Route{{Name: "ops", To: []string{"hook"}, GroupWait: -1, Repeat: time.Hour}}}
	clock := &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	newRouter := func(c RouterConfig) (*Router, *captured) {
		t.Helper()
		out := &captured{}
		r, err := NewRouter(c, out, RouterOptions{Delivered: st, Now: clock.Now, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if err := r.load(ctx); err != nil {
			t.Fatal(err)
		}
		return r, out
	}

	r, out := newRouter(rc)
	if err := r.Alert(ctx, alert(notify.StatusFiring, "critical", "disk", "/")); err != nil {
		t.Fatal(err)
	}
	r.process(ctx)
	if got, want := summary(out.take()), []string{"hook:firing[disk/firing]"}; !slices.Equal(got, want) {
		t.Fatalf("sent %v, want %v", got, want)
	}

	clock.Add(40 * time.Minute) // steward restarts
	r, out = newRouter(rc)
	if err := r.Alert(ctx, alert(notify.StatusFiring, "critical", "disk", "/")); err != nil {
		t.Fatal(err)
	}
	r.process(ctx)
	clock.Add(20*time.Minute - time.Second)
	r.process(ctx)
	if got := out.take(); len(got) != 0 {
		t.Fatalf("sent after the restart, before the hour since the last message: %v", summary(got))
	}
	clock.Add(time.Second)
	r.process(ctx)
	if got, want := summary(out.take()), []string{"hook:firing repeat[disk/firing]"}; !slices.Equal(got, want) {
		t.Fatalf("sent %v, want %v", got, want)
	}

	// A route that is gone: what it notified is forgotten.
	newRouter(RouterConfig{Routes: []Route{{Name: "other", To: []string{"hook"}}}})
	if rows, err := st.RouteAlerts(ctx); err != nil || len(rows) != 0 {
		t.Errorf("route alerts = %+v, %v; want none left of the route that is gone", rows, err)
	}
}
