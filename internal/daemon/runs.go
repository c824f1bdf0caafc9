package daemon

import (
	"context"
	"log/slog"

	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/run"
)

// runs is the run engine of the jobs: built by New, its scheduler started
// by Run, its jobs replaced by each applied configuration.
type runs struct {
	*run.Engine
	log  *slog.Logger
	done chan struct{} // closed when the scheduler returned; nil before start
}

// newRuns builds the run engine over the store, reporting to the alert
// engine and acting on the supervisor's services, with tag the prefix of
// its commands' tags, and marks the runs an earlier steward left
// unfinished as lost.
func newRuns(ctx context.Context, st run.Store, alerts run.Alerter, sup run.Services, tag string, log *slog.Logger) (*runs, error) {
	r := &runs{Engine: run.New(run.Options{Store: st, Alerts: alerts, Services: sup, Tag: tag, Logger: log}), log: log}
	if err := r.Recover(ctx); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// start plans cfg's jobs, catching up the runs they missed, and starts the
// scheduler.
func (r *runs) start(ctx context.Context, cfg *config.Config) {
	r.apply(ctx, cfg)
	r.done = make(chan struct{})
	go func() {
		defer close(r.done)
		r.Run(context.WithoutCancel(ctx))
	}()
}

// apply makes cfg's jobs the jobs in force; a job that cannot be planned is
// logged.
func (r *runs) apply(ctx context.Context, cfg *config.Config) {
	if err := r.Apply(ctx, cfg); err != nil {
		r.log.Error("plan jobs", "err", err)
	}
}

// stop cancels the runs in flight and stops the scheduler.
func (r *runs) stop() {
	r.Close()
	if r.done != nil {
		<-r.done
	}
}
