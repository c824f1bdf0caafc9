package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/events"
	"github.com/stewardhq/steward/internal/notify"
	"github.com/stewardhq/steward/internal/outbox"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/testwait"
)

// testConfig parses yaml as the config file of the data dir dir.
func testConfig(t *testing.T, dir, yaml string) *config.Config {
	t.Helper()
	cfg, err := config.Parse(filepath.Join(dir, "steward.yaml"), []byte("data_dir: .\n"+yaml), config.Registry{Notifiers: notify.Types()})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestRouterConfig(t *testing.T) {
	got := routerConfig([]config.Route{
		{Name: "crit", Match: map[string]string{"severity": "critical", "service": "web-*", "rule": "disk:*", "subject": "m"},
			To: []string{"a"}, GroupWait: 0, Repeat: time.Hour, Continue: true},
		{To: []string{"b"}, GroupWait: 10 * time.Second},
	})
	want := outbox.RouterConfig{Routes: []outbox.Route{
		{Name: "crit", Match: outbox.Match{Severity: []string{"critical"}, Service: []string{"web-*"}, Rule: []string{"disk:*"}, Subject: []string{"m"}},
			To: []string{"a"}, GroupWait: -1, Continue: true},
		{To: []string{"b"}, GroupWait: 10 * time.Second},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("routerConfig = %+v\nwant %+v", got, want)
	}
}

// TestAlertsToNotifications: the transitions of an alert become messages:
// firing, a reminder, resolved; an acknowledgement does not.
func TestAlertsToNotifications(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, filepath.Join(dir, "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg := testConfig(t, dir, `
notify:
  hook: {exec: {command: ["true"]}}
alerts:
  routes:
    - {match: {service: "api"}, to: [hook], group_wait: 0s}
`)
	n, err := newNotifications(cfg, st, events.NewRecorder(st), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	n.start(ctx)
	defer n.stop()

	now := time.Now().UTC()
	a := steward.Alert{ID: 7, Rule: "failed", Subject: "api", Severity: "critical", State: steward.AlertFiring, Started: now}
	messages := func(want int) []notify.Message {
		t.Helper()
		var list []outbox.Notification
		testwait.NoError(t, 5*time.Second, func() error {
			var err error
			if list, err = n.List(ctx, outbox.Filter{}); err != nil {
				return err
			}
			if len(list) < want {
				return fmt.Errorf("%d notifications, want %d", len(list), want)
			}
			return nil
		})
		if len(list) != want {
			t.Fatalf("%d notifications, want %d", len(list), want)
		}
		var out []notify.Message
		for i := len(list) - 1; i >= 0; i-- {
			out = append(out, list[i].Message)
		}
		return out
	}
	n.alert(a, steward.AlertTransition{Time: now, To: steward.AlertFiring, Message: "gave up"})
	m := messages(1)[0]
	if al := m.Alerts[0]; m.Status != notify.StatusFiring || al.ID != "alert-7" || al.Service != "api" || al.Summary != "gave up" {
		t.Errorf("firing message = %+v", m)
	}
	// A check's alert is about no service: this route does not take it.
	n.alert(steward.Alert{ID: 8, Rule: "check", Subject: "api", Severity: "critical"}, steward.AlertTransition{Time: now, To: steward.AlertFiring})
	a.AckedBy, a.AckedAt = "me", now.Add(time.Second)
	n.alert(a, steward.AlertTransition{Time: a.AckedAt, From: steward.AlertFiring, To: steward.AlertFiring, Message: "acknowledged by me"})
	n.alert(a, steward.AlertTransition{Time: now.Add(2 * time.Second), From: steward.AlertFiring, To: steward.AlertFiring, Message: "still firing (reminder 1): gave up"})
	if m := messages(2)[1]; m.Alerts[0].Summary != "still firing (reminder 1): gave up" {
		t.Errorf("reminder message = %+v", m)
	}
	a.State, a.Resolved = steward.AlertResolved, now.Add(3*time.Second)
	n.alert(a, steward.AlertTransition{Time: a.Resolved, From: steward.AlertFiring, To: steward.AlertResolved, Message: "resolved: running"})
	if m := messages(3)[2]; m.Status != notify.StatusResolved || !m.Alerts[0].Ended.Equal(a.Resolved) {
		t.Errorf("resolved message = %+v", m)
	}

	// A new route set takes over; the notifiers follow the config.
	cfg2 := testConfig(t, dir, `
notify:
  pager: {exec: {command: ["true"]}}
notifications: {max_age: 1h}
alerts:
  routes:
    - {to: [pager], group_wait: 0s}
`)
	n.apply(cfg2)
	n.alert(steward.Alert{ID: 9, Rule: "cpu", Subject: "machine", Severity: "warning"}, steward.AlertTransition{Time: now, To: steward.AlertFiring})
	var list []outbox.Notification
	testwait.For(t, 5*time.Second, "a notification to pager", func() bool {
		list, err = n.List(ctx, outbox.Filter{Notifier: "pager"})
		return err == nil && len(list) > 0
	})
	if len(list) != 1 || list[0].Message.Alerts[0].ID != "alert-9" {
		t.Errorf("after apply: %+v", list)
	}
	if n.settings.MaxAge != time.Hour {
		t.Errorf("settings = %+v", n.settings)
	}
}

// stuck is a notifier whose attempts ignore their cancellation: each blocks
// until release is closed.
type stuck struct {
	once    sync.Once
	entered chan struct{} // closed at the first attempt
	release chan struct{}
}

var _ notify.Notifier = (*stuck)(nil)

func (s *stuck) Notify(context.Context, notify.Message) error {
	s.once.Do(func() { close(s.entered) })
	<-s.release
	return errors.New("released")
}

// TestOutboxReplacedAfterTimedOutStop: new notifications settings replace
// the outbox while its attempt under way ignores its cancellation. The old
// outbox, canceled, is not kept: the new one delivers what comes next.
func TestOutboxReplacedAfterTimedOutStop(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, filepath.Join(dir, "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const routes = `
notify:
  hook: {exec: {command: ["true"]}}
alerts:
  routes:
    - {to: [hook], group_wait: 0s}
`
	cfg := testConfig(t, dir, routes)
	n, err := newNotifications(cfg, st, events.NewRecorder(st), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	n.stopTimeout = 100 * time.Millisecond
	blocked := &stuck{entered: make(chan struct{}), release: make(chan struct{})}
	if n.out, err = n.newOutbox(cfg.Notifications, map[string]notify.Notifier{"hook": blocked}); err != nil {
		t.Fatal(err)
	}
	n.start(ctx)
	defer n.stop()

	fire := func(id int64) {
		n.alert(steward.Alert{ID: id, Rule: "cpu", Subject: "machine", Severity: "warning"},
			steward.AlertTransition{Time: time.Now(), To: steward.AlertFiring})
	}
	fire(1)
	testwait.For(t, 5*time.Second, "the first attempt", func() bool {
		select {
		case <-blocked.entered:
			return true
		default:
			return false
		}
	})
	old := n.current()
	defer func() { // before the store closes: the old outbox's attempt ends
		close(blocked.release)
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := old.Stop(sctx); err != nil {
			t.Errorf("the old outbox, released: %v", err)
		}
	}()
	n.apply(testConfig(t, dir, "notifications: {max_age: 1h}\n"+routes))
	if n.current() == old {
		t.Error("the outbox that did not stop in time is still in use")
	}
	fire(2)
	testwait.For(t, 10*time.Second, "alert 2 delivered", func() bool {
		list, err := n.List(ctx, outbox.Filter{})
		return err == nil && slices.ContainsFunc(list, func(x outbox.Notification) bool {
			return x.State == store.NotificationDelivered &&
				slices.ContainsFunc(x.Message.Alerts, func(a notify.Alert) bool { return a.ID == "alert-2" })
		})
	})
}
