package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"reflect"
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
	cfg, err := config.Parse(filepath.Join(dir, "steward.yaml"), []byte(`
notify:
  hook: {exec: {command: ["true"]}}
alerts:
  routes:
    - {match: {service: "api"}, to: [hook], group_wait: 0s}
`), config.Registry{Notifiers: notify.Types()})
	if err != nil {
		t.Fatal(err)
	}
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
			if list, err = n.List(ctx, outbox.Filter{}); err != nil {
				return err
			}
			if len(list) != want {
				return fmt.Errorf("%d notifications, want %d", len(list), want)
			}
			return nil
		})
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
	cfg2, err := config.Parse(filepath.Join(dir, "steward.yaml"), []byte(`
notify:
  pager: {exec: {command: ["true"]}}
notifications: {max_age: 1h}
alerts:
  routes:
    - {to: [pager], group_wait: 0s}
`), config.Registry{Notifiers: notify.Types()})
	if err != nil {
		t.Fatal(err)
	}
	n.apply(cfg2)
	n.alert(steward.Alert{ID: 9, Rule: "cpu", Subject: "machine", Severity: "warning"}, steward.AlertTransition{Time: now, To: steward.AlertFiring})
	var list []outbox.Notification
	testwait.For(t, 5*time.Second, "a notification to pager", func() bool {
		list, _ = n.List(ctx, outbox.Filter{Notifier: "pager"})
		return len(list) > 0
	})
	if len(list) != 1 || list[0].Message.Alerts[0].ID != "alert-9" {
		t.Errorf("after apply: %+v", list)
	}
	if n.settings.MaxAge != time.Hour {
		t.Errorf("settings = %+v", n.settings)
	}
}
