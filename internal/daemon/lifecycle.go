package daemon

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/stewardhq/steward/internal/config"
)

// lifecycleMargin is what a stop or a reload may take beyond the timeouts
// of its services: the kills after a stop.timeout, the reaping, the events.
const lifecycleMargin = 5 * time.Second

// ShutdownTimeout bounds an orderly stop of every service of cfg: each layer
// of the dependency graph may take its slowest stop.timeout, plus a margin.
func ShutdownTimeout(cfg *config.Config) time.Duration {
	return layered(cfg, func(string) bool { return true }, stopTimeout) + lifecycleMargin
}

// applyTimeout bounds the change from the services of old to those of cfg:
// the stops of the removed and changed services, layer by layer of old's
// dependency graph, then the readiness of the changed and added ones, layer
// by layer of cfg's, plus a margin.
func applyTimeout(old, cfg *config.Config) time.Duration {
	diff := config.Compare(old, cfg)
	stopped := slices.Concat(diff.Removed, diff.Changed)
	started := slices.Concat(diff.Changed, diff.Added)
	return layered(old, func(name string) bool { return slices.Contains(stopped, name) }, stopTimeout) +
		layered(cfg, func(name string) bool { return slices.Contains(started, name) }, readyTimeout) +
		lifecycleMargin
}

func stopTimeout(s *config.Service) time.Duration  { return s.Stop.Timeout }
func readyTimeout(s *config.Service) time.Duration { return s.Ready.Timeout }

// layered sums, over the layers of cfg's dependency graph, the longest
// timeout of the services of the layer that are in.
func layered(cfg *config.Config, in func(name string) bool, timeout func(*config.Service) time.Duration) time.Duration {
	var total time.Duration
	for _, layer := range cfg.StartOrder() {
		var slowest time.Duration
		for _, name := range layer {
			if in(name) {
				slowest = max(slowest, timeout(cfg.Services[name]))
			}
		}
		total += slowest
	}
	return total
}

// Close releases what New acquired and Run started: the API's listeners,
// the monitoring, the notifications, the service loops (services still
// running are killed; Run stops them in order first), the store and, last,
// the data dir's lock. It is safe after New, after a Run that failed to
// start, after Run returned, and more than once. A configuration change
// under way finishes first; none begins after.
func (d *Daemon) Close() error {
	d.applyMu.Lock()
	defer d.applyMu.Unlock()
	if d.closed {
		return nil
	}
	d.closing, d.closed = true, true
	for _, s := range d.served {
		s.close()
	}
	d.served = nil
	if d.bus != nil {
		d.bus.stop() // before the events it forwards end
	}
	if d.runs != nil {
		d.runs.stop() // before the alerts: a run's end is reported
	}
	if d.mon != nil {
		d.mon.stop()
	}
	if d.notes != nil {
		d.notes.stop() // after the alert engine: what it raised last is routed
	}
	var errs []error
	if d.sup != nil {
		if err := d.sup.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close supervisor: %w", err))
		}
	}
	if d.exits != nil {
		d.exits.close() // after the supervisor's last exits, before the store
	}
	if d.events != nil {
		d.closeEvents() // after the supervisor's last events, before the store
	}
	if d.store != nil {
		if err := d.store.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close store: %w", err))
		}
	}
	if d.lock != nil {
		if err := d.lock.Unlock(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
