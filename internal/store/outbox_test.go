package store

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stewardhq/steward"
)

func TestNotificationLifecycle(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

	a := Notification{Key: "k1", Notifier: "hook", Body: []byte(`{"a":1}`), Created: t0}
	if err := s.AddNotification(ctx, &a); err != nil {
		t.Fatal(err)
	}
	if a.ID == 0 || a.State != NotificationPending || !a.Since.Equal(t0) || !a.NextAttempt.Equal(t0) {
		t.Fatalf("added = %+v, want an ID, pending, since and due at %v", a, t0)
	}
	b := Notification{Key: "k2", Notifier: "mail", NextAttempt: t0.Add(time.Minute), Created: t0}
	if err := s.AddNotification(ctx, &b); err != nil {
		t.Fatal(err)
	}
	if got := steward.ErrorCode(s.AddNotification(ctx, &Notification{Key: "k1", Notifier: "hook"})); got != steward.ECONFLICT {
		t.Errorf("adding a key twice: code %q, want %q", got, steward.ECONFLICT)
	}
	for _, n := range []Notification{{Notifier: "x"}, {Key: "x"}} {
		if got := steward.ErrorCode(s.AddNotification(ctx, &n)); got != steward.EINVALID {
			t.Errorf("AddNotification(%+v): code %q, want %q", n, got, steward.EINVALID)
		}
	}

	due, err := s.DueNotifications(ctx, t0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 1 || due[0].Key != "k1" || string(due[0].Body) != `{"a":1}` {
		t.Fatalf("due at t0 = %+v, want k1 only", due)
	}
	if next, ok, err := s.NextNotificationDue(ctx); err != nil || !ok || !next.Equal(t0) {
		t.Errorf("NextNotificationDue = %v, %v, %v, want %v", next, ok, err, t0)
	}
	if len(b.Body) != 0 {
		t.Fatal("nil body changed")
	}

	// A failed attempt pushes k1 back; k2 becomes the first due.
	if err := s.NotificationAttemptFailed(ctx, a.ID, t0, t0.Add(2*time.Minute), "connection refused"); err != nil {
		t.Fatal(err)
	}
	due, err = s.DueNotifications(ctx, t0.Add(3*time.Minute), 10)
	if err != nil {
		t.Fatal(err)
	}
	if keys := notificationKeys(due); !slices.Equal(keys, []string{"k2", "k1"}) {
		t.Errorf("due later = %v, want [k2 k1]", keys)
	}
	got, err := s.Notification(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Attempts != 1 || got.LastError != "connection refused" || !got.LastAttempt.Equal(t0) {
		t.Errorf("after a failed attempt: %+v", got)
	}

	if err := s.NotificationDelivered(ctx, a.ID, t0.Add(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.NotificationGivenUp(ctx, b.ID, t0.Add(4*time.Minute), "too old"); err != nil {
		t.Fatal(err)
	}
	// Neither is pending any more: updates of them conflict.
	if got := steward.ErrorCode(s.NotificationDelivered(ctx, b.ID, t0)); got != steward.ECONFLICT {
		t.Errorf("delivering a failed one: code %q, want %q", got, steward.ECONFLICT)
	}
	if got := steward.ErrorCode(s.NotificationAttemptFailed(ctx, 999, t0, t0, "")); got != steward.ENOTFOUND {
		t.Errorf("attempt on a missing one: code %q, want %q", got, steward.ENOTFOUND)
	}
	if _, ok, err := s.NextNotificationDue(ctx); err != nil || ok {
		t.Errorf("NextNotificationDue with none pending = %v, %v, want false", ok, err)
	}

	failed, err := s.Notifications(ctx, NotificationFilter{States: []string{NotificationFailed}})
	if err != nil {
		t.Fatal(err)
	}
	if len(failed) != 1 || failed[0].Key != "k2" || failed[0].LastError != "too old" || failed[0].Done.IsZero() {
		t.Fatalf("failed = %+v, want k2 given up", failed)
	}
	all, err := s.Notifications(ctx, NotificationFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if keys := notificationKeys(all); !slices.Equal(keys, []string{"k2", "k1"}) {
		t.Errorf("all = %v, want newest first [k2 k1]", keys)
	}
	if hooks, err := s.Notifications(ctx, NotificationFilter{Notifier: "hook", Limit: 1}); err != nil || len(hooks) != 1 || hooks[0].Key != "k1" {
		t.Errorf("hook's = %+v, %v, want k1", hooks, err)
	}
	if _, err := s.Notifications(ctx, NotificationFilter{Limit: -1}); steward.ErrorCode(err) != steward.EINVALID {
		t.Errorf("negative limit: err = %v, want EINVALID", err)
	}

	// Retry: only a failed one, which becomes pending with a fresh run.
	t1 := t0.Add(time.Hour)
	r, err := s.RetryNotification(ctx, b.ID, t1)
	if err != nil {
		t.Fatal(err)
	}
	if r.State != NotificationPending || !r.Since.Equal(t1) || r.Attempts != 0 || !r.NextAttempt.Equal(t1) || !r.Done.IsZero() {
		t.Errorf("retried = %+v, want pending since %v", r, t1)
	}
	if _, err := s.RetryNotification(ctx, b.ID, t1); steward.ErrorCode(err) != steward.ECONFLICT {
		t.Errorf("retrying a pending one: err = %v, want ECONFLICT", err)
	}
	if _, err := s.RetryNotification(ctx, 999, t1); steward.ErrorCode(err) != steward.ENOTFOUND {
		t.Errorf("retrying a missing one: err = %v, want ENOTFOUND", err)
	}
	if _, err := s.Notification(ctx, 999); steward.ErrorCode(err) != steward.ENOTFOUND {
		t.Errorf("getting a missing one: err = %v, want ENOTFOUND", err)
	}

	// Pruning removes done ones only.
	n, err := s.PruneNotifications(ctx, t1.Add(time.Hour))
	if err != nil || n != 1 {
		t.Errorf("PruneNotifications = %d, %v, want 1 (the delivered one)", n, err)
	}
	all, _ = s.Notifications(ctx, NotificationFilter{})
	if keys := notificationKeys(all); !slices.Equal(keys, []string{"k2"}) {
		t.Errorf("after prune = %v, want [k2]", keys)
	}
}

func TestNotificationDefaultTimes(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	n := Notification{Key: "k", Notifier: "n"}
	before := time.Now()
	if err := s.AddNotification(ctx, &n); err != nil {
		t.Fatal(err)
	}
	if n.Created.Before(before.Add(-time.Second)) || !n.NextAttempt.Equal(n.Created) {
		t.Errorf("defaults: created %v next %v", n.Created, n.NextAttempt)
	}
}

func TestLogOffsets(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	offs := []LogOffset{
		{Watch: "w", Identity: "1:2", Path: "/a.log", Offset: 10, HeadLen: 10, HeadHash: "ab", Updated: t0},
		{Watch: "w", Identity: "1:3", Path: "/b.log", Offset: 0},
	}
	if err := s.SaveLogOffsets(ctx, "w", offs, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveLogOffsets(ctx, "other", []LogOffset{{Watch: "other", Identity: "1:2", Offset: 5}}, nil); err != nil {
		t.Fatal(err)
	}
	// An update and a forget in one call.
	if err := s.SaveLogOffsets(ctx, "w", []LogOffset{{Watch: "w", Identity: "1:2", Path: "/a.log.1", Offset: 20, Updated: t0}}, []string{"1:3"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.LogOffsets(ctx, "w")
	if err != nil {
		t.Fatal(err)
	}
	want := []LogOffset{{Watch: "w", Identity: "1:2", Path: "/a.log.1", Offset: 20, Updated: t0}}
	if !slices.Equal(got, want) {
		t.Errorf("offsets = %+v, want %+v", got, want)
	}
	if got, _ := s.LogOffsets(ctx, "none"); len(got) != 0 || got == nil {
		t.Errorf("offsets of an unknown watch = %#v, want empty", got)
	}
	for _, bad := range []LogOffset{
		{Watch: "x", Identity: "1", Offset: 1},
		{Watch: "w", Identity: "", Offset: 1},
		{Watch: "w", Identity: "1", Offset: -1},
	} {
		if err := s.SaveLogOffsets(ctx, "w", []LogOffset{bad}, nil); steward.ErrorCode(err) != steward.EINVALID {
			t.Errorf("SaveLogOffsets(%+v) = %v, want EINVALID", bad, err)
		}
	}
}

func TestClosedStoreErrors(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	now := time.Now()
	checks := map[string]error{
		"add":       s.AddNotification(ctx, &Notification{Key: "k", Notifier: "n"}),
		"attempt":   s.NotificationAttemptFailed(ctx, 1, now, now, ""),
		"delivered": s.NotificationDelivered(ctx, 1, now),
		"givenup":   s.NotificationGivenUp(ctx, 1, now, ""),
		"save":      s.SaveLogOffsets(ctx, "w", nil, nil),
	}
	_, checks["due"] = s.DueNotifications(ctx, now, 1)
	_, _, checks["next"] = s.NextNotificationDue(ctx)
	_, checks["retry"] = s.RetryNotification(ctx, 1, now)
	_, checks["list"] = s.Notifications(ctx, NotificationFilter{})
	_, checks["get"] = s.Notification(ctx, 1)
	_, checks["prune"] = s.PruneNotifications(ctx, now)
	_, checks["offsets"] = s.LogOffsets(ctx, "w")
	for name, err := range checks {
		if err == nil {
			t.Errorf("%s on a closed store succeeded", name)
		}
	}
}

func notificationKeys(ns []Notification) []string {
	keys := make([]string, len(ns))
	for i, n := range ns {
		keys[i] = n.Key
	}
	return keys
}
