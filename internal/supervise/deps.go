package supervise

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
)

type depsResult struct {
	gen int
	err error
}

// begin starts the service once each dependency meets its condition.
func (s *service) begin(ctx context.Context, ls *loopState) {
	cfg := s.config()
	deps := cfg.DependsOn
	if len(deps) == 0 {
		s.set(ctx, steward.StateStarting, 0, "start requested")
		ls.spawnNow = true
		return
	}
	waits := make([]string, len(deps))
	for i, d := range deps {
		waits[i] = d
		if c := cfg.DependencyCondition(d); c != config.ConditionReady {
			waits[i] += " (" + string(c) + ")"
		}
	}
	s.set(ctx, steward.StateStarting, 0, "waiting for "+strings.Join(waits, ", "))
	ls.depsGen++
	gen := ls.depsGen
	dctx, cancel := context.WithCancel(ctx)
	ls.depsStop = cancel
	go func() {
		var err error
		for _, d := range deps {
			dep := s.sup.service(d)
			if dep == nil {
				err = fmt.Errorf("dependency %s does not exist", d)
				break
			}
			if err = dep.waitDependency(dctx, cfg.DependencyCondition(d)); err != nil {
				break
			}
		}
		select {
		case ls.deps <- depsResult{gen: gen, err: err}:
		case <-dctx.Done():
		}
	}()
}

// depsDone acts on the end of a dependency wait: the service starts, or
// fails with the reason a dependency gave.
func (s *service) depsDone(ctx context.Context, ls *loopState, d depsResult) {
	if d.gen != ls.depsGen || !ls.want || s.status().State != steward.StateStarting || ls.inst != nil {
		return // stale
	}
	ls.depsStop()
	ls.depsStop = nil
	if d.err != nil {
		s.set(ctx, steward.StateFailed, 0, d.err.Error())
		ls.want = false
		return
	}
	s.spawn(ctx, ls, "dependencies ready")
}

// waitDependency waits until the service meets cond as a dependency, and
// fails once it cannot.
func (s *service) waitDependency(ctx context.Context, cond config.Condition) error {
	return s.waitFor(ctx, func(st steward.ServiceStatus, live bool) (bool, error) {
		return dependencyMet(s.name, cond, st, live)
	})
}

// dependencyMet reports whether the dependency name, with status st and an
// instance live or not, meets cond; an error when it no longer can.
func dependencyMet(name string, cond config.Condition, st steward.ServiceStatus, live bool) (bool, error) {
	switch st.State {
	case steward.StateFailed, steward.StateStopped:
		return true, fmt.Errorf("dependency %s %s: %s", name, st.State, st.Reason)
	}
	switch cond {
	case config.ConditionStarted:
		return live || st.State == steward.StateRunning || st.State == steward.StateExited, nil
	case config.ConditionHealthy:
		if st.State == steward.StateExited {
			return true, fmt.Errorf("dependency %s exited before it was healthy: %s", name, st.Reason)
		}
		return st.State == steward.StateRunning && st.Health == steward.HealthHealthy, nil
	case config.ConditionCompleted:
		return st.State == steward.StateExited, nil
	}
	return st.State == steward.StateRunning || st.State == steward.StateExited, nil
}

// restartDependents restarts the running services that depend on s with
// restart: true, now that s runs again after a restart: each stops and
// starts again, waiting for its dependencies as at any start.
func (s *service) restartDependents() {
	svcs, _ := s.sup.lookup(nil)
	for _, d := range svcs {
		if slices.Contains(d.config().DependsOnRestart, s.name) {
			go d.sendWhy(reqRecycle, "dependency "+s.name+" restarted")
		}
	}
}
