package alert

import (
	"maps"
	"slices"

	"github.com/stewardhq/steward"
)

// A crash loop, the failure it ends in and the failing health check of the
// same service have one root cause: the service. Their conditions make one
// incident, so one alert: it opens with the first of them that holds, is
// raised again (escalated) when a more severe one comes to hold — taking
// that one's rule and severity —, and resolves once none holds.

// incidentRules are the rules whose conditions of one service fold into
// one incident.
var incidentRules = []string{RuleFailed, RuleRestarting, RuleUnhealthy}

// incidentKey is the rule of the identity of a service's incident.
const incidentKey = "service"

// identityOf returns the identity the alerts of rule and subject are
// tracked under: the service's incident for the rules of incidentRules.
func identityOf(rule, subject string) identity {
	if slices.Contains(incidentRules, rule) {
		return identity{incidentKey, subject}
	}
	return identity{rule, subject}
}

// severityRank orders severities, the most severe highest.
func severityRank(s string) int {
	switch s {
	case steward.SeverityCritical:
		return 2
	case steward.SeverityWarning:
		return 1
	}
	return 0
}

// fold records c as the last observation of its rule in t and returns the
// condition of the whole incident: active while any of its rules holds,
// then with the rule, severity and message of the most severe that holds
// (the alert's own rule on a tie); when none holds, c with the alert's
// rule, which resolves it.
func (t *track) fold(c Condition) Condition {
	if t.parts == nil {
		t.parts = map[string]Condition{}
	}
	t.parts[c.Rule] = c
	current := ""
	if t.alert != nil && t.alert.Open() {
		current = t.alert.Rule
	}
	var best *Condition
	for _, rule := range slices.Sorted(maps.Keys(t.parts)) {
		p := t.parts[rule]
		if !p.Active {
			continue
		}
		if best == nil || severityRank(p.Severity) > severityRank(best.Severity) ||
			(severityRank(p.Severity) == severityRank(best.Severity) && p.Rule == current) {
			best = &p
		}
	}
	if best == nil {
		if current != "" {
			c.Rule = current
		}
		return c
	}
	return *best
}

// escalates reports whether the incident's condition c is more severe than
// its firing alert a, which is then raised again with c's rule.
func escalates(a *steward.Alert, c Condition) bool {
	return a.State == steward.AlertFiring && severityRank(c.Severity) > severityRank(a.Severity)
}
