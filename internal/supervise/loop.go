package supervise

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/backoff"
	"github.com/stewardhq/steward/internal/config"
)

// loopState is what the loop goroutine owns.
type loopState struct {
	want     bool // a start was asked for and no stop since
	spawnNow bool // begin is to spawn once the request is answered
	inst     *instance
	count    int // instances started, for tags
	deps     chan depsResult
	depsGen  int // current dependency wait; older results are stale
	depsStop context.CancelFunc
	backoff  Timer
	killAt   Timer
	stable   Timer       // ends the crashing of a restarted instance that keeps running
	watchdog Timer       // fires when a ready.watchdog ping is overdue
	history  []time.Time // restarts within the window
	failures int         // consecutive unstable runs, for backoff
	// restarted says the service is being restarted by steward (its policy,
	// a health check, a limit), not started on request: once it runs
	// again, the dependents with restart: true on it restart too.
	restarted bool
}

func (s *service) loop(ctx context.Context) {
	ls := &loopState{deps: make(chan depsResult, 1)}
	defer s.shutdown(ls)
	for {
		var exitC <-chan exitResult
		var readyC <-chan error
		if ls.inst != nil {
			exitC, readyC = ls.inst.done, ls.inst.ready
		}
		if ls.spawnNow {
			ls.spawnNow = false
			if ls.want && ls.inst == nil && s.status().State == steward.StateStarting {
				s.spawn(ctx, ls, "started")
			}
			continue
		}
		select {
		case <-ctx.Done():
			return
		case r := <-s.reqs:
			retire := s.handle(ctx, ls, r)
			close(r.done)
			if retire {
				return
			}
		case e := <-exitC:
			s.exited(ctx, ls, e)
		case err := <-readyC:
			s.readied(ctx, ls, err)
		case h := <-s.healthC:
			s.healthChanged(ctx, ls, h)
		case d := <-ls.deps:
			s.depsDone(ctx, ls, d)
		case m := <-s.notifyC:
			s.notified(ctx, ls, m)
		case <-timerC(ls.watchdog):
			ls.watchdog = nil
			s.watchdogMissed(ctx, ls)
		case <-timerC(ls.backoff):
			ls.backoff = nil
			s.spawn(ctx, ls, "backoff over")
		case <-timerC(ls.killAt):
			ls.killAt = nil
			if ls.inst != nil {
				s.killTree(ls.inst)
			}
		case <-timerC(ls.stable):
			ls.stable = nil
			s.ranStably()
		}
	}
}

// handle acts on a request; it reports whether the loop should end.
func (s *service) handle(ctx context.Context, ls *loopState, r request) bool {
	state := s.status().State
	switch r.kind {
	case reqStart:
		ls.want = true
		switch state {
		case steward.StateStopped, steward.StateFailed, steward.StateExited:
			ls.history, ls.failures, ls.restarted = nil, 0, false
			s.begin(ctx, ls)
		}
		// starting, running, backoff: already on its way; stopping: ls.want
		// makes it start again once stopped.
	case reqStop:
		ls.want = false
		s.stop(ctx, ls, cmp.Or(r.why, steward.ReasonStopRequested))
	case reqRecycle:
		if state == steward.StateRunning {
			s.recycle(ctx, ls, r.why)
		}
	case reqRetire:
		ls.want = false
		s.stop(ctx, ls, steward.ReasonRemoved)
		return true
	}
	return false
}

// stop ends the service: the stop signal to its process group and a kill
// of its tree after stop.timeout; or, with no process, straight to stopped.
func (s *service) stop(ctx context.Context, ls *loopState, why string) {
	if ls.depsStop != nil {
		ls.depsStop()
		ls.depsStop = nil
	}
	stopTimer(&ls.backoff)
	st := s.status()
	if ls.inst == nil {
		if st.State == steward.StateStarting || st.State == steward.StateBackoff {
			s.set(ctx, steward.StateStopped, 0, why)
		}
		return
	}
	if st.State == steward.StateStopping {
		return
	}
	cfg := s.config()
	s.set(ctx, steward.StateStopping, ls.inst.p.Pid(), why)
	if err := ls.inst.p.Signal(cfg.Stop.Signal); err != nil {
		s.sup.opts.Logger.Warn("stop signal", "service", s.name, "err", err)
		s.killTree(ls.inst)
		return
	}
	ls.killAt = s.sup.opts.Clock.NewTimer(cfg.Stop.Timeout)
}

// exited handles the end of an instance's main process.
func (s *service) exited(ctx context.Context, ls *loopState, e exitResult) {
	inst := ls.inst
	if inst.cancel != nil {
		inst.cancel()
	}
	s.stopHealth(inst)
	if inst.notify != nil {
		inst.notify.Close()
	}
	ended := s.sup.opts.Clock.Now()
	// The rest of the tree goes with its main process, as systemd does.
	s.sup.cleanups.Go(func() { s.killTree(inst) })
	ls.inst = nil
	s.setLive(false)
	stopTimer(&ls.killAt)
	stopTimer(&ls.stable)
	stopTimer(&ls.watchdog)
	how := describeExit(e.state, e.err)
	if e.builtin {
		how = "finished"
		if e.err != nil {
			how = "failed: " + e.err.Error()
		}
	}
	code := exitCode(e.state)
	s.mu.Lock()
	s.st.ExitCode = code
	s.mu.Unlock()

	state := s.status().State
	switch {
	case inst.notReady != "" && ls.want:
		if !s.onExit(ctx, ls, inst.notReady, false, code) {
			s.afterRun(ctx, ls, inst.notReady, false, inst.started)
		}
		s.recordExit(inst, e, ended, "")
	case state == steward.StateStopping:
		asked := s.status().Reason
		s.set(ctx, steward.StateStopped, 0, "stopped ("+how+")")
		s.recordExit(inst, e, ended, asked+"; stopped ("+how+")")
		if ls.want {
			s.begin(ctx, ls)
		}
	default:
		if !s.onExit(ctx, ls, how, e.clean(), code) {
			s.afterRun(ctx, ls, how, e.clean(), inst.started)
		}
		s.recordExit(inst, e, ended, "")
	}
}

// afterRun applies the restart policy to a run that ended as how says,
// successfully or not: the service exits, fails, or is restarted after its
// backoff unless the restart intensity is exceeded. started is when the run
// began; zero for a process that could not be started.
func (s *service) afterRun(ctx context.Context, ls *loopState, how string, clean bool, started time.Time) {
	cfg := s.config()
	switch {
	case cfg.Restart.Policy == config.RestartNever || (clean && cfg.Restart.Policy == config.RestartOnFailure):
		ls.want = false
		if clean {
			s.set(ctx, steward.StateExited, 0, how)
		} else {
			s.set(ctx, steward.StateFailed, 0, how+"; restart policy "+cfg.Restart.Policy)
		}
		return
	}

	now := s.sup.opts.Clock.Now()
	if !started.IsZero() && now.Sub(started) >= cfg.Restart.Stable {
		ls.failures = 0
	}
	ls.failures++
	cut := now.Add(-cfg.Restart.Window)
	ls.history = slices.DeleteFunc(ls.history, func(t time.Time) bool { return t.Before(cut) })
	if len(ls.history) >= cfg.Restart.MaxRestarts {
		ls.want = false
		s.set(ctx, steward.StateFailed, 0, fmt.Sprintf("%s; restart intensity exceeded: %d restarts within %s",
			how, len(ls.history), cfg.Restart.Window))
		return
	}
	ls.history = append(ls.history, now)
	ls.restarted = true
	s.mu.Lock()
	s.st.Restarts++
	restarts := s.st.Restarts
	s.mu.Unlock()
	s.crashed(how, restarts)

	delay := backoff.Policy{Min: cfg.Restart.Backoff, Max: cfg.Restart.MaxBackoff}.Delay(ls.failures)
	if delay <= 0 && !started.IsZero() {
		s.spawn(ctx, ls, how+steward.ReasonRestarting)
		return
	}
	// A start that failed waits for a timer even without a backoff, so
	// that failing starts never recurse.
	s.set(ctx, steward.StateBackoff, 0, how+steward.ReasonRestarting+" in "+delay.Round(time.Millisecond).String())
	ls.backoff = s.sup.opts.Clock.NewTimer(delay)
}

// giveUp marks a start that cannot succeed as failed.
func (s *service) giveUp(ctx context.Context, ls *loopState, why string) {
	ls.want = false
	s.set(ctx, steward.StateFailed, 0, why)
}

// killTree kills what is left of an instance's process tree.
func (s *service) killTree(inst *instance) {
	if err := inst.p.KillTree(); err != nil {
		s.sup.opts.Logger.Warn("kill process tree", "service", s.name, "pid", inst.p.Pid(), "err", err)
	}
}

// shutdown runs when the loop ends: nothing of the service may survive it.
func (s *service) shutdown(ls *loopState) {
	if ls.depsStop != nil {
		ls.depsStop()
	}
	stopTimer(&ls.backoff)
	stopTimer(&ls.killAt)
	stopTimer(&ls.stable)
	stopTimer(&ls.watchdog)
	if ls.inst != nil {
		if ls.inst.notify != nil {
			ls.inst.notify.Close()
		}
		if ls.inst.cancel != nil {
			ls.inst.cancel()
		}
		s.stopHealth(ls.inst)
		s.killTree(ls.inst)
		<-ls.inst.done
	}
}

func describeExit(st ExitStatus, err error) string {
	switch {
	case st != nil:
		return st.String()
	case err != nil:
		return "wait: " + err.Error()
	}
	return "exited"
}

func exitCode(st ExitStatus) *int {
	if st == nil || st.ExitCode() < 0 {
		return nil
	}
	c := st.ExitCode()
	return &c
}
