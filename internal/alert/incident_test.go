package alert

import (
	"testing"

	"github.com/stewardhq/steward"
)

// TestOneIncidentPerService: a crash loop, the failing health check and the
// failure of one service are one incident: one alert, raised again only
// when it becomes more severe, resolved once none of them holds. Another
// service's incident is its own.
func TestOneIncidentPerService(t *testing.T) {
	f := newFixture(t, defaults)
	steps := []struct {
		rule          string
		active        bool
		state         steward.AlertState
		wantRule, sev string
		notes         int // notifications so far
	}{
		{RuleRestarting, true, steward.AlertFiring, RuleRestarting, steward.SeverityWarning, 1},
		{RuleRestarting, true, steward.AlertFiring, RuleRestarting, steward.SeverityWarning, 1},
		{RuleUnhealthy, true, steward.AlertFiring, RuleUnhealthy, steward.SeverityCritical, 2}, // escalated
		{RuleFailed, true, steward.AlertFiring, RuleUnhealthy, steward.SeverityCritical, 2},    // as severe: folded in
		{RuleRestarting, false, steward.AlertFiring, RuleUnhealthy, steward.SeverityCritical, 2},
		{RuleUnhealthy, false, steward.AlertFiring, RuleUnhealthy, steward.SeverityCritical, 2}, // failed still holds
		{RuleFailed, false, steward.AlertResolved, RuleUnhealthy, steward.SeverityCritical, 3},
	}
	for i, s := range steps {
		f.engine.ServiceCondition(f.ctx, "web", s.rule, s.active, s.rule+" changed")
		a := f.only()
		if a.State != s.state || a.Rule != s.wantRule || a.Severity != s.sev {
			t.Fatalf("step %d (%s %v): alert %s %s %s, want %s %s %s", i, s.rule, s.active, a.State, a.Rule, a.Severity, s.state, s.wantRule, s.sev)
		}
		if got := f.notifications(); got != s.notes {
			t.Fatalf("step %d (%s %v): %d notifications, want %d", i, s.rule, s.active, got, s.notes)
		}
	}
	// A limit is not the same incident, nor is another service's failure.
	f.engine.ServiceCondition(f.ctx, "web", "limit:memory", true, "over")
	f.engine.ServiceCondition(f.ctx, "db", RuleFailed, true, "gave up")
	if got := len(f.all()); got != 3 {
		t.Errorf("alerts = %d, want 3: web's incident, web's limit and db's failure", got)
	}
}

// TestIncidentAcrossRestart: an incident left open by an earlier run keeps
// the condition it was open for, so another of its rules clearing does not
// resolve it.
func TestIncidentAcrossRestart(t *testing.T) {
	f := newFixture(t, defaults)
	f.engine.ServiceCondition(f.ctx, "web", RuleFailed, true, "gave up")
	f.open(defaults)
	f.engine.ServiceCondition(f.ctx, "web", RuleRestarting, false, "gave up")
	if a := f.only(); a.State != steward.AlertFiring || a.Rule != RuleFailed {
		t.Errorf("alert %s %s, want the failed one firing", a.State, a.Rule)
	}
	f.engine.ServiceCondition(f.ctx, "web", RuleFailed, false, "running")
	if a := f.only(); a.State != steward.AlertResolved {
		t.Errorf("alert %s, want resolved", a.State)
	}
}
