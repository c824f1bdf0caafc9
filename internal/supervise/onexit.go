package supervise

import (
	"context"
	"strconv"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
)

// onExit applies the service's on_exit to a run that ended by itself, as
// how says, with exit status code (nil after a signal); it reports whether
// it decided, or whether the restart policy is to (on_exit: restart).
func (s *service) onExit(ctx context.Context, ls *loopState, how string, clean bool, code *int) bool {
	cfg := s.config()
	if cfg.OnExit == "" || cfg.OnExit == config.OnExitRestart {
		return false
	}
	ls.want = false
	state := steward.StateFailed
	if clean {
		state = steward.StateExited
	}
	switch cfg.OnExit {
	case config.OnExitIgnore:
		s.set(ctx, state, 0, how+"; on_exit: ignore")
	case config.OnExitStopAll:
		s.set(ctx, state, 0, how+"; on_exit: stop-all, stopping every service")
		s.sup.wg.Go(func() { s.sup.stopAll(s.name) })
	case config.OnExitExit:
		status := 1
		switch {
		case cfg.ExitCode != nil:
			status = *cfg.ExitCode
		case code != nil:
			status = *code
		}
		s.set(ctx, state, 0, how+"; on_exit: exit, steward exits with status "+strconv.Itoa(status))
		if s.sup.opts.Exit != nil {
			s.sup.opts.Exit(s.name, status)
		} else {
			s.sup.wg.Go(func() { s.sup.stopAll(s.name) })
		}
	}
	return true
}

// stopAll stops every service, dependents first, because the service
// named by asks so (on_exit: stop-all); steward keeps running.
func (s *Supervisor) stopAll(by string) {
	svcs, _ := s.lookup(nil)
	ctx := steward.WithActor(s.ctx, "on_exit of "+by)
	if err := s.stopInOrder(ctx, svcs); err != nil && s.ctx.Err() == nil {
		s.opts.Logger.Warn("stop every service for on_exit: stop-all", "service", by, "err", err)
	}
}

// stopWhy is the reason of a stop asked for under ctx: it names the
// caller, if ctx says who it is; "" gives the default.
func stopWhy(ctx context.Context) string {
	if who := steward.Actor(ctx); who != "" {
		return steward.ReasonStopRequested + " by " + who
	}
	return ""
}
