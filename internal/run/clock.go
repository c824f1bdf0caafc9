package run

import "github.com/stewardhq/steward/internal/clock"

// Clock is the time the scheduler goes by: it reads Now and waits on
// timers. Tests pass a fake one to run the policies without waiting.
type Clock = clock.Clock

// Timer is a one-shot timer of a Clock.
type Timer = clock.Timer
