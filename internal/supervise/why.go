package supervise

import (
	"fmt"
	"strings"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
)

// Why explains the current state of the named service in plain words,
// from its status, its recent exits and the state of its dependencies.
func (s *Supervisor) Why(name string) (steward.Why, error) {
	svc := s.service(name)
	if svc == nil {
		return steward.Why{}, steward.Errorf(steward.ENOTFOUND, "no service %q", name)
	}
	st := svc.status()
	cfg := svc.config()
	exits := svc.recentExits()
	w := steward.Why{Service: name, State: st.State, Since: st.Since}
	var last *steward.Exit
	if len(exits) > 0 {
		last = &exits[len(exits)-1]
		w.LastExit = last
	}
	w.Summary = name + " is " + string(st.State) + ": " + s.explain(st, cfg, exits)
	if last != nil {
		w.Details = append(w.Details, describeRun(*last)...)
	}
	return w, nil
}

// explain says why a service is in the state st.
func (s *Supervisor) explain(st steward.ServiceStatus, cfg *config.Service, exits []steward.Exit) string {
	r := cfg.Restart
	switch st.State {
	case steward.StateFailed:
		if strings.Contains(st.Reason, "restart intensity exceeded") {
			n := crashesWithin(exits, st.Since, r.Window)
			return fmt.Sprintf("it crashed %s within %s (restart intensity %d in %s); the last: %s",
				times(n), r.Window, r.MaxRestarts, r.Window, lastHow(exits, cfg, st.Reason))
		}
		if len(exits) > 0 && exits[len(exits)-1].OOM == steward.OOMYes {
			return "its last run was " + oomWords(cfg) + "; " + st.Reason
		}
		return st.Reason
	case steward.StateBackoff:
		if len(exits) > 0 && exits[len(exits)-1].OOM == steward.OOMYes {
			return fmt.Sprintf("it was %s (%s) and is restarted after its backoff; %d restarts so far", oomWords(cfg), st.Reason, st.Restarts)
		}
		return fmt.Sprintf("it ended (%s) and is restarted after its backoff; %d restarts so far", st.Reason, st.Restarts)
	case steward.StateStarting:
		if strings.HasPrefix(st.Reason, "waiting for ") {
			return s.blockedBy(cfg)
		}
		return st.Reason
	case steward.StateStopped:
		if len(exits) > 0 && strings.Contains(exits[len(exits)-1].Reason, "stop requested") {
			e := exits[len(exits)-1]
			asked, _, _ := strings.Cut(e.Reason, ";")
			return strings.Replace(asked, "stop requested", "stopped", 1) + " at " + e.Ended.Local().Format("15:04:05")
		}
		if st.Reason == "" {
			return "it has not been started"
		}
		return st.Reason
	case steward.StateRunning:
		out := fmt.Sprintf("pid %d since %s", st.PID, st.Since.Local().Format("15:04:05"))
		if st.Restarts > 0 {
			out += fmt.Sprintf(", after %d restarts", st.Restarts)
		}
		if st.Health != steward.HealthUnknown {
			out += ", " + string(st.Health)
		}
		if st.StatusText != "" {
			out += "; it says: " + st.StatusText
		}
		return out
	}
	return st.Reason
}

// blockedBy names the dependencies of cfg that do not meet their condition
// yet, and what each is doing.
func (s *Supervisor) blockedBy(cfg *config.Service) string {
	var waits []string
	for _, d := range cfg.DependsOn {
		dep := s.service(d)
		if dep == nil {
			continue
		}
		cond := cfg.DependencyCondition(d)
		dst := dep.status()
		dep.mu.Lock()
		live := dep.live
		dep.mu.Unlock()
		if ok, _ := dependencyMet(d, cond, dst, live); ok {
			continue
		}
		what := fmt.Sprintf("%s (%s), which is %s", d, cond, dst.State)
		if ex := dep.recentExits(); len(ex) > 0 && (dst.State == steward.StateBackoff || dst.State == steward.StateFailed) {
			what += " after " + crashWords(ex[len(ex)-1])
		} else if dst.Reason != "" {
			what += " (" + dst.Reason + ")"
		}
		waits = append(waits, what)
	}
	if len(waits) == 0 {
		return "its dependencies are met; it starts now"
	}
	return "waiting for " + strings.Join(waits, "; and for ")
}

// crashesWithin counts the unasked-for exits within window before at.
func crashesWithin(exits []steward.Exit, at time.Time, window time.Duration) int {
	n := 0
	for _, e := range exits {
		if !e.Ended.Before(at.Add(-window)) && !strings.Contains(e.Reason, "stop requested") {
			n++
		}
	}
	return n
}

// times says n times in words: "once", "2 times".
func times(n int) string {
	if n == 1 {
		return "once"
	}
	return fmt.Sprintf("%d times", n)
}

// lastHow says how the last run ended, from its record, else from reason.
func lastHow(exits []steward.Exit, cfg *config.Service, reason string) string {
	if len(exits) == 0 {
		return reason
	}
	e := exits[len(exits)-1]
	how := e.Status
	if e.OOM == steward.OOMYes {
		how = oomWords(cfg)
	}
	return fmt.Sprintf("%s after %s", how, roundUptime(e.UptimeSeconds))
}

// oomWords says that the kernel's OOM killer killed a run, at the service's
// memory limit when the kernel enforces one: "killed by the kernel's OOM
// killer at the 256 MB limit".
func oomWords(cfg *config.Service) string {
	out := "killed by the kernel's OOM killer"
	if l := cfg.Limits; l != nil && l.Enforce == config.EnforceKernel && l.Memory > 0 {
		out += " at the " + limitText(l.Memory) + " limit"
	}
	return out
}

// limitText writes a size as a limit is usually given: "256 MB", "1 GiB",
// else with a binary unit.
func limitText(b int64) string {
	for _, u := range []struct {
		name string
		n    int64
	}{{"TiB", 1 << 40}, {"TB", 1e12}, {"GiB", 1 << 30}, {"GB", 1e9}, {"MiB", 1 << 20}, {"MB", 1e6}, {"KiB", 1 << 10}, {"KB", 1e3}} {
		if b >= u.n && b%u.n == 0 {
			return fmt.Sprintf("%d %s", b/u.n, u.name)
		}
	}
	return sizeText(float64(b))
}

// crashWords says how a run ended: "crashing with SIGSEGV", "exiting with
// status 3", "an OOM kill".
func crashWords(e steward.Exit) string {
	switch {
	case e.OOM == steward.OOMYes:
		return "an OOM kill by the kernel"
	case e.Signal != "":
		return "crashing with " + e.Signal
	case e.ExitCode != nil:
		return fmt.Sprintf("exiting with status %d", *e.ExitCode)
	}
	return e.Status
}

// describeRun is the sentences of Why's details about an exit.
func describeRun(e steward.Exit) []string {
	out := []string{fmt.Sprintf("the last run (pid %d) ended at %s after %s: %s", e.PID, e.Ended.Local().Format("15:04:05"), roundUptime(e.UptimeSeconds), e.Status)}
	switch e.OOM {
	case steward.OOMYes:
		out = append(out, "the kernel's OOM killer ended it ("+e.OOMDetail+")")
	case steward.OOMUnknown:
		if e.Signal == "SIGKILL" {
			out = append(out, "whether the OOM killer ended it is unknown: "+e.OOMDetail)
		}
	}
	if e.Probe != "" {
		out = append(out, "the failing check: "+e.Probe)
	}
	if e.PeakRSSBytes > 0 {
		out = append(out, fmt.Sprintf("peak memory %s, CPU time %.2fs (as last sampled)", sizeText(float64(e.PeakRSSBytes)), e.CPUSeconds))
	}
	if e.Reason != "" {
		out = append(out, "steward: "+e.Reason)
	}
	if len(e.LastLines) > 0 {
		out = append(out, "its last lines:\n  "+strings.Join(e.LastLines, "\n  "))
	}
	return out
}

// roundUptime writes a run's length: "1.2s", "3m5s".
func roundUptime(secs float64) string {
	d := time.Duration(secs * float64(time.Second))
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}
