package supervise

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/stewardhq/steward"
)

// notifyMsg is one datagram a service sent to its NOTIFY_SOCKET, from a
// process of its tree: the sd_notify protocol's KEY=VALUE lines.
type notifyMsg struct {
	inst   int
	fields map[string]string
}

// parseNotify reads the newline-separated KEY=VALUE assignments of an
// sd_notify datagram.
func parseNotify(b []byte) map[string]string {
	out := map[string]string{}
	for line := range strings.SplitSeq(string(b), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && k != "" {
			out[k] = v
		}
	}
	return out
}

// notified acts on a message of the current instance: READY=1 makes a
// starting service running, STATUS= is shown in its status, STOPPING=1 and
// MAINPID= are recorded, and WATCHDOG=1 resets the watchdog.
func (s *service) notified(ctx context.Context, ls *loopState, m notifyMsg) {
	if ls.inst == nil || ls.inst.n != m.inst {
		return
	}
	cfg := s.config()
	if st, ok := m.fields["STATUS"]; ok {
		s.mu.Lock()
		s.st.StatusText = st
		s.notifyLocked()
		s.mu.Unlock()
	}
	if m.fields["STOPPING"] == "1" {
		s.note(ctx, "STOPPING=1: the service says it is stopping")
	}
	if pid, ok := m.fields["MAINPID"]; ok {
		s.note(ctx, "MAINPID="+pid+" noted; steward keeps watching the process it started, "+strconv.Itoa(ls.inst.p.Pid()))
	}
	if m.fields["WATCHDOG"] == "1" && cfg.Ready.Watchdog > 0 {
		stopTimer(&ls.watchdog)
		ls.watchdog = s.sup.opts.Clock.NewTimer(cfg.Ready.Watchdog)
	}
	if m.fields["READY"] == "1" && s.status().State == steward.StateStarting {
		if ls.inst.cancel != nil {
			ls.inst.cancel()
		}
		s.running(ctx, ls, "ready (READY=1)")
		if cfg.Ready.Watchdog > 0 && ls.watchdog == nil {
			ls.watchdog = s.sup.opts.Clock.NewTimer(cfg.Ready.Watchdog)
		}
	}
}

// watchdogMissed kills the current instance, whose WATCHDOG=1 pings
// stopped: its exit then counts as a failed run under the restart policy.
func (s *service) watchdogMissed(ctx context.Context, ls *loopState) {
	if ls.inst == nil || ls.inst.notReady != "" {
		return
	}
	d := s.config().Ready.Watchdog
	ls.inst.probe = "watchdog: no WATCHDOG=1 within " + d.String()
	ls.inst.notReady = ls.inst.probe
	s.set(ctx, steward.StateStopping, ls.inst.p.Pid(), ls.inst.probe)
	s.killTree(ls.inst)
}

// note records an event about the service that changes no state.
func (s *service) note(ctx context.Context, reason string) {
	if s.sup.opts.Events == nil {
		return
	}
	ev := steward.Event{Time: s.sup.opts.Clock.Now().UTC(), Type: steward.EventState, Service: s.name,
		From: s.status().State, To: s.status().State, PID: s.status().PID, Reason: reason}
	if _, err := s.sup.opts.Events.Record(context.WithoutCancel(ctx), ev); err != nil {
		s.sup.opts.Logger.Error("record event", "service", s.name, "err", err)
	}
}

// watchdogUSec is the WATCHDOG_USEC value for a watchdog of d.
func watchdogUSec(d time.Duration) string { return strconv.FormatInt(d.Microseconds(), 10) }

// notifyEnv opens inst's NOTIFY_SOCKET and returns env with NOTIFY_SOCKET
// (and WATCHDOG_USEC with a watchdog) set to it.
func (s *service) notifyEnv(inst *instance, env []string) ([]string, error) {
	ns, err := s.openNotify(inst.n)
	if err != nil {
		return nil, err
	}
	inst.notify = ns
	env = append(env, ns.Env())
	if d := s.config().Ready.Watchdog; d > 0 {
		env = append(env, "WATCHDOG_USEC="+watchdogUSec(d))
	}
	return dedupEnv(env), nil
}
