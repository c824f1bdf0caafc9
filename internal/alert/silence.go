package alert

import (
	"context"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/stewardhq/steward"
)

// SilenceLabels are the alert labels a silence may match on.
var SilenceLabels = []string{"rule", "subject", "severity"}

// maxSilence is the longest a silence may last.
const maxSilence = 366 * 24 * time.Hour

// AddSilence validates and stores sl (its ID and, when zero, Starts are
// set) and applies it to the open alerts. A silence must have at least one
// matcher, on rule, subject or severity, with a valid glob, and end after
// it starts, within a year.
func (e *Engine) AddSilence(ctx context.Context, sl steward.Silence) (steward.Silence, error) {
	if len(sl.Matchers) == 0 {
		return sl, steward.Errorf(steward.EINVALID, "a silence needs at least one matcher (rule, subject or severity)")
	}
	for _, k := range slices.Sorted(maps.Keys(sl.Matchers)) {
		v := sl.Matchers[k]
		if !slices.Contains(SilenceLabels, k) {
			return sl, steward.Errorf(steward.EINVALID, "silence matcher %q: want one of %s", k, strings.Join(SilenceLabels, ", "))
		}
		if _, err := path.Match(v, ""); err != nil || v == "" {
			return sl, steward.Errorf(steward.EINVALID, "silence matcher %s=%q: not a valid glob pattern", k, v)
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	if sl.Starts.IsZero() {
		sl.Starts = now
	}
	switch {
	case !sl.Ends.After(sl.Starts) || !sl.Ends.After(now):
		return sl, steward.Errorf(steward.EINVALID, "a silence must end in the future and after it starts")
	case sl.Ends.Sub(sl.Starts) > maxSilence:
		return sl, steward.Errorf(steward.EINVALID, "a silence may last a year at most")
	}
	sl.Starts, sl.Ends = sl.Starts.UTC(), sl.Ends.UTC()
	if err := e.st.AddSilence(ctx, &sl); err != nil {
		return sl, err
	}
	e.silences = append(e.silences, sl)
	e.resilence(ctx, now)
	return sl, nil
}

// DeleteSilence ends silence id now.
func (e *Engine) DeleteSilence(ctx context.Context, id int64) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.st.DeleteSilence(ctx, id); err != nil {
		return err
	}
	e.silences = slices.DeleteFunc(e.silences, func(s steward.Silence) bool { return s.ID == id })
	e.resilence(ctx, e.now())
	return nil
}

// Silences returns the silences that have not ended.
func (e *Engine) Silences() []steward.Silence {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	out := []steward.Silence{}
	for _, s := range e.silences {
		if s.Ends.After(now) {
			out = append(out, s)
		}
	}
	return out
}

// expireSilences drops the silences that ended and applies the change,
// and that of silences that began.
func (e *Engine) expireSilences(ctx context.Context, now time.Time) {
	e.silences = slices.DeleteFunc(e.silences, func(s steward.Silence) bool { return !s.Ends.After(now) })
	e.resilence(ctx, now)
}

// silencedBy returns the IDs of the silences in force that match a.
func (e *Engine) silencedBy(a *steward.Alert, now time.Time) []int64 {
	var ids []int64
	labels := a.Labels()
	for _, s := range e.silences {
		if s.Active(now) && Matches(s.Matchers, labels) {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

// resilence recomputes which silences match each open alert. An alert
// whose last silence ended is raised again: its transition is recorded and
// notified, and its reminders count from now.
func (e *Engine) resilence(ctx context.Context, now time.Time) {
	for _, id := range slices.SortedFunc(maps.Keys(e.tracks), compareIdentity) {
		t := e.tracks[id]
		if t.alert == nil || !t.alert.Open() {
			continue
		}
		was := len(t.silenced) > 0
		t.silenced = e.silencedBy(t.alert, now)
		t.alert.Silenced = t.silenced
		if was && len(t.silenced) == 0 && t.alert.State == steward.AlertFiring {
			t.notified = now
			tr := steward.AlertTransition{Time: now, From: t.alert.State, To: t.alert.State,
				Message: fmt.Sprintf("no longer silenced: %s", t.cond.Message)}
			a := *t.alert
			a.Updated = now
			if err := e.st.SaveAlert(context.WithoutCancel(ctx), &a, tr); err != nil {
				e.log.Error("save alert", "alert", a.ID, "err", err)
				continue
			}
			*t.alert = a
			e.publish(ctx, t, tr)
		}
	}
}
