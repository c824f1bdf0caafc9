// Package clock provides the time that steward's timed parts go by — the
// supervisor's backoff, windows and timeouts, the run engine's schedule —
// as a small interface, so that tests drive them with a fake clock instead
// of waiting. Any package may import it.
package clock

import "time"

// Clock reads the time and makes timers.
type Clock interface {
	Now() time.Time
	NewTimer(d time.Duration) Timer
}

// Timer is a one-shot timer of a Clock, like *time.Timer.
type Timer interface {
	// C receives the time once the timer fires.
	C() <-chan time.Time
	// Stop keeps the timer from firing; it reports whether it did.
	Stop() bool
}

var _ Clock = System{}

// System is the Clock of time.Now and time.NewTimer.
type System struct{}

// Now returns time.Now().
func (System) Now() time.Time { return time.Now() }

// NewTimer returns a timer of time.NewTimer.
func (System) NewTimer(d time.Duration) Timer { return systemTimer{time.NewTimer(d)} }

type systemTimer struct{ t *time.Timer }

func (t systemTimer) C() <-chan time.Time { return t.t.C }
func (t systemTimer) Stop() bool          { return t.t.Stop() }
