package store

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/auth"
)

// TestAuditInTheChangesTransaction: the record a context carries is
// written in the transaction of the change of its action — a token
// created and revoked, a silence added and deleted, an alert
// acknowledged, a run added — and when it cannot be written the change
// is not made either. A record of another action, or of another store,
// is left to the caller.
func TestAuditInTheChangesTransaction(t *testing.T) {
	s, _ := openTest(t)
	other, _ := openTest(t)
	now := time.Date(2026, 12, 7, 16, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	n := 0
	tok := func() steward.Token {
		n++
		_, acc := auth.NewSecret()
		return steward.Token{Name: "t" + strconv.Itoa(n), Accessor: acc, Role: steward.RoleViewer, Created: now}
	}
	alert := steward.Alert{Rule: "failed", Subject: "web", Severity: steward.SeverityCritical, State: steward.AlertFiring, Started: now, Fired: now, Updated: now}
	if err := s.SaveAlert(context.Background(), &alert, steward.AlertTransition{Time: now, To: steward.AlertFiring}); err != nil {
		t.Fatal(err)
	}
	var sl steward.Silence
	changes := []struct {
		name   string
		action auth.Action
		do     func(ctx context.Context) error
		// made reports whether the change is in the store.
		made func() bool
	}{
		{"create a token", auth.ActionTokens, func(ctx context.Context) error { return s.CreateToken(ctx, tok(), "h") },
			func() bool {
				l, _ := s.Tokens(context.Background())
				return slices.ContainsFunc(l, func(t steward.Token) bool { return t.Name == "t"+strconv.Itoa(n) })
			}},
		{"revoke a token", auth.ActionTokens, func(ctx context.Context) error {
			_, err := s.RevokeToken(ctx, "t2", now) // t1 was refused
			return err
		}, func() bool { l, _ := s.Tokens(context.Background()); return len(l) == 1 && !l[0].Revoked.IsZero() }},
		{"add a silence", auth.ActionSilence, func(ctx context.Context) error {
			sl = steward.Silence{Matchers: map[string]string{"rule": "x"}, Starts: now, Ends: now.Add(time.Hour), By: "p", Comment: "c"}
			return s.AddSilence(ctx, &sl)
		}, func() bool { l, _ := s.Silences(context.Background(), time.Time{}); return len(l) == 1 }},
		{"delete a silence", auth.ActionSilence, func(ctx context.Context) error { return s.DeleteSilence(ctx, sl.ID) },
			func() bool { l, _ := s.Silences(context.Background(), time.Time{}); return len(l) == 0 }},
		{"acknowledge an alert", auth.ActionAck, func(ctx context.Context) error {
			a := alert
			a.AckedBy, a.AckedAt = "p", now
			return s.SaveAlert(ctx, &a, steward.AlertTransition{Time: now, From: a.State, To: a.State, Message: "acknowledged by p"})
		}, func() bool { a, _ := s.Alert(context.Background(), alert.ID); return a.AckedBy == "p" }},
		{"add a run", auth.ActionRunJob, func(ctx context.Context) error {
			return s.AddRun(ctx, &steward.Run{Kind: steward.RunKindJob, Name: "j" + strconv.Itoa(n), Status: steward.RunQueued, Created: now, Attempt: 1}, false)
		}, func() bool { l, _ := s.Runs(context.Background(), RunFilter{}); return len(l) == 1 }},
	}
	records := func() []steward.AuditRecord {
		l, err := s.Audit(context.Background(), time.Time{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	for _, c := range changes {
		rec := steward.AuditRecord{Principal: "p (admin, via socket)", Action: string(c.action), Target: c.name}
		// The audit table refuses the record: the change fails, and is
		// not made.
		if _, err := s.w.Exec(`CREATE TRIGGER refuse BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'audit refused'); END`); err != nil {
			t.Fatal(err)
		}
		ctx, written := s.WithAudit(context.Background(), rec, clock)
		before := len(records())
		if err := c.do(ctx); err == nil || !strings.Contains(err.Error(), "audit refused") || written() {
			t.Errorf("%s with an audit log that refuses the record: %v, written %v; want the change to fail", c.name, err, written())
		}
		if c.made() || len(records()) != before {
			t.Errorf("%s: made although its record was refused", c.name)
		}
		if _, err := s.w.Exec(`DROP TRIGGER refuse`); err != nil {
			t.Fatal(err)
		}
		// Else change and record are stored together.
		if err := c.do(ctx); err != nil || !written() || !c.made() {
			t.Fatalf("%s: %v, written %v, made %v", c.name, err, written(), c.made())
		}
		got := records()
		if last := got[0]; len(got) != before+1 || last.Action != string(c.action) || last.Target != c.name || last.Outcome != "ok" || !last.Time.Equal(now) {
			t.Errorf("%s: records %+v, want one more: %s ok", c.name, got, c.action)
		}
	}
	// A second change with the same context writes no second record.
	ctx, written := s.WithAudit(context.Background(), steward.AuditRecord{Action: string(auth.ActionTokens)}, clock)
	before := len(records())
	for range 2 {
		if err := s.CreateToken(ctx, tok(), "h"); err != nil {
			t.Fatal(err)
		}
	}
	if len(records()) != before+1 || !written() {
		t.Errorf("two changes with one record: %d records more, want 1", len(records())-before)
	}
	// Another action's record, or another store's, is not written here.
	for what, ctx := range map[string]context.Context{
		"another action": must(s.WithAudit(context.Background(), steward.AuditRecord{Action: string(auth.ActionConfig)}, clock)),
		"another store":  must(other.WithAudit(context.Background(), steward.AuditRecord{Action: string(auth.ActionTokens)}, clock)),
	} {
		before := len(records())
		if err := s.CreateToken(ctx, tok(), "h"); err != nil || len(records()) != before {
			t.Errorf("a token created with the record of %s: %v, %d records more, want none", what, err, len(records())-before)
		}
	}
	if v, err := auth.Verify(s.AuditAll(context.Background()), nil); err != nil || !v.OK {
		t.Errorf("the chain after the changes: %+v, %v", v, err)
	}
}

func must(ctx context.Context, _ func() bool) context.Context { return ctx }
