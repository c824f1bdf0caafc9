package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/alert"
	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/check"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/events"
	"github.com/stewardhq/steward/internal/kinds"
	"github.com/stewardhq/steward/internal/metrics"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/supervise"
)

// alertKeep is how long resolved alerts and ended silences are kept.
const alertKeep = 90 * 24 * time.Hour

// monitoring is the metrics history, the alert engine, the standalone
// checks, the sampling of the services' process trees and the runtimes of
// the kinds, wired together.
type monitoring struct {
	log     *slog.Logger
	store   *store.Store
	history *metrics.History
	alerts  *alert.Engine
	kinds   map[string]supervise.NewRunner // of the kinds' runtimes
	checks  *check.Runner
	export  http.Handler
	tag     string // prefixes the tags of the commands of checks and collectors

	// workbooks is the runtime of a kind that serves workbook sessions
	// to the API (an optional interface of kinds.Runtime), if any.
	workbooks api.Workbooks
	// busServers are the runtimes of the kinds that take commands over
	// the bus while one runs (workbooks.go).
	busServers []busServer

	ctx    context.Context // ends with stop
	cancel context.CancelFunc

	life    sync.Mutex // orders start and apply with stop
	stopped bool       // guarded by life: start and apply do nothing

	mu         sync.Mutex
	cfg        *config.Config
	sup        *supervise.Supervisor
	collectors context.CancelFunc // ends the collectors of the current config
	every      chan time.Duration // new sampling intervals for the usage loop
	wg         sync.WaitGroup
}

// newMonitoring builds the monitoring parts over st; nothing runs until
// start. tag prefixes the tags of the checks' and collectors' commands, as
// it does the services'. notify hears of the alerts' transitions
// (alert.Options.Notify).
func newMonitoring(ctx context.Context, cfg *config.Config, reg kinds.Registry, st *store.Store, rec *events.Recorder, log *slog.Logger, version, tag string,
	notify func(steward.Alert, steward.AlertTransition)) (*monitoring, error) {
	m := &monitoring{log: log, store: st, cfg: cfg, tag: tag, every: make(chan time.Duration, 1)}
	var err error
	m.history, err = metrics.NewHistory(ctx, metrics.HistoryOptions{
		Store: st, KeepRaw: cfg.Metrics.KeepRaw, KeepMinute: cfg.Metrics.KeepMinute, KeepHour: cfg.Metrics.KeepHour, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	m.alerts, err = alert.New(ctx, alert.Options{Store: st, Events: rec, Config: cfg.Alerts, Notify: notify, Logger: log})
	if err != nil {
		return nil, err
	}
	host := kinds.Host{Store: st, Alerts: m.alerts, History: m.history, Events: rec, Output: m.serviceLog, Logger: log}
	m.kinds = make(map[string]supervise.NewRunner, len(reg))
	var collectors []prometheus.Collector
	for name, k := range reg {
		rt, err := k.New(host)
		if err != nil {
			return nil, fmt.Errorf("kind %s: %w", name, err)
		}
		m.kinds[name] = rt.NewRunner
		if wb, ok := rt.(api.Workbooks); ok {
			m.workbooks = wb
		}
		if b, ok := rt.(busServer); ok {
			m.busServers = append(m.busServers, b)
		}
		if c, ok := rt.(prometheus.Collector); ok {
			collectors = append(collectors, c)
		}
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	m.checks = check.NewRunner(m.ctx, tag, func(ctx context.Context, c *config.Check, r check.Result) {
		m.alerts.CheckResult(ctx, c, int(r.Status), r.Status.String(), r.Message)
	}, nil)
	m.export = metrics.NewExporter(metrics.ExporterOptions{
		History: m.history,
		Services: func() []steward.ServiceStatus {
			m.mu.Lock()
			sup := m.sup
			m.mu.Unlock()
			if sup == nil {
				return nil
			}
			return sup.List()
		},
		Alerts:     m.alerts.Counts,
		Node:       cfg.Node,
		Version:    version,
		Collectors: collectors,
	})
	return m, nil
}

// serviceLog returns a supervised service's captured output, for the log
// watches that follow it.
func (m *monitoring) serviceLog(name string) (kinds.Output, error) {
	m.mu.Lock()
	sup := m.sup
	m.mu.Unlock()
	if sup == nil {
		return nil, fmt.Errorf("service %s: not running yet", name)
	}
	l, err := sup.Log(name)
	if err != nil {
		return nil, err
	}
	return l, nil
}

// firing returns the alerts that are firing, each with the silences that
// match it.
func (m *monitoring) firing(ctx context.Context) ([]steward.Alert, error) {
	list, err := m.alerts.Alerts(ctx, store.AlertFilter{Open: true, Limit: 1 << 30})
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(list, func(a steward.Alert) bool { return a.State != steward.AlertFiring }), nil
}

// start runs everything until stop; after stop it does nothing.
func (m *monitoring) start(sup *supervise.Supervisor) {
	m.life.Lock()
	defer m.life.Unlock()
	if m.stopped {
		return
	}
	ctx := m.ctx
	m.mu.Lock()
	m.sup = sup
	cfg := m.cfg
	m.mu.Unlock()
	m.wg.Go(func() { m.history.Run(ctx) })
	m.wg.Go(func() { m.alerts.Run(ctx) })
	m.wg.Go(func() { m.sampleUsage(ctx, sup, cfg.Metrics.Every) })
	m.wg.Go(func() { m.prune(ctx) })
	m.applyLocked(cfg)
}

// apply applies a new configuration's monitoring settings; once stop has
// begun, it does nothing.
func (m *monitoring) apply(cfg *config.Config) {
	m.life.Lock()
	defer m.life.Unlock()
	if m.stopped {
		return
	}
	m.applyLocked(cfg)
}

// applyLocked is apply; the caller holds m.life.
func (m *monitoring) applyLocked(cfg *config.Config) {
	m.mu.Lock()
	m.cfg = cfg
	if m.collectors != nil {
		m.collectors()
	}
	var cctx context.Context
	cctx, m.collectors = context.WithCancel(context.Background())
	m.mu.Unlock()
	m.alerts.SetConfig(cfg.Alerts)
	m.history.SetRetention(cfg.Metrics.KeepRaw, cfg.Metrics.KeepMinute, cfg.Metrics.KeepHour)
	m.checks.Apply(cfg.Checks)
	select {
	case <-m.every: // replace a change not taken yet
	default:
	}
	select {
	case m.every <- cfg.Metrics.Every:
	default:
	}
	if len(cfg.Metrics.Collectors) > 0 {
		m.wg.Go(func() { metrics.RunCollectors(cctx, m.tag, cfg.Metrics.Collectors, m.history, m.log) })
	}
}

// stop ends everything and flushes the metrics history. It is safe without
// start and more than once.
func (m *monitoring) stop() {
	m.life.Lock()
	if m.stopped {
		m.life.Unlock()
		return
	}
	m.stopped = true
	m.mu.Lock()
	collectors := m.collectors
	m.mu.Unlock()
	m.life.Unlock()
	if collectors != nil {
		collectors()
	}
	m.checks.Close()
	m.cancel()
	m.wg.Wait()
}

// sampleUsage samples the process tree of every service with a process
// every interval: into the services' status (and their limits), and into
// the metrics history.
func (m *monitoring) sampleUsage(ctx context.Context, sup *supervise.Supervisor, every time.Duration) {
	var ts metrics.TreeSampler
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case d := <-m.every:
			if d != every {
				every = d
				t.Reset(every)
			}
			continue
		case <-t.C:
		}
		pids := sup.PIDs()
		usage, err := ts.Sample(pids)
		if err != nil {
			m.log.Warn("sample services", "err", err)
			continue
		}
		now := time.Now()
		set := make(map[string]supervise.Usage, len(usage))
		var samples []metrics.Sample
		for name, u := range usage {
			set[name] = supervise.Usage{CPUPercent: u.CPUPercent, RSS: u.RSS, Threads: u.Threads, OpenFiles: u.OpenFiles, CPUSeconds: u.CPUSeconds}
			samples = append(samples, u.Samples(name, now)...)
		}
		sup.SetUsage(set)
		if err := m.history.Record(ctx, samples...); err != nil {
			m.log.Warn("record service metrics", "err", err)
		}
	}
}

// prune deletes old resolved alerts and ended silences every hour.
func (m *monitoring) prune(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if _, err := m.store.PruneAlerts(ctx, time.Now().Add(-alertKeep)); err != nil && ctx.Err() == nil {
			m.log.Warn("prune alerts", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
