package supervise

import (
	"context"
	"fmt"
	"sync"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/logcap"
)

// service is one supervised service. Its loop goroutine owns the process
// and every decision; other goroutines send it requests and read its
// status, which only the loop writes.
type service struct {
	name string
	sup  *Supervisor
	log  *logcap.Log
	reqs chan request

	mu      sync.Mutex
	cfg     *config.Service
	baseDir string // resolves a relative working_dir default and command path
	st      steward.ServiceStatus
	live    bool          // an instance has started and not yet exited
	changed chan struct{} // closed and replaced at every change of st or live

	healthC  chan healthResult // health changes, to the loop
	limits   limitState        // owned by the caller of SetUsage
	crashing bool              // the last exit was unexpected and no stable run followed; under mu
	notifyC  chan notifyMsg    // sd_notify messages of its instances, to the loop

	// Under mu: the peak RSS and last CPU time of the running instance's
	// tree as sampled, and the recent exits, oldest first.
	peakRSS    uint64
	cpuSeconds float64
	exits      []steward.Exit
}

type requestKind int

const (
	reqStart requestKind = iota
	reqStop
	reqRetire
	reqRecycle // stop the running instance and start again
)

type request struct {
	kind requestKind
	why  string        // the reason of a stop or recycle; "" for the default
	done chan struct{} // closed once the loop has acted on the request
}

// newService returns the service of cfg; its log is to be set before its
// loop starts.
func newService(sup *Supervisor, cfg *config.Service, baseDir string) *service {
	return &service{
		name:    cfg.Name,
		sup:     sup,
		reqs:    make(chan request),
		cfg:     cfg,
		baseDir: baseDir,
		st: steward.ServiceStatus{
			Name:      cfg.Name,
			Kind:      cfg.Kind,
			State:     steward.StateStopped,
			Health:    steward.HealthUnknown,
			Since:     sup.opts.Clock.Now().UTC(),
			DependsOn: cfg.DependsOn,
		},
		changed: make(chan struct{}),
		healthC: make(chan healthResult),
		notifyC: make(chan notifyMsg),
	}
}

func (s *service) config() *config.Service {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg
}

// setConfig replaces the configuration of a stopped service.
func (s *service) setConfig(cfg *config.Service, baseDir string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg = cfg
	s.baseDir = baseDir
	s.st.Kind = cfg.Kind
	s.st.DependsOn = cfg.DependsOn
}

func (s *service) snapshotConfig() (*config.Service, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg, s.baseDir
}

func (s *service) status() steward.ServiceStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st
}

// notifyLocked wakes the waits on the service; callers hold s.mu.
func (s *service) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// setLive records whether an instance of the service has started and not
// yet exited.
func (s *service) setLive(live bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.live = live
	s.notifyLocked()
}

// send hands a request to the loop and waits until it has acted on it.
func (s *service) send(kind requestKind) { s.sendWhy(kind, "") }

// sendWhy is send with the reason for a stop or recycle.
func (s *service) sendWhy(kind requestKind, why string) {
	r := request{kind: kind, why: why, done: make(chan struct{})}
	select {
	case s.reqs <- r:
		<-r.done
	case <-s.sup.ctx.Done():
	}
}

func (s *service) requestStart() { s.send(reqStart) }
func (s *service) retire()       { s.send(reqRetire) }

// waitFor waits until cond, given the current status and whether an
// instance is live, says done.
func (s *service) waitFor(ctx context.Context, cond func(st steward.ServiceStatus, live bool) (bool, error)) error {
	for {
		s.mu.Lock()
		st, live, ch := s.st, s.live, s.changed
		s.mu.Unlock()
		if done, err := cond(st, live); done {
			return err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("%s is %s: %w", s.name, st.State, ctx.Err())
		}
	}
}

// waitStarted waits until the service runs (and is ready) or has exited,
// and fails when it stops or fails instead.
func (s *service) waitStarted(ctx context.Context) error {
	return s.waitFor(ctx, func(st steward.ServiceStatus, _ bool) (bool, error) {
		switch st.State {
		case steward.StateRunning, steward.StateExited:
			return true, nil
		case steward.StateFailed, steward.StateStopped:
			return true, steward.Errorf(steward.ECONFLICT, "%s %s: %s", s.name, st.State, st.Reason)
		}
		return false, nil
	})
}

// waitStopped waits until the service has no process and none is coming.
func (s *service) waitStopped(ctx context.Context) error {
	return s.waitFor(ctx, func(st steward.ServiceStatus, _ bool) (bool, error) {
		return !st.State.Active() && st.State != steward.StateStopping, nil
	})
}

// set records a state change as an event, then makes it visible.
func (s *service) set(ctx context.Context, state steward.State, pid int, reason string) {
	from := s.status().State
	ev := steward.Event{
		Time:    s.sup.opts.Clock.Now().UTC(),
		Type:    steward.EventState,
		Service: s.name,
		From:    from,
		To:      state,
		PID:     pid,
		Reason:  reason,
	}
	if s.sup.opts.Events != nil {
		if _, err := s.sup.opts.Events.Record(context.WithoutCancel(ctx), ev); err != nil {
			s.sup.opts.Logger.Error("record event", "service", s.name, "err", err)
		}
	}
	s.mu.Lock()
	s.st.State, s.st.PID, s.st.Reason, s.st.Since = state, pid, reason, ev.Time
	s.notifyLocked()
	s.mu.Unlock()
	s.stateChanged(state, pid, reason)
}
