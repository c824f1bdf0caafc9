package supervise

import (
	"context"
	"fmt"

	"github.com/stewardhq/steward"
)

// Conditions of a service that Monitor hears of.
const (
	CondFailed     = "failed"     // the service is failed
	CondRestarting = "restarting" // it crashed and is restarted; clears once it ran stably
	CondUnhealthy  = "unhealthy"  // its health check fails
	CondMemory     = "limit:memory"
	CondCPU        = "limit:cpu"
)

// Monitor hears of the conditions of services that alerts are raised for.
// Calls come in order from one goroutine and may block briefly.
type Monitor interface {
	ServiceCondition(ctx context.Context, service, condition string, active bool, message string)
}

// condition is one call to Monitor.
type condition struct {
	service, cond string
	active        bool
	msg           string
}

// report queues a condition for the Monitor, without waiting for it: the
// loop of a crash-looping service must not wait for the store.
func (s *Supervisor) report(svc, cond string, active bool, msg string) {
	if s.opts.Monitor == nil {
		return
	}
	select {
	case s.conds <- condition{svc, cond, active, msg}:
	case <-s.ctx.Done():
	}
}

// monitorLoop hands queued conditions to the Monitor until Close.
func (s *Supervisor) monitorLoop() {
	for {
		select {
		case c := <-s.conds:
			s.opts.Monitor.ServiceCondition(s.ctx, c.service, c.cond, c.active, c.msg)
		case <-s.ctx.Done():
			return
		}
	}
}

// stateChanged runs at every state change, after the status is updated:
// it reports the failed and restarting conditions, and forgets resource
// figures of a service with no process.
func (s *service) stateChanged(state steward.State, pid int, reason string) {
	if pid == 0 {
		s.mu.Lock()
		s.st.CPUPercent, s.st.RSSBytes, s.st.Threads, s.st.OpenFiles = 0, 0, 0, 0
		s.mu.Unlock()
	}
	switch state {
	case steward.StateFailed:
		s.sup.report(s.name, CondFailed, true, reason)
		s.endCrashing("gave up: " + reason)
	case steward.StateStarting:
		s.sup.report(s.name, CondFailed, false, "starting again")
	case steward.StateRunning:
		s.sup.report(s.name, CondFailed, false, "running")
	case steward.StateStopped, steward.StateExited:
		s.endCrashing(string(state))
	}
}

// crashed notes an unexpected exit that the restart policy answers.
func (s *service) crashed(how string, restarts int) {
	s.mu.Lock()
	s.crashing = true
	s.mu.Unlock()
	s.sup.report(s.name, CondRestarting, true, fmt.Sprintf("%s (restart %d)", how, restarts))
}

func (s *service) endCrashing(why string) {
	s.mu.Lock()
	was := s.crashing
	s.crashing = false
	s.mu.Unlock()
	if was {
		s.sup.report(s.name, CondRestarting, false, why)
	}
}

// ranStably ends the crashing of a restarted service that kept running for
// restart.stable; the loop calls it when the timer that running set fires.
func (s *service) ranStably() {
	s.mu.Lock()
	ok := s.crashing && s.st.State == steward.StateRunning
	if ok {
		s.crashing = false
	}
	stable := s.cfg.Restart.Stable
	s.mu.Unlock()
	if ok {
		s.sup.report(s.name, CondRestarting, false, fmt.Sprintf("running stably for %s", stable))
	}
}
