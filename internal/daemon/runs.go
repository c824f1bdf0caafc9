package daemon

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/run"
)

// runStore is the store as the run engine and its pruning use it.
type runStore interface {
	run.Store
	PruneRuns(ctx context.Context, before time.Time, keep int) (int64, error)
}

// runs is the run engine of the jobs: built by New, its scheduler started
// by Run, its jobs replaced by each applied configuration; runs older than
// runKeep are pruned every hour.
type runs struct {
	*run.Engine
	store  runStore
	log    *slog.Logger
	mu     sync.Mutex
	keep   config.Runs        // the retention in force
	cancel context.CancelFunc // ends the pruning; nil before start
	done   chan struct{}      // closed when the scheduler and the pruning returned; nil before start
}

// newRuns builds the run engine over the store, reporting to the alert
// engine, acting on the supervisor's services, publishing on b,
// performing reports with report and workbook actions with wb, with tag
// the prefix of its commands' tags, and marks the runs an earlier steward left
// unfinished as lost.
func newRuns(ctx context.Context, st runStore, alerts run.Alerter, sup run.Services, events run.Events, b run.Bus,
	report func(context.Context, *config.Job, steward.Run) ([]byte, error), wb api.Workbooks, tag string, log *slog.Logger) (*runs, error) {
	o := run.Options{Store: st, Alerts: alerts, Services: sup, Events: events, Bus: b, Report: report, Tag: tag, Logger: log}
	if wb != nil { // not a nil api.Workbooks in a non-nil run.Workbooks
		o.Workbooks = wb
	}
	r := &runs{Engine: run.New(o),
		store: st, log: log}
	if err := r.Recover(ctx); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// start plans cfg's jobs, catching up the runs they missed, and starts the
// scheduler and the pruning.
func (r *runs) start(ctx context.Context, cfg *config.Config) {
	r.apply(ctx, cfg)
	r.done = make(chan struct{})
	pctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r.cancel = cancel
	go func() {
		defer close(r.done)
		var wg sync.WaitGroup
		wg.Go(func() { r.Run(pctx) })
		r.prune(pctx)
		wg.Wait()
	}()
}

// prune deletes old runs every hour until ctx ends.
func (r *runs) prune(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		r.mu.Lock()
		keep := r.keep
		r.mu.Unlock()
		if _, err := r.store.PruneRuns(ctx, time.Now().Add(-keep.MaxAge), keep.Keep); err != nil && ctx.Err() == nil {
			r.log.Warn("prune runs", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// apply makes cfg's jobs the jobs in force; a job that cannot be planned is
// logged.
func (r *runs) apply(ctx context.Context, cfg *config.Config) {
	r.mu.Lock()
	r.keep = cfg.Runs
	r.mu.Unlock()
	if err := r.Apply(ctx, cfg); err != nil {
		r.log.Error("plan jobs", "err", err)
	}
}

// stop cancels the runs in flight and stops the scheduler and the pruning.
func (r *runs) stop() {
	r.Close()
	if r.cancel != nil {
		r.cancel()
		<-r.done
	}
}
