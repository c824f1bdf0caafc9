package supervise

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/proc"
)

// ExitSink takes the record of every exit of a service, as the store does.
// RecordExit must not wait on disk: it is called for each exit of a
// crash-looping service (off its loop, but in its rhythm).
type ExitSink interface {
	RecordExit(e steward.Exit)
}

const (
	keepExits       = 16 // recent exits each service keeps in memory, for Why
	exitLines       = 20 // lines of output an exit record keeps
	captureDeadline = 2 * time.Second
)

// oomWatcher is a Process that can watch for the kernel's OOM killer.
type oomWatcher interface{ WatchOOM() proc.OOMWatch }

// WatchOOM reads the OOM kill counters of the process's tree.
func (p osProcess) WatchOOM() proc.OOMWatch { return p.Process.WatchOOM() }

// recordExit notes the end of inst, which the loop has just handled: what
// the loop knows goes into the record at once; the last lines of output and
// the OOM verdict are added, and the record kept and handed to the sink, by
// a goroutine, so that a restart never waits for them. reason is what the
// supervisor made of it; "" means the reason of the current status.
func (s *service) recordExit(inst *instance, e exitResult, ended time.Time, reason string) {
	s.mu.Lock()
	reason = cmp.Or(reason, s.st.Reason)
	peak, cpu := s.peakRSS, s.cpuSeconds
	s.peakRSS, s.cpuSeconds = 0, 0
	s.mu.Unlock()
	rec := steward.Exit{
		Service:       s.name,
		PID:           inst.p.Pid(),
		Started:       inst.started.UTC(),
		Ended:         ended.UTC(),
		UptimeSeconds: ended.Sub(inst.started).Seconds(),
		ExitCode:      exitCode(e.state),
		Status:        exitStatusText(e),
		PeakRSSBytes:  peak,
		CPUSeconds:    cpu,
		Probe:         inst.probe,
		Reason:        reason,
	}
	if e.state != nil {
		rec.Signal, _ = exitSignal(e.state)
	}
	s.sup.cleanups.Go(func() {
		done := make(chan struct{})
		go func() {
			inst.captured.Wait()
			close(done)
		}()
		t := time.NewTimer(captureDeadline)
		select {
		case <-done:
		case <-t.C:
		}
		t.Stop()
		rec.LastLines = s.linesSince(inst.started)
		var watch proc.OOMWatch
		if e.oom != nil {
			watch = <-e.oom
		}
		v := watch.Check(rec.Signal == "SIGKILL" || (rec.ExitCode != nil && *rec.ExitCode == 137))
		rec.OOM, rec.OOMDetail = cmp.Or(v.OOM, steward.OOMUnknown), v.Detail
		if e.builtin {
			rec.OOM, rec.OOMDetail = steward.OOMNo, "a built-in kind runs in steward's process"
		}
		s.keepExit(rec)
		if s.sup.opts.Exits != nil {
			s.sup.opts.Exits.RecordExit(rec)
		}
	})
}

// linesSince returns the last exitLines lines of output written at or
// after since.
func (s *service) linesSince(since time.Time) []string {
	since = since.Truncate(time.Millisecond) // the ring keeps milliseconds
	var out []string
	for _, l := range s.log.Tail(exitLines) {
		if !l.Time.Before(since) {
			out = append(out, l.Text)
		}
	}
	return out
}

// keepExit adds rec to the service's recent exits, oldest first.
func (s *service) keepExit(rec steward.Exit) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.exits = append(s.exits, rec)
	slices.SortStableFunc(s.exits, func(a, b steward.Exit) int { return a.Ended.Compare(b.Ended) })
	if n := len(s.exits) - keepExits; n > 0 {
		s.exits = slices.Delete(s.exits, 0, n)
	}
}

// recentExits returns the service's recent exits, oldest first.
func (s *service) recentExits() []steward.Exit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.exits)
}

// exitStatusText says how a run ended, naming a signal and explaining a
// status of 128+N as a shell's report of signal N.
func exitStatusText(e exitResult) string {
	switch {
	case e.builtin && e.err == nil:
		return "finished"
	case e.builtin:
		return "failed: " + e.err.Error()
	case e.state == nil:
		return describeExit(e.state, e.err)
	}
	if sig, n := exitSignal(e.state); sig != "" {
		return fmt.Sprintf("killed by %s (a shell reports %d = 128+%d)", sig, 128+n, n)
	}
	code := e.state.ExitCode()
	if code > 128 && code < 128+65 {
		if sig := signalName(code - 128); sig != "" {
			return "exit status " + strconv.Itoa(code) + " (128+" + strconv.Itoa(code-128) + ": a shell's report that its child was killed by " + sig + ")"
		}
	}
	return e.state.String()
}
