package supervise

import (
	"context"
	"sync"
	"time"

	"github.com/stewardhq/steward/internal/clock"
)

// Clock is the time a Supervisor goes by: restart windows, stable periods,
// event times and usage samples read Now; backoff, stop timeouts, stable
// periods and health check intervals wait on its timers. Tests pass a fake
// one to drive the state machine without waiting.
type Clock = clock.Clock

// Timer is a one-shot timer of a Clock.
type Timer = clock.Timer

// stopTimer stops *t, if any, and forgets it.
func stopTimer(t *Timer) {
	if *t != nil {
		(*t).Stop()
		*t = nil
	}
}

// timerC is t's channel, or nil (never ready) for no timer.
func timerC(t Timer) <-chan time.Time {
	if t == nil {
		return nil
	}
	return t.C()
}

// withClockTimeout is context.WithTimeout on clock c: the context ends
// with context.DeadlineExceeded once a timer of c for d fires, or as
// parent does, or with context.Canceled at cancel. It reports no Deadline,
// since c's time need not be the system's.
func withClockTimeout(parent context.Context, c Clock, d time.Duration) (context.Context, context.CancelFunc) {
	ctx := &clockCtx{Context: parent, done: make(chan struct{})}
	t := c.NewTimer(d)
	go func() {
		select {
		case <-t.C():
			ctx.end(context.DeadlineExceeded)
		case <-parent.Done():
			ctx.end(parent.Err())
		case <-ctx.done:
		}
	}()
	return ctx, func() {
		t.Stop()
		ctx.end(context.Canceled)
	}
}

// clockCtx is the context of withClockTimeout.
type clockCtx struct {
	context.Context // the parent, for Value
	once            sync.Once
	done            chan struct{}
	err             error // set before done is closed
}

func (c *clockCtx) end(err error) {
	c.once.Do(func() {
		c.err = err
		close(c.done)
	})
}

func (c *clockCtx) Deadline() (time.Time, bool) { return time.Time{}, false }
func (c *clockCtx) Done() <-chan struct{}       { return c.done }

func (c *clockCtx) Err() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}
