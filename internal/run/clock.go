package run

import "time"

// Clock is the time the scheduler goes by: it reads Now and waits on
// timers. Tests pass a fake one to run the policies without waiting.
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

var _ Clock = systemClock{}

// systemClock is the Clock of time.Now and time.NewTimer.
type systemClock struct{}

func (systemClock) Now() time.Time                 { return time.Now() }
func (systemClock) NewTimer(d time.Duration) Timer { return systemTimer{time.NewTimer(d)} }

type systemTimer struct{ t *time.Timer }

func (t systemTimer) C() <-chan time.Time { return t.t.C }
func (t systemTimer) Stop() bool          { return t.t.Stop() }
