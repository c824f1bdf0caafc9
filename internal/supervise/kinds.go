package supervise

import (
	"context"
	"errors"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
)

// Runner is the work of a service of a built-in kind, hosted in steward's
// own process with the same lifecycle and states as a supervised process.
// Run does the work until ctx is canceled (the service is stopped: return
// nil) or it fails (return the error: the service exited with a failure
// and its restart policy applies). It calls ready once the service counts
// as running and ready for its dependents; a Run that returns nil before
// ctx ends finished its work, like a process that exited 0.
type Runner interface {
	Run(ctx context.Context, ready func()) error
}

// NewRunner makes the runner of a service of a built-in kind from its
// configuration; an error is a start that failed for good.
type NewRunner func(cfg *config.Service) (Runner, error)

var _ Process = (*runnerProcess)(nil)

// runnerProcess runs a Runner as an instance. Signal and KillTree cancel
// its context; a Runner cannot be killed, only asked to return.
type runnerProcess struct {
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

func (r *runnerProcess) Pid() int            { return 0 }
func (r *runnerProcess) Signal(string) error { r.cancel(); return nil }
func (r *runnerProcess) KillTree() error     { r.cancel(); return nil }
func (r *runnerProcess) Wait() (ExitStatus, error) {
	<-r.done
	return nil, r.err
}

// spawnRunner starts inst as the runner of a built-in kind; the service is
// starting until the runner calls ready.
func (s *service) spawnRunner(ctx context.Context, ls *loopState, inst *instance, newRunner NewRunner, cfg *config.Service, why string) {
	r, err := newRunner(cfg)
	if err != nil {
		s.giveUp(ctx, ls, "start: "+err.Error())
		return
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	rp := &runnerProcess{cancel: cancel, done: make(chan struct{})}
	inst.p, inst.started = rp, s.sup.opts.Clock.Now()
	inst.cancel = func() {}
	ls.inst = inst
	s.setLive(true)
	s.set(ctx, steward.StateStarting, 0, why+"; waiting until ready")
	go func() {
		err := r.Run(rctx, func() {
			select {
			case inst.ready <- nil:
			default: // ready twice
			}
		})
		if rctx.Err() != nil && errors.Is(err, context.Canceled) {
			err = nil // stopped
		}
		rp.err = err
		cancel()
		close(rp.done)
		inst.done <- exitResult{err: err, builtin: true}
	}()
}
