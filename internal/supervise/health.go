package supervise

import (
	"context"
	"fmt"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/check"
	"github.com/stewardhq/steward/internal/config"
)

// healthResult is a change of an instance's health, sent to the loop.
type healthResult struct {
	inst   int
	health steward.Health
	msg    string
}

// startHealth begins the health checks of inst, which has just become
// running, when the service has any.
func (s *service) startHealth(ctx context.Context, inst *instance) {
	cfg, baseDir := s.snapshotConfig()
	if cfg.Health == nil || inst.healthStop != nil {
		return
	}
	env, err := buildEnv(cfg, s.sup.Config().SecretEnv, s.sup.opts.Env)
	if err != nil {
		env = nil
	}
	dir := cfg.WorkingDir
	if dir == "" {
		dir = baseDir
	}
	hctx, cancel := context.WithCancel(ctx)
	inst.healthStop = cancel
	go s.healthLoop(hctx, inst.n, *cfg.Health, check.FromHealth(cfg.Health, env, dir, s.sup.opts.Tag+"."+s.name+".health"), inst.started)
}

// stopHealth ends inst's health checks and forgets its health.
func (s *service) stopHealth(inst *instance) {
	if inst.healthStop == nil {
		return
	}
	inst.healthStop()
	s.mu.Lock()
	s.st.Health = steward.HealthUnknown
	s.mu.Unlock()
}

// healthLoop probes every interval with Docker's HEALTHCHECK rules and
// sends each change of health to the loop.
func (s *service) healthLoop(ctx context.Context, n int, h config.Health, p check.Probe, started time.Time) {
	now := s.sup.opts.Clock.Now
	cur := steward.HealthUnknown
	failures := 0
	for {
		t := s.sup.opts.Clock.NewTimer(h.Interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C():
		}
		r := check.Run(ctx, p, h.Timeout, now)
		if ctx.Err() != nil {
			return
		}
		next := cur
		if r.Status == check.OK || r.Status == check.Warning {
			failures = 0
			next = steward.HealthHealthy
		} else if cur != steward.HealthUnknown || now().Sub(started) >= h.StartPeriod {
			// During the start period, failures do not count until the
			// first success.
			failures++
			if failures >= h.Retries {
				next = steward.HealthUnhealthy
			}
		}
		if next == cur {
			continue
		}
		cur = next
		msg := fmt.Sprintf("%s: %s", r.Status, r.Message)
		if next == steward.HealthUnhealthy {
			msg = fmt.Sprintf("%d checks in a row failed, the last: %s", failures, msg)
		}
		select {
		case s.healthC <- healthResult{inst: n, health: next, msg: msg}:
		case <-ctx.Done():
			return
		}
	}
}

// healthChanged acts on a change of the current instance's health: it
// records it as an event, reports it, and restarts an unhealthy service
// unless its health check says on_unhealthy: alert.
func (s *service) healthChanged(ctx context.Context, ls *loopState, h healthResult) {
	if ls.inst == nil || ls.inst.n != h.inst || s.status().State != steward.StateRunning {
		return
	}
	s.mu.Lock()
	from := s.st.Health
	s.st.Health = h.health
	pid := s.st.PID
	s.notifyLocked()
	s.mu.Unlock()
	if s.sup.opts.Events != nil {
		ev := steward.Event{Time: s.sup.opts.Clock.Now().UTC(), Type: steward.EventHealth, Service: s.name, PID: pid,
			Reason: steward.HealthReason(from, h.health, h.msg)}
		if _, err := s.sup.opts.Events.Record(context.WithoutCancel(ctx), ev); err != nil {
			s.sup.opts.Logger.Error("record event", "service", s.name, "err", err)
		}
	}
	unhealthy := h.health == steward.HealthUnhealthy
	s.sup.report(s.name, CondUnhealthy, unhealthy, h.msg)
	if unhealthy && s.config().Health.OnUnhealthy == config.ActionRestart {
		s.recycle(ctx, ls, "unhealthy: "+h.msg)
	}
}

// recycle stops the current instance and starts the service again, as a
// restart that its policy does not decide.
func (s *service) recycle(ctx context.Context, ls *loopState, why string) {
	if ls.inst == nil {
		return
	}
	s.mu.Lock()
	s.st.Restarts++
	s.mu.Unlock()
	ls.want, ls.restarted = true, true
	s.stop(ctx, ls, why+steward.ReasonRestarting)
}
