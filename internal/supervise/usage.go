package supervise

import (
	"fmt"
	"time"

	"github.com/stewardhq/steward/internal/config"
)

// Usage is the resource use of a service's process tree.
type Usage struct {
	CPUPercent float64 // 100 is one core
	RSS        uint64
	Threads    int
	OpenFiles  int
	CPUSeconds float64 // CPU time the tree's processes have used
}

// limitState tracks since when a service has been over each of its limits.
type limitState struct {
	memSince, cpuSince time.Time
	memActed, cpuActed bool
}

// PIDs returns the main process ID of every service that has a process.
func (s *Supervisor) PIDs() map[string]int {
	svcs, _ := s.lookup(nil)
	out := make(map[string]int, len(svcs))
	for _, svc := range svcs {
		if st := svc.status(); st.PID > 0 {
			out[svc.name] = st.PID
		}
	}
	return out
}

// SetUsage records the resource use of each named service, sampled at
// the supervisor's clock, and acts on its limits: a limit exceeded for its
// `for` restarts or stops the service, or is reported to the Monitor.
func (s *Supervisor) SetUsage(usage map[string]Usage) {
	now := s.opts.Clock.Now()
	for name, u := range usage {
		svc := s.service(name)
		if svc == nil {
			continue
		}
		svc.setUsage(now, u)
	}
}

func (s *service) setUsage(now time.Time, u Usage) {
	s.mu.Lock()
	if s.st.PID == 0 {
		s.mu.Unlock()
		return // stopped since it was sampled
	}
	s.st.CPUPercent, s.st.RSSBytes, s.st.Threads, s.st.OpenFiles = u.CPUPercent, u.RSS, u.Threads, u.OpenFiles
	s.peakRSS, s.cpuSeconds = max(s.peakRSS, u.RSS), max(s.cpuSeconds, u.CPUSeconds)
	lim := s.cfg.Limits
	s.mu.Unlock()
	if lim == nil || lim.Enforce == config.EnforceKernel {
		return // the kernel enforces them
	}
	if lim.Memory > 0 {
		s.limit(now, lim, CondMemory, &s.limits.memSince, &s.limits.memActed, u.RSS > uint64(lim.Memory),
			fmt.Sprintf("memory %s over the limit of %s", sizeText(float64(u.RSS)), sizeText(float64(lim.Memory))),
			fmt.Sprintf("memory %s within the limit of %s", sizeText(float64(u.RSS)), sizeText(float64(lim.Memory))))
	}
	if lim.CPU > 0 {
		s.limit(now, lim, CondCPU, &s.limits.cpuSince, &s.limits.cpuActed, u.CPUPercent > lim.CPU,
			fmt.Sprintf("CPU %.0f%% over the limit of %.0f%%", u.CPUPercent, lim.CPU),
			fmt.Sprintf("CPU %.0f%% within the limit of %.0f%%", u.CPUPercent, lim.CPU))
	}
}

// limit acts on one limit: over says whether the figure exceeds it now.
// Only the sampling goroutine calls it.
func (s *service) limit(now time.Time, lim *config.Limits, cond string, since *time.Time, acted *bool, over bool, overMsg, okMsg string) {
	if !over {
		if *acted && lim.Action == config.ActionAlert {
			s.sup.report(s.name, cond, false, okMsg)
		}
		*since, *acted = time.Time{}, false
		return
	}
	if since.IsZero() {
		*since = now
	}
	if *acted || now.Sub(*since) < lim.For {
		return
	}
	*acted = true
	msg := overMsg
	if lim.For > 0 {
		msg += " for " + lim.For.String()
	}
	switch lim.Action {
	case config.ActionAlert:
		s.sup.report(s.name, cond, true, msg)
	case config.ActionStop:
		*since, *acted = time.Time{}, false
		go s.sendWhy(reqStop, msg+"; stopping")
	case config.ActionRestart:
		*since, *acted = time.Time{}, false
		go s.sendWhy(reqRecycle, msg)
	}
}

// sizeText formats bytes with a binary unit.
func sizeText(b float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for b >= 1024 && i < len(units)-1 {
		b /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f B", b)
	}
	return fmt.Sprintf("%.1f %s", b, units[i])
}
