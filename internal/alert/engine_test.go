package alert

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/events"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/testwait"
)

var _ Store = (*store.Store)(nil)

// clock is an injectable clock that tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fixture is an Engine over a real store, with a hand-moved clock, that
// records every notification.
type fixture struct {
	t      *testing.T
	ctx    context.Context
	clock  *clock
	store  *store.Store
	rec    *events.Recorder
	engine *Engine
	path   string

	mu       sync.Mutex
	notified []steward.AlertTransition
}

func newFixture(t *testing.T, cfg config.Alerts) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: context.Background(), clock: newClock(), path: filepath.Join(t.TempDir(), "steward.db")}
	f.open(cfg)
	return f
}

// open opens the store and a new Engine over it, as a start of steward does.
func (f *fixture) open(cfg config.Alerts) {
	f.t.Helper()
	st, err := store.Open(f.ctx, f.path)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { st.Close() })
	f.store = st
	f.rec = events.NewRecorder(st)
	f.engine, err = New(f.ctx, Options{
		Store: st, Events: f.rec, Config: cfg, Now: f.clock.Now,
		Notify: func(a steward.Alert, tr steward.AlertTransition) {
			f.mu.Lock()
			f.notified = append(f.notified, tr)
			f.mu.Unlock()
		},
	})
	if err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) notifications() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.notified)
}

// all returns every stored alert, newest first.
func (f *fixture) all() []steward.Alert {
	f.t.Helper()
	list, err := f.engine.Alerts(f.ctx, store.AlertFilter{})
	if err != nil {
		f.t.Fatal(err)
	}
	return list
}

// only returns the one stored alert, failing when there are others.
func (f *fixture) only() steward.Alert {
	f.t.Helper()
	list := f.all()
	if len(list) != 1 {
		f.t.Fatalf("got %d alerts, want 1: %+v", len(list), list)
	}
	return list[0]
}

func (f *fixture) observe(rule, subject string, active bool, forD time.Duration) {
	f.engine.Observe(f.ctx, Condition{Rule: rule, Subject: subject, Active: active, For: forD, Message: "m"})
}

func wantState(t *testing.T, a steward.Alert, want steward.AlertState) {
	t.Helper()
	if a.State != want {
		t.Fatalf("alert %d is %s, want %s (%s)", a.ID, a.State, want, a.Message)
	}
}

var defaults = config.Alerts{Repeat: time.Hour, FlapWindow: 10 * time.Minute}

// TestThresholdFor checks the `for` of a rule with the injected clock:
// pending while the condition has held for less, firing once it held
// that long, and a condition that clears while pending never fires.
func TestThresholdFor(t *testing.T) {
	f := newFixture(t, defaults)
	f.observe("cpu", "machine", true, 5*time.Minute)
	wantState(t, f.only(), steward.AlertPending)
	f.clock.Add(4 * time.Minute)
	f.observe("cpu", "machine", true, 5*time.Minute)
	f.engine.Tick(f.ctx)
	wantState(t, f.only(), steward.AlertPending)
	f.clock.Add(time.Minute)
	f.engine.Tick(f.ctx)
	a := f.only()
	wantState(t, a, steward.AlertFiring)
	if !a.Fired.Equal(f.clock.Now()) || !a.Started.Equal(f.clock.Now().Add(-5*time.Minute)) {
		t.Errorf("started %v fired %v, want 5m apart ending now", a.Started, a.Fired)
	}
	f.clock.Add(time.Second)
	f.observe("cpu", "machine", false, 5*time.Minute)
	a = f.only()
	wantState(t, a, steward.AlertResolved)
	if f.notifications() != 2 { // fired, resolved: pending is not notified
		t.Errorf("notifications = %d, want 2", f.notifications())
	}

	// Past the flap window, a condition that holds again is a new
	// incident, and one that clears while pending resolves quietly.
	f.clock.Add(11 * time.Minute)
	f.engine.Tick(f.ctx)
	f.observe("cpu", "machine", true, 5*time.Minute)
	f.clock.Add(2 * time.Minute)
	f.observe("cpu", "machine", false, 5*time.Minute)
	list := f.all()
	if len(list) != 2 {
		t.Fatalf("got %d alerts, want 2", len(list))
	}
	wantState(t, list[0], steward.AlertResolved)
	if !list[0].Fired.IsZero() {
		t.Errorf("an alert that cleared while pending fired at %v", list[0].Fired)
	}
	full, err := f.engine.Alert(f.ctx, list[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(full.Transitions) != 2 || full.Transitions[0].To != steward.AlertPending || full.Transitions[1].To != steward.AlertResolved {
		t.Errorf("transitions = %+v, want pending then resolved", full.Transitions)
	}
}

// TestCrashLoopOneAlert: a service that crashes 100 times yields one
// firing alert, and one notification.
func TestCrashLoopOneAlert(t *testing.T) {
	f := newFixture(t, defaults)
	for i := range 100 {
		f.engine.ServiceCondition(f.ctx, "web", RuleRestarting, true, "exit status 1 (restart "+string(rune('0'+i%10))+")")
		f.clock.Add(100 * time.Millisecond)
		f.engine.Tick(f.ctx)
	}
	a := f.only()
	wantState(t, a, steward.AlertFiring)
	if a.Rule != RuleRestarting || a.Subject != "web" || a.Severity != steward.SeverityWarning {
		t.Errorf("alert = %+v", a)
	}
	if n := f.notifications(); n != 1 {
		t.Errorf("notifications = %d, want 1", n)
	}
	// The event stream has the one alert event.
	evs, err := f.rec.List(f.ctx, store.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ev := range evs {
		if ev.Type == steward.EventAlert {
			n++
			if ev.Service != "web" || ev.To != steward.State(steward.AlertFiring) {
				t.Errorf("alert event = %+v", ev)
			}
		}
	}
	if n != 1 {
		t.Errorf("alert events = %d, want 1", n)
	}
	// Stable again: resolved; failed: a critical alert of its own.
	f.engine.ServiceCondition(f.ctx, "web", RuleRestarting, false, "running stably for 10s")
	wantState(t, f.only(), steward.AlertResolved)
	f.engine.ServiceCondition(f.ctx, "web", RuleFailed, true, "restart intensity exceeded")
	list := f.all()
	if len(list) != 2 || list[0].Rule != RuleFailed || list[0].Severity != steward.SeverityCritical {
		t.Fatalf("alerts = %+v, want a critical failed alert", list)
	}
}

// TestFlapping: a condition that comes back within the flap window
// reopens its alert instead of raising another, and a flapping alert
// resolves only once the condition stayed clear for the whole window.
func TestFlapping(t *testing.T) {
	f := newFixture(t, config.Alerts{FlapWindow: 5 * time.Minute})
	for range 10 {
		f.observe("check", "db-port", true, 0)
		f.clock.Add(30 * time.Second)
		f.observe("check", "db-port", false, 0)
		f.clock.Add(30 * time.Second)
		f.engine.Tick(f.ctx)
	}
	a := f.only()
	if !a.Flapping || a.State != steward.AlertFiring {
		t.Fatalf("alert = %+v, want firing and flapping", a)
	}
	f.clock.Add(4 * time.Minute)
	f.engine.Tick(f.ctx)
	wantState(t, f.only(), steward.AlertFiring)
	f.clock.Add(time.Minute)
	f.engine.Tick(f.ctx)
	wantState(t, f.only(), steward.AlertResolved)
	// fired, resolved, reopened, resolved.
	if n := f.notifications(); n != 4 {
		t.Errorf("notifications = %d, want 4", n)
	}
}

// TestRemindersAndAck: a firing alert is raised again every repeat until
// it is acknowledged; a route's repeat overrides the engine's.
func TestRemindersAndAck(t *testing.T) {
	f := newFixture(t, config.Alerts{Repeat: time.Hour, Routes: []config.Route{
		{Match: map[string]string{"subject": "db*"}, Repeat: 10 * time.Minute},
	}})
	f.observe("check", "web", true, 0)
	f.observe("check", "db-port", true, 0)
	for range 60 {
		f.clock.Add(time.Minute)
		f.engine.Tick(f.ctx)
	}
	var web, db steward.Alert
	for _, a := range f.all() {
		if a.Subject == "web" {
			web = a
		} else {
			db = a
		}
	}
	if web.Reminders != 1 || db.Reminders != 6 {
		t.Fatalf("reminders web %d db %d, want 1 and 6", web.Reminders, db.Reminders)
	}
	acked, err := f.engine.Ack(f.ctx, web.ID, "0:root", "looking")
	if err != nil {
		t.Fatal(err)
	}
	if acked.AckedBy != "0:root" || acked.AckComment != "looking" || !acked.AckedAt.Equal(f.clock.Now()) {
		t.Errorf("acked = %+v", acked)
	}
	if _, err := f.engine.Ack(f.ctx, web.ID, "0:root", ""); steward.ErrorCode(err) != steward.ECONFLICT {
		t.Errorf("second ack: %v, want conflict", err)
	}
	f.clock.Add(2 * time.Hour)
	f.engine.Tick(f.ctx)
	got, _ := f.engine.Alert(f.ctx, web.ID)
	if got.Reminders != 1 {
		t.Errorf("reminders after ack = %d, want 1", got.Reminders)
	}
	f.observe("check", "web", false, 0)
	if _, err := f.engine.Ack(f.ctx, web.ID, "x", ""); steward.ErrorCode(err) != steward.ECONFLICT {
		t.Errorf("ack of a resolved alert: %v, want conflict", err)
	}
	if _, err := f.engine.Ack(f.ctx, 999, "x", ""); steward.ErrorCode(err) != steward.ENOTFOUND {
		t.Errorf("ack of no alert: %v, want not found", err)
	}
}

// TestSilenceExpiry: a silenced alert sends nothing and gets no
// reminder; when the silence ends it is raised again.
func TestSilenceExpiry(t *testing.T) {
	f := newFixture(t, config.Alerts{Repeat: 10 * time.Minute})
	sl, err := f.engine.AddSilence(f.ctx, steward.Silence{
		Matchers: map[string]string{"subject": "web", "rule": "*"},
		Ends:     f.clock.Now().Add(time.Hour), By: "ops", Comment: "deploy",
	})
	if err != nil {
		t.Fatal(err)
	}
	f.observe("unhealthy", "web", true, 0)
	f.observe("unhealthy", "db", true, 0)
	if n := f.notifications(); n != 1 {
		t.Errorf("notifications = %d, want 1 (db only)", n)
	}
	for _, a := range f.all() {
		if silenced := len(a.Silenced) > 0; silenced != (a.Subject == "web") {
			t.Errorf("alert on %s: silenced %v", a.Subject, a.Silenced)
		}
	}
	f.clock.Add(30 * time.Minute)
	f.engine.Tick(f.ctx) // db: reminder; web: silenced
	if n := f.notifications(); n != 2 {
		t.Errorf("notifications = %d, want 2", n)
	}
	if got := f.engine.Silences(); len(got) != 1 || got[0].ID != sl.ID || got[0].By != "ops" {
		t.Errorf("silences = %+v", got)
	}
	f.clock.Add(30 * time.Minute)
	f.engine.Tick(f.ctx) // the silence ends: web is raised again, db reminded
	if n := f.notifications(); n != 4 {
		t.Errorf("notifications after the silence = %d, want 4", n)
	}
	if got := f.engine.Silences(); len(got) != 0 {
		t.Errorf("silences after expiry = %+v", got)
	}
	for _, a := range f.all() {
		if len(a.Silenced) > 0 {
			t.Errorf("alert on %s still silenced", a.Subject)
		}
	}
}

func TestSilenceValidation(t *testing.T) {
	f := newFixture(t, defaults)
	now := f.clock.Now()
	for _, tt := range []struct {
		name string
		sl   steward.Silence
	}{
		{"no matchers", steward.Silence{Ends: now.Add(time.Hour)}},
		{"unknown label", steward.Silence{Matchers: map[string]string{"host": "x"}, Ends: now.Add(time.Hour)}},
		{"bad glob", steward.Silence{Matchers: map[string]string{"rule": "["}, Ends: now.Add(time.Hour)}},
		{"empty glob", steward.Silence{Matchers: map[string]string{"rule": ""}, Ends: now.Add(time.Hour)}},
		{"in the past", steward.Silence{Matchers: map[string]string{"rule": "x"}, Ends: now.Add(-time.Hour)}},
		{"ends before it starts", steward.Silence{Matchers: map[string]string{"rule": "x"}, Starts: now.Add(2 * time.Hour), Ends: now.Add(time.Hour)}},
		{"too long", steward.Silence{Matchers: map[string]string{"rule": "x"}, Ends: now.Add(400 * 24 * time.Hour)}},
	} {
		if _, err := f.engine.AddSilence(f.ctx, tt.sl); steward.ErrorCode(err) != steward.EINVALID {
			t.Errorf("%s: %v, want invalid", tt.name, err)
		}
	}
	// A silence that starts later applies once it starts.
	sl, err := f.engine.AddSilence(f.ctx, steward.Silence{Matchers: map[string]string{"severity": "warning"},
		Starts: now.Add(time.Hour), Ends: now.Add(2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	f.observe("cpu", "m", true, 0)
	if len(f.only().Silenced) != 0 {
		t.Errorf("silenced before the silence starts")
	}
	f.clock.Add(time.Hour)
	f.engine.Tick(f.ctx)
	if got := f.only().Silenced; len(got) != 1 || got[0] != sl.ID {
		t.Errorf("silenced = %v, want [%d]", got, sl.ID)
	}
	if err := f.engine.DeleteSilence(f.ctx, sl.ID); err != nil {
		t.Fatal(err)
	}
	if len(f.only().Silenced) != 0 {
		t.Errorf("still silenced after the silence was removed")
	}
	if err := f.engine.DeleteSilence(f.ctx, sl.ID); steward.ErrorCode(err) != steward.ENOTFOUND {
		t.Errorf("delete again: %v, want not found", err)
	}
}

// TestRestart: open alerts survive a restart of steward as the same
// alerts; one nothing observes any more resolves after a while.
func TestRestart(t *testing.T) {
	f := newFixture(t, defaults)
	f.observe("cpu", "machine", true, 0)
	f.observe("check", "gone", true, 0)
	if _, err := f.engine.AddSilence(f.ctx, steward.Silence{Matchers: map[string]string{"rule": "cpu"}, Ends: f.clock.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	f.store.Close()
	f.open(defaults)
	if c := f.engine.Counts(); c[steward.AlertFiring] != 2 {
		t.Fatalf("counts after restart = %v, want 2 firing", c)
	}
	if len(f.engine.Silences()) != 1 {
		t.Errorf("silences after restart = %v", f.engine.Silences())
	}
	f.clock.Add(time.Minute)
	f.observe("cpu", "machine", true, 0)
	if n := len(f.all()); n != 2 {
		t.Fatalf("alerts = %d after the condition was seen again, want still 2", n)
	}
	f.clock.Add(staleAfter)
	f.engine.Tick(f.ctx)
	for _, a := range f.all() {
		if want := map[string]steward.AlertState{"cpu": steward.AlertFiring, "check": steward.AlertResolved}[a.Rule]; a.State != want {
			t.Errorf("%s on %s is %s, want %s", a.Rule, a.Subject, a.State, want)
		}
	}
}

// TestRestartKeepsReminderSchedule: after a restart, a firing alert is
// reminded its repeat after the last reminder, not at once.
func TestRestartKeepsReminderSchedule(t *testing.T) {
	f := newFixture(t, defaults)
	f.observe("cpu", "machine", true, 0) // fires
	f.clock.Add(defaults.Repeat)
	f.engine.Tick(f.ctx) // reminder 1
	if n := f.notifications(); n != 2 {
		t.Fatalf("%d notifications, want 2: fired and reminded", n)
	}
	f.clock.Add(defaults.Repeat / 2)
	f.store.Close()
	f.open(defaults)
	f.observe("cpu", "machine", true, 0)
	f.engine.Tick(f.ctx)
	if n := f.notifications(); n != 2 {
		t.Fatalf("%d notifications after the restart, want still 2: the next reminder is due in %v", n, defaults.Repeat/2)
	}
	f.clock.Add(defaults.Repeat / 2)
	f.engine.Tick(f.ctx)
	if n, a := f.notifications(), f.only(); n != 3 || a.Reminders != 2 {
		t.Errorf("%d notifications and %d reminders an hour after the last reminder, want 3 and 2", n, a.Reminders)
	}
}

func TestCheckResultSeverity(t *testing.T) {
	f := newFixture(t, defaults)
	f.engine.CheckResult(f.ctx, &config.Check{Name: "a"}, 2, "CRITICAL", "down")
	f.engine.CheckResult(f.ctx, &config.Check{Name: "b"}, 1, "WARNING", "slow")
	f.engine.CheckResult(f.ctx, &config.Check{Name: "c", Severity: "info"}, 3, "UNKNOWN", "?")
	f.engine.CheckResult(f.ctx, &config.Check{Name: "d"}, 0, "OK", "fine")
	got := map[string]string{}
	for _, a := range f.all() {
		got[a.Subject] = a.Severity + " " + a.Message
	}
	want := map[string]string{"a": "critical CRITICAL: down", "b": "warning WARNING: slow", "c": "info UNKNOWN: ?"}
	if len(got) != len(want) {
		t.Fatalf("alerts = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("alert on %s = %q, want %q", k, got[k], v)
		}
	}
}

// TestStoreFailure: an alert that cannot be stored is open in memory but
// neither recorded nor notified, and reading alerts from a closed store
// fails.
func TestStoreFailure(t *testing.T) {
	f := newFixture(t, config.Alerts{})
	f.store.Close()
	f.observe("cpu", "m", true, 0)
	if f.notifications() != 0 {
		t.Errorf("notified a transition that was not stored")
	}
	if c := f.engine.Counts(); c[steward.AlertFiring] != 1 {
		t.Errorf("counts = %v, want the unstored alert firing", c)
	}
	if _, err := f.engine.Alerts(f.ctx, store.AlertFilter{}); err == nil {
		t.Errorf("Alerts on a closed store succeeded")
	}
	if _, err := f.engine.Alert(f.ctx, 1); err == nil {
		t.Errorf("Alert on a closed store succeeded")
	}
	if _, err := New(f.ctx, Options{Store: f.store}); err == nil {
		t.Errorf("New on a closed store succeeded")
	}
}

// fullStore fails to save alerts while full is set, as a store on a full
// disk does.
type fullStore struct {
	Store
	full atomic.Bool
}

func (s *fullStore) SaveAlert(ctx context.Context, a *steward.Alert, tr steward.AlertTransition) error {
	if s.full.Load() {
		a.ID = 99 // as an INSERT … RETURNING that was rolled back leaves it
		return errors.New("save alert: database or disk is full (13)")
	}
	return s.Store.SaveAlert(ctx, a, tr)
}

// TestAlertWaitsForTheStore: an alert raised while the store cannot take
// it is listed at once (id 0), then stored, recorded and notified exactly
// once when the store takes writes again.
func TestAlertWaitsForTheStore(t *testing.T) {
	f := newFixture(t, defaults)
	full := &fullStore{Store: f.store}
	full.full.Store(true)
	var err error
	f.engine, err = New(f.ctx, Options{Store: full, Events: f.rec, Config: defaults, Now: f.clock.Now,
		Notify: func(a steward.Alert, tr steward.AlertTransition) {
			f.mu.Lock()
			f.notified = append(f.notified, tr)
			f.mu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	f.observe("logfile", "api", true, 0)
	f.engine.Tick(f.ctx)
	a := f.only()
	if a.ID != 0 || a.State != steward.AlertFiring || a.Subject != "api" {
		t.Fatalf("alert while the store is full: %+v, want it firing with id 0", a)
	}
	if n := f.notifications(); n != 0 {
		t.Fatalf("%d notifications of an alert not stored, want none yet", n)
	}
	full.full.Store(false)
	f.clock.Add(time.Second)
	f.engine.Tick(f.ctx)
	f.engine.Tick(f.ctx)
	a = f.only()
	if a.ID == 0 || a.State != steward.AlertFiring {
		t.Fatalf("alert once the store takes writes: %+v, want it stored and firing", a)
	}
	stored, err := f.store.Alert(f.ctx, a.ID)
	if err != nil || len(stored.Transitions) != 1 || stored.Transitions[0].To != steward.AlertFiring {
		t.Fatalf("stored alert %+v (%v), want one transition to firing", stored, err)
	}
	if n := f.notifications(); n != 1 {
		t.Errorf("%d notifications, want 1", n)
	}
}

func TestRun(t *testing.T) {
	f := newFixture(t, defaults)
	ctx, cancel := context.WithCancel(f.ctx)
	done := make(chan struct{})
	go func() {
		f.engine.Run(ctx)
		close(done)
	}()
	f.observe("cpu", "m", true, time.Minute)
	f.clock.Add(time.Minute)
	testwait.For(t, 5*time.Second, "Run to fire the alert", func() bool { return f.only().State == steward.AlertFiring })
	cancel()
	<-done
}

func TestMatches(t *testing.T) {
	labels := map[string]string{"rule": "disk:/", "subject": "web-1", "severity": "critical"}
	for _, tt := range []struct {
		m    map[string]string
		want bool
	}{
		{nil, true},
		{map[string]string{"subject": "web-*"}, true},
		{map[string]string{"subject": "web-*", "severity": "warning"}, false},
		{map[string]string{"rule": "disk:*"}, true},
		{map[string]string{"rule": "["}, false},
	} {
		if got := Matches(tt.m, labels); got != tt.want {
			t.Errorf("Matches(%v) = %v, want %v", tt.m, got, tt.want)
		}
	}
}
