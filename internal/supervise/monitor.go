package supervise

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/logcap"
)

// Conditions of a service that Monitor hears of.
const (
	CondFailed     = "failed"     // the service is failed
	CondRestarting = "restarting" // it crashed and is restarted; clears once it ran stably
	CondUnhealthy  = "unhealthy"  // its health check fails
	CondLogFile    = "logfile"    // its log file is not being written: its output is dropped from it
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

// logFileChanged hears from the service's log that its file stopped being
// written, or is written again: it records a log event, tells steward's own
// log, and reports the logfile condition. A Capture of the log calls it.
func (s *service) logFileChanged(fs logcap.FileState) {
	reason := "log of " + s.name + " is being written again: " + strconv.FormatInt(fs.Lines, 10) + " lines (" +
		strconv.FormatInt(fs.Bytes, 10) + " bytes) of output since " + fs.Since.UTC().Format(time.RFC3339) + " are missing from it"
	if fs.Err != nil {
		reason = "log of " + s.name + " is not being written: " + fs.Err.Error()
		s.sup.opts.Logger.Warn(reason, "service", s.name)
	} else {
		s.sup.opts.Logger.Info(reason, "service", s.name)
	}
	ev := steward.Event{Time: s.sup.opts.Clock.Now().UTC(), Type: steward.EventLog, Service: s.name, Reason: reason}
	if s.sup.opts.Events != nil {
		if _, err := s.sup.opts.Events.Record(context.WithoutCancel(s.sup.ctx), ev); err != nil {
			s.sup.opts.Logger.Error("record event", "service", s.name, "err", err)
		}
	}
	s.sup.report(s.name, CondLogFile, fs.Err != nil, reason)
}
