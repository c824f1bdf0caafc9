package alert

import (
	"context"
	"fmt"
	"strings"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
)

// ServiceCondition takes a condition of a service from the supervisor
// (failed, restarting, unhealthy, limit:memory, limit:cpu) as an
// observation of the rule of that name with the service as the subject.
// Failed and unhealthy services are critical, the others warnings.
func (e *Engine) ServiceCondition(ctx context.Context, service, cond string, active bool, msg string) {
	sev := steward.SeverityWarning
	switch cond {
	case RuleFailed, RuleUnhealthy:
		sev = steward.SeverityCritical
	}
	e.Observe(ctx, Condition{Rule: cond, Subject: service, Active: active, Severity: sev, Message: msg})
}

// CheckResult takes the result of a standalone check: status is a Nagios
// status (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN) and its name. Anything
// but OK holds the check's alert, critical for CRITICAL and a warning
// otherwise, unless the check sets its severity.
func (e *Engine) CheckResult(ctx context.Context, c *config.Check, status int, statusName, msg string) {
	sev := c.Severity
	if sev == "" {
		sev = steward.SeverityWarning
		if status == 2 {
			sev = steward.SeverityCritical
		}
	}
	e.Observe(ctx, Condition{
		Rule: RuleCheck, Subject: c.Name, Active: status != 0, Severity: sev, For: c.For,
		Message: strings.TrimSpace(fmt.Sprintf("%s: %s", statusName, msg)),
	})
}
