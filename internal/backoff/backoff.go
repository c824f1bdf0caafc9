// Package backoff provides the exponential back-off delay with jitter that
// steward's retries share: the restarts of a crashed service and the
// retries of a notification. It imports nothing of steward; any package may
// import it.
package backoff

import (
	"math/rand/v2"
	"time"
)

// Policy is an exponential back-off: Min after the first failure, doubled
// after each further one up to Max, plus a random jitter of up to a quarter
// so that many waiters spread out. A delay is never below Min (unless Min
// is 0, which means no delay) and never above Max.
type Policy struct {
	Min, Max time.Duration
}

// Delay returns the wait after failures (1-based) failures in a row. It is
// safe for concurrent use.
func (p Policy) Delay(failures int) time.Duration {
	return p.delay(failures, rand.N[time.Duration])
}

// delay is Delay with the jitter drawn by random, which returns a value in
// [0, n).
func (p Policy) delay(failures int, random func(n time.Duration) time.Duration) time.Duration {
	if p.Min <= 0 {
		return 0
	}
	limit := max(p.Max, p.Min)
	d := p.Min
	for i := 1; i < failures && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	return min(d+random(d/4+1), limit)
}
