package alert

import (
	"context"

	"github.com/stewardhq/steward"
)

// JobCondition takes a condition of a job from the run engine — its last
// run failed after its last retry (job_failed), or none succeeded within
// its dead_man (dead_man) — as an observation of that rule with the job
// as the subject: one alert per job and rule, raised at once, resolved by
// the job's next success. Both are critical.
func (e *Engine) JobCondition(ctx context.Context, rule, job string, active bool, msg string) {
	e.Observe(ctx, Condition{Rule: rule, Subject: job, Active: active, Severity: steward.SeverityCritical, Message: msg})
}
