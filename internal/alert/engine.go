// Package alert provides the alert engine: it turns observed conditions
// (a threshold holding, a check failing, a service crash-looping, failed or
// unhealthy) into alerts with one lifecycle per incident — pending while the
// condition has yet to hold for its rule's `for`, then firing, then resolved
// — identified by rule and subject so that a condition seen again and again
// never raises a second alert. It suppresses flapping, repeats reminders of
// unacknowledged alerts, and applies acknowledgements and silences. Alerts,
// their transitions and silences are written to the store before they are
// recorded as events. The daemon wiring builds the Engine; the sources of
// conditions (supervise, check, the sysmon kind) feed it.
package alert

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/store"
)

// Rules that are about a service, with the service as the subject.
const (
	RuleFailed     = "failed"     // the service reached failed
	RuleRestarting = "restarting" // the service crashed and is being restarted
	RuleUnhealthy  = "unhealthy"  // its health check fails
	RuleCheck      = "check"      // a standalone check fails; the subject is the check
)

// staleAfter resolves an alert left open by an earlier run of steward
// when nothing has observed its condition since.
const staleAfter = 10 * time.Minute

// Condition is one observation of a rule's condition for a subject.
type Condition struct {
	Rule     string
	Subject  string
	Active   bool // the condition holds
	Severity string
	Message  string
	// For is how long the condition must hold before the alert fires.
	For time.Duration
}

// Recorder stores an event and then publishes it.
type Recorder interface {
	Record(ctx context.Context, ev steward.Event) (steward.Event, error)
}

// AlertStore keeps alerts with their transitions.
type AlertStore interface {
	SaveAlert(ctx context.Context, a *steward.Alert, tr steward.AlertTransition) error
	Alerts(ctx context.Context, f store.AlertFilter) ([]steward.Alert, error)
	Alert(ctx context.Context, id int64) (steward.Alert, error)
}

// SilenceStore keeps silences.
type SilenceStore interface {
	AddSilence(ctx context.Context, sl *steward.Silence) error
	Silences(ctx context.Context, now time.Time) ([]steward.Silence, error)
	DeleteSilence(ctx context.Context, id int64) error
}

// Store is what an Engine keeps its alerts and silences in: *store.Store.
type Store interface {
	AlertStore
	SilenceStore
}

// Options configure an Engine.
type Options struct {
	Store  Store
	Events Recorder // nil records no events
	Config config.Alerts
	// Notify, when set, hears of every transition once it is stored: a
	// new, fired, resolved, reopened or reminded alert, and an
	// acknowledgement. It is not called for silenced alerts. It must not
	// block.
	Notify func(steward.Alert, steward.AlertTransition)
	// Now is the clock of every timing decision; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Engine raises and resolves alerts. It is safe for concurrent use.
type Engine struct {
	st     Store
	events Recorder
	notify func(steward.Alert, steward.AlertTransition)
	now    func() time.Time
	log    *slog.Logger

	mu       sync.Mutex
	cfg      config.Alerts
	tracks   map[identity]*track
	silences []steward.Silence // not yet ended
}

type identity struct{ rule, subject string }

// track is what the engine knows of one identity.
type track struct {
	alert    *steward.Alert // the open alert, or the last one, resolved
	active   bool
	changed  time.Time // when active last changed
	observed bool      // seen since this run began
	cond     Condition // the last observation
	notified time.Time // the last time the alert was raised: fired or reminded
	silenced []int64
	// parts holds the last observation of each rule of a service's
	// incident (incidentRules), by rule; nil for other identities.
	parts map[string]Condition
	// unstored is the first transition of an alert the store could not
	// take (its disk is full, say): the alert is open in memory, listed
	// with id 0, and stored, recorded and notified once the store takes it.
	unstored *steward.AlertTransition
}

// New returns an Engine, with the alerts that an earlier run left open.
func New(ctx context.Context, o Options) (*Engine, error) {
	e := &Engine{
		st:     o.Store,
		events: o.Events,
		notify: o.Notify,
		now:    o.Now,
		log:    o.Logger,
		cfg:    o.Config,
		tracks: map[identity]*track{},
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	open, err := e.st.Alerts(ctx, store.AlertFilter{Open: true, Limit: 1 << 30})
	if err != nil {
		return nil, fmt.Errorf("load open alerts: %w", err)
	}
	now := e.now()
	for i := range open {
		a := &open[i]
		// The last transition of a firing alert that is not acknowledged
		// is the last time it was raised (notified), so that its
		// reminders keep their schedule across a restart.
		id := identityOf(a.Rule, a.Subject)
		t := &track{
			alert:    a,
			active:   true,
			changed:  now,
			notified: cmp.Or(a.Updated, a.Fired, a.Started),
			cond:     Condition{Rule: a.Rule, Subject: a.Subject, Severity: a.Severity, Message: a.Message, Active: true},
		}
		if id.rule == incidentKey {
			t.parts = map[string]Condition{a.Rule: t.cond}
		}
		e.tracks[id] = t
	}
	if e.silences, err = e.st.Silences(ctx, now); err != nil {
		return nil, fmt.Errorf("load silences: %w", err)
	}
	return e, nil
}

// SetConfig applies new alert settings.
func (e *Engine) SetConfig(c config.Alerts) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.cfg = c
}

// Observe takes one observation of a condition and acts on it: it opens,
// fires, reopens or resolves the alert of its rule and subject as needed.
func (e *Engine) Observe(ctx context.Context, c Condition) {
	if c.Severity == "" {
		c.Severity = steward.SeverityWarning
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	id := identityOf(c.Rule, c.Subject)
	t := e.tracks[id]
	if t == nil {
		if !c.Active {
			return // nothing to resolve
		}
		t = &track{changed: now}
		e.tracks[id] = t
	}
	t.observed = true
	if c.Message == "" {
		c.Message = t.cond.Message
	}
	if id.rule == incidentKey {
		c = t.fold(c)
	}
	t.cond = c
	if t.active != c.Active {
		t.active, t.changed = c.Active, now
	}
	e.step(ctx, id, t, now)
}

// Tick takes the transitions that time brings: a condition that has held
// for its `for`, one that stayed clear long enough, a reminder due, a
// silence that ended, an old alert nothing observes any more.
func (e *Engine) Tick(ctx context.Context) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	e.expireSilences(ctx, now)
	for _, id := range slices.SortedFunc(maps.Keys(e.tracks), compareIdentity) {
		t := e.tracks[id]
		if !t.observed && t.alert != nil && t.alert.Open() && now.Sub(t.changed) >= staleAfter {
			t.active, t.changed = false, now
			t.cond.Message = "no longer observed"
			e.resolve(ctx, id, t, now, "no longer observed since steward restarted")
			continue
		}
		e.step(ctx, id, t, now)
		if !t.active && t.alert != nil && !t.alert.Open() && now.Sub(t.alert.Resolved) >= e.cfg.FlapWindow {
			delete(e.tracks, id) // past the flap window: a new incident is a new alert
		}
	}
}

// Run ticks every second until ctx ends.
func (e *Engine) Run(ctx context.Context) {
	tk := time.NewTicker(time.Second)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
			e.Tick(ctx)
		}
	}
}

func compareIdentity(a, b identity) int {
	if c := strings.Compare(a.rule, b.rule); c != 0 {
		return c
	}
	return strings.Compare(a.subject, b.subject)
}

// step moves the alert of t as its condition and the time say.
func (e *Engine) step(ctx context.Context, id identity, t *track, now time.Time) {
	if t.unstored != nil && !e.store(ctx, t) {
		return
	}
	a := t.alert
	open := a != nil && a.Open()
	switch {
	case t.active && !open:
		if a != nil && a.Rule == t.cond.Rule && e.cfg.FlapWindow > 0 && now.Sub(a.Resolved) < e.cfg.FlapWindow {
			a.Flapping = true
			a.Resolved = time.Time{}
			a.Severity = t.cond.Severity
			e.transition(ctx, t, now, steward.AlertFiring, "came back within "+e.cfg.FlapWindow.String()+" of resolving (flapping): "+t.cond.Message)
			return
		}
		t.alert = &steward.Alert{Rule: t.cond.Rule, Subject: id.subject, Severity: t.cond.Severity, Started: t.changed}
		if t.cond.For > 0 && now.Sub(t.changed) < t.cond.For {
			e.transition(ctx, t, now, steward.AlertPending, t.cond.Message)
			return
		}
		e.transition(ctx, t, now, steward.AlertFiring, t.cond.Message)
	case t.active && a.State == steward.AlertPending:
		if now.Sub(t.changed) >= t.cond.For {
			e.transition(ctx, t, now, steward.AlertFiring, t.cond.Message)
		}
	case t.active && escalates(a, t.cond):
		a.Rule = t.cond.Rule
		e.transition(ctx, t, now, steward.AlertFiring, "escalated to "+t.cond.Severity+" ("+t.cond.Rule+"): "+t.cond.Message)
	case t.active && a.State == steward.AlertFiring:
		if r := e.repeat(a); r > 0 && a.AckedBy == "" && len(t.silenced) == 0 && now.Sub(t.notified) >= r {
			a.Reminders++
			e.transition(ctx, t, now, steward.AlertFiring, fmt.Sprintf("still firing (reminder %d): %s", a.Reminders, t.cond.Message))
		}
	case !t.active && open && a.State == steward.AlertPending:
		e.resolve(ctx, id, t, now, "cleared before it fired: "+t.cond.Message)
	case !t.active && open:
		hold := time.Duration(0)
		if a.Flapping {
			hold = e.cfg.FlapWindow
		}
		if now.Sub(t.changed) >= hold {
			e.resolve(ctx, id, t, now, "resolved: "+t.cond.Message)
		}
	}
}

// repeat is the reminder interval of a: its first matching route's, or
// the engine's.
func (e *Engine) repeat(a *steward.Alert) time.Duration {
	labels := a.Labels()
	for _, r := range e.cfg.Routes {
		if r.Repeat > 0 && Matches(r.Match, labels) {
			return r.Repeat
		}
	}
	return e.cfg.Repeat
}

func (e *Engine) resolve(ctx context.Context, id identity, t *track, now time.Time, msg string) {
	t.alert.Resolved = now
	e.transition(ctx, t, now, steward.AlertResolved, msg)
	if !t.active && (e.cfg.FlapWindow == 0) {
		delete(e.tracks, id)
	}
}

// transition moves t's alert to state, stores it with the transition,
// then records the event and notifies. A failure to store is logged and
// leaves the alert as it was in memory, to be tried again.
func (e *Engine) transition(ctx context.Context, t *track, now time.Time, to steward.AlertState, msg string) {
	a := *t.alert
	from := a.State
	a.State, a.Message, a.Updated = to, msg, now
	if to == steward.AlertFiring && from != steward.AlertFiring {
		a.Fired = now
	}
	if to == steward.AlertFiring {
		t.notified = now
	}
	if a.ID != 0 && to != steward.AlertResolved && (from != to || severityRank(t.cond.Severity) > severityRank(a.Severity)) {
		a.Severity = t.cond.Severity
	}
	tr := steward.AlertTransition{Time: now, From: from, To: to, Message: msg}
	if err := e.st.SaveAlert(context.WithoutCancel(ctx), &a, tr); err != nil {
		e.log.Error("save alert", "rule", a.Rule, "subject", a.Subject, "err", err)
		if t.alert.ID == 0 {
			a.ID = 0
			*t.alert, t.unstored = a, &tr
		}
		return
	}
	e.saved(ctx, t, a, tr)
}

// store tries again to store the first transition of t's alert, and
// reports whether it did.
func (e *Engine) store(ctx context.Context, t *track) bool {
	a := *t.alert
	if err := e.st.SaveAlert(context.WithoutCancel(ctx), &a, *t.unstored); err != nil {
		e.log.Debug("save alert", "rule", a.Rule, "subject", a.Subject, "err", err)
		return false
	}
	tr := *t.unstored
	t.unstored = nil
	e.saved(ctx, t, a, tr)
	e.log.Info("alert stored", "alert", a.ID, "rule", a.Rule, "subject", a.Subject)
	return true
}

// saved makes a, stored with transition tr, t's alert, then records the
// event and notifies.
func (e *Engine) saved(ctx context.Context, t *track, a steward.Alert, tr steward.AlertTransition) {
	a.Silenced = t.silenced
	*t.alert = a
	if tr.From == "" || (tr.From == steward.AlertResolved && tr.To == steward.AlertFiring) {
		t.silenced = e.silencedBy(&a, tr.Time)
		t.alert.Silenced = t.silenced
	}
	e.publish(ctx, t, tr)
}

// publish records tr of t's alert as an event and notifies, unless the
// alert is silenced.
func (e *Engine) publish(ctx context.Context, t *track, tr steward.AlertTransition) {
	a := *t.alert
	if e.events != nil {
		ev := steward.Event{
			Time:   tr.Time.UTC(),
			Type:   steward.EventAlert,
			From:   steward.State(tr.From),
			To:     steward.State(tr.To),
			Reason: fmt.Sprintf("alert %d %s on %s (%s): %s", a.ID, a.Rule, a.Subject, a.Severity, tr.Message),
		}
		if a.Rule != RuleCheck {
			ev.Service = a.Subject
		}
		if _, err := e.events.Record(context.WithoutCancel(ctx), ev); err != nil {
			e.log.Error("record alert event", "alert", a.ID, "err", err)
		}
	}
	if e.notify != nil && len(t.silenced) == 0 && tr.To != steward.AlertPending {
		e.notify(a, tr)
	}
}

// Ack acknowledges open alert id for who, which ends its reminders.
func (e *Engine) Ack(ctx context.Context, id int64, who, comment string) (steward.Alert, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, t := range e.tracks {
		if t.alert == nil || t.alert.ID != id {
			continue
		}
		if !t.alert.Open() {
			break
		}
		if t.alert.AckedBy != "" {
			return *t.alert, steward.Errorf(steward.ECONFLICT, "alert %d was acknowledged by %s", id, t.alert.AckedBy)
		}
		now := e.now()
		a := *t.alert
		a.AckedBy, a.AckedAt, a.AckComment, a.Updated = who, now, comment, now
		msg := "acknowledged by " + who
		if comment != "" {
			msg += ": " + comment
		}
		tr := steward.AlertTransition{Time: now, From: a.State, To: a.State, Message: msg}
		if err := e.st.SaveAlert(context.WithoutCancel(ctx), &a, tr); err != nil {
			return steward.Alert{}, err
		}
		*t.alert = a
		e.publish(ctx, t, tr)
		return a, nil
	}
	a, err := e.st.Alert(ctx, id)
	if err != nil {
		return steward.Alert{}, err
	}
	return a, steward.Errorf(steward.ECONFLICT, "alert %d is %s: only open alerts can be acknowledged", id, a.State)
}

// Alerts returns the stored alerts f selects, newest first, each open one
// with the silences that match it.
func (e *Engine) Alerts(ctx context.Context, f store.AlertFilter) ([]steward.Alert, error) {
	list, err := e.st.Alerts(ctx, f)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var unstored []steward.Alert
	for _, t := range e.tracks {
		if t.unstored != nil {
			unstored = append(unstored, *t.alert)
		}
	}
	slices.SortFunc(unstored, func(a, b steward.Alert) int { return b.Started.Compare(a.Started) })
	list = append(unstored, list...)
	for i := range list {
		if list[i].Open() {
			list[i].Silenced = e.silencedBy(&list[i], e.now())
		}
	}
	return list, nil
}

// Alert returns alert id with its transitions.
func (e *Engine) Alert(ctx context.Context, id int64) (steward.Alert, error) {
	a, err := e.st.Alert(ctx, id)
	if err != nil {
		return a, err
	}
	if a.Open() {
		e.mu.Lock()
		a.Silenced = e.silencedBy(&a, e.now())
		e.mu.Unlock()
	}
	return a, nil
}

// Counts returns how many alerts are open, by state.
func (e *Engine) Counts() map[steward.AlertState]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[steward.AlertState]int{}
	for _, t := range e.tracks {
		if t.alert != nil && t.alert.Open() {
			out[t.alert.State]++
		}
	}
	return out
}

// Matches reports whether every matcher (label → glob) matches labels.
// Globs have path.Match's syntax, except that '/' is a character like
// any other ("disk:*" matches "disk:/srv"). No matchers match everything.
func Matches(matchers, labels map[string]string) bool {
	for k, pat := range matchers {
		if ok, _ := path.Match(strings.ReplaceAll(pat, "/", "\x00"), strings.ReplaceAll(labels[k], "/", "\x00")); !ok {
			return false
		}
	}
	return true
}
