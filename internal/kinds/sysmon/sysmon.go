// Package sysmon provides the built-in kind sysmon: a service hosted in
// steward's process that samples the machine every `every:` — CPU, memory,
// swap, load, each mounted filesystem, disk and network I/O — records the
// samples in the metrics history, and raises an alert for each of its
// thresholds that holds (for its `for`). The daemon wiring registers it
// with the supervisor.
package sysmon

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/alert"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/metrics"
	"github.com/stewardhq/steward/internal/supervise"
)

// Alerter takes the observations of thresholds.
type Alerter interface {
	Observe(ctx context.Context, c alert.Condition)
}

// Recorder keeps samples in the metrics history.
type Recorder interface {
	Record(ctx context.Context, samples ...metrics.Sample) error
}

// Sampler samples the machine.
type Sampler interface {
	Sample(ctx context.Context) (metrics.System, error)
}

// Options configure the sysmon kind.
type Options struct {
	Alerts  Alerter  // nil raises no alerts
	History Recorder // nil records no samples
	Logger  *slog.Logger
	// NewSampler makes the sampler of one service; nil means a
	// metrics.SystemSampler that also samples the mounts its thresholds name.
	NewSampler func(cfg *config.Service) Sampler
}

// Kind is the sysmon kind: it makes a Runner per service and remembers
// the last sample of each. It is safe for concurrent use.
type Kind struct {
	o    Options
	mu   sync.Mutex
	last map[string]metrics.System
}

// New returns the sysmon kind.
func New(o Options) *Kind {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Kind{o: o, last: map[string]metrics.System{}}
}

var _ supervise.NewRunner = (*Kind)(nil).NewRunner

// NewRunner makes the runner of a sysmon service.
func (k *Kind) NewRunner(cfg *config.Service) (supervise.Runner, error) {
	spec, ok := cfg.Spec.(*Spec)
	if !ok {
		return nil, fmt.Errorf("service %s: not of kind sysmon", cfg.Name)
	}
	var s Sampler
	if k.o.NewSampler != nil {
		s = k.o.NewSampler(cfg)
	} else {
		ss := &metrics.SystemSampler{}
		for _, t := range spec.Alerts {
			if m, ok := strings.CutPrefix(t.Key, "disk:"); ok {
				ss.Mounts = append(ss.Mounts, m)
			}
		}
		s = ss
	}
	return &runner{k: k, cfg: cfg, spec: spec, sampler: s}, nil
}

// Last returns the last sample of every running sysmon service, by name.
func (k *Kind) Last() map[string]metrics.System {
	k.mu.Lock()
	defer k.mu.Unlock()
	return maps.Clone(k.last)
}

type runner struct {
	k       *Kind
	cfg     *config.Service
	spec    *Spec
	sampler Sampler
	lastErr string
}

// Run samples every spec.Every until ctx ends; it is ready after the
// first sample. Its thresholds' alerts resolve when it stops.
func (r *runner) Run(ctx context.Context, ready func()) error {
	defer func() {
		r.k.mu.Lock()
		delete(r.k.last, r.cfg.Name)
		r.k.mu.Unlock()
		if r.k.o.Alerts != nil {
			for _, t := range r.spec.Alerts {
				r.k.o.Alerts.Observe(context.WithoutCancel(ctx), alert.Condition{Rule: t.Key, Subject: r.cfg.Name,
					Message: r.cfg.Name + " stopped"})
			}
		}
	}()
	tk := time.NewTicker(r.spec.Every)
	defer tk.Stop()
	r.sample(ctx)
	ready()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tk.C:
			r.sample(ctx)
		}
	}
}

// sample takes one sample, records it and checks the thresholds.
func (r *runner) sample(ctx context.Context) {
	sys, err := r.sampler.Sample(ctx)
	if err != nil && ctx.Err() == nil && err.Error() != r.lastErr {
		r.lastErr = err.Error()
		r.k.o.Logger.Warn("sysmon: some figures are missing", "service", r.cfg.Name, "err", err)
	}
	r.k.mu.Lock()
	r.k.last[r.cfg.Name] = sys
	r.k.mu.Unlock()
	if r.k.o.History != nil {
		if err := r.k.o.History.Record(ctx, sys.Samples(nil)...); err != nil {
			r.k.o.Logger.Warn("sysmon: record samples", "service", r.cfg.Name, "err", err)
		}
	}
	if r.k.o.Alerts == nil {
		return
	}
	for _, t := range r.spec.Alerts {
		v, ok := sys.Figure(t.Key, t.Unit)
		c := alert.Condition{Rule: t.Key, Subject: r.cfg.Name, For: t.For, Severity: steward.SeverityWarning}
		if !ok {
			c.Message = fmt.Sprintf("%s: no such figure on this machine", t.Key)
		} else {
			c.Active = t.Holds(v)
			c.Message = fmt.Sprintf("%s is %s, threshold %s", t.Key, format(v, t.Unit), strings.TrimSpace(t.Text))
		}
		r.k.o.Alerts.Observe(ctx, c)
	}
}

// format writes a figure in its unit.
func format(v float64, unit string) string {
	switch unit {
	case "%":
		return fmt.Sprintf("%.1f%%", v)
	case "B":
		units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
		i := 0
		for v >= 1024 && i < len(units)-1 {
			v /= 1024
			i++
		}
		return fmt.Sprintf("%.1f %s", v, units[i])
	}
	return fmt.Sprintf("%.2f", v)
}
