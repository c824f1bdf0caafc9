package run

import (
	"context"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/store"
)

// maxNext bounds how many scheduled times Next returns.
const maxNext = 1000

// Jobs returns the jobs in force, in file order, each with its next
// scheduled time and its last run.
func (e *Engine) Jobs(ctx context.Context) ([]steward.Job, error) {
	e.mu.Lock()
	out := make([]steward.Job, 0, len(e.order))
	for _, name := range e.order {
		j := e.jobs[name]
		if j == nil {
			continue
		}
		c := j.cfg
		wj := steward.Job{Name: name, Schedule: c.Schedule, Timezone: c.Timezone, Concurrency: c.Concurrency,
			Missed: c.Missed, Next: j.next}
		switch {
		case c.Command != nil:
			wj.Action = "command"
		case c.HTTP != nil:
			wj.Action = "http"
		case c.Service != nil:
			wj.Action = "service"
		case c.Backup != nil:
			wj.Action = "backup"
		}
		out = append(out, wj)
	}
	e.mu.Unlock()
	for i := range out {
		last, err := e.o.Store.Runs(ctx, store.RunFilter{Name: out[i].Name, Limit: 1})
		if err != nil {
			return nil, err
		}
		if len(last) > 0 {
			out[i].Last = &steward.RunRef{ID: last[0].ID, Status: last[0].Status}
		}
	}
	return out, nil
}

// Trigger starts a manual run of job name, as its concurrency policy
// allows, and returns it as stored: queued, or skipped.
func (e *Engine) Trigger(ctx context.Context, name string) (steward.Run, error) {
	return e.start(ctx, name, steward.TriggerManual, nil)
}

// Wait waits until run id and the retries that follow it have ended, or
// ctx ends, and returns the last of them. A run whose retries have all
// ended already is returned as stored.
func (e *Engine) Wait(ctx context.Context, id int64) (steward.Run, error) {
	e.mu.Lock()
	ch := e.chains[id]
	e.mu.Unlock()
	if ch == nil {
		return e.o.Store.Run(ctx, id)
	}
	select {
	case <-ch.done:
	case <-ctx.Done():
		return steward.Run{}, ctx.Err()
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return ch.last, nil
}

// Cancel cancels run id, which is queued, running or waiting for a retry,
// waits until it is stored as cancelled, and returns it. A run that ended
// already is an ECONFLICT.
func (e *Engine) Cancel(ctx context.Context, id int64) (steward.Run, error) {
	e.mu.Lock()
	ch := e.chains[id]
	e.mu.Unlock()
	if ch == nil {
		r, err := e.o.Store.Run(ctx, id)
		if err != nil {
			return r, err
		}
		return r, steward.Errorf(steward.ECONFLICT, "run %d is %s already", id, r.Status)
	}
	ch.cancel(errCancelled)
	return e.Wait(ctx, id)
}

// Next returns the next n scheduled times of job name after now; none for
// a job without a schedule.
func (e *Engine) Next(name string, n int) ([]time.Time, error) {
	if n < 1 || n > maxNext {
		return nil, steward.Errorf(steward.EINVALID, "n=%d: want 1 to %d", n, maxNext)
	}
	e.mu.Lock()
	j := e.jobs[name]
	e.mu.Unlock()
	if j == nil {
		return nil, steward.Errorf(steward.ENOTFOUND, "job %q not found", name)
	}
	out := []time.Time{}
	for t := e.clock.Now(); len(out) < n; {
		if t = j.sched.Next(t); t.IsZero() {
			break
		}
		out = append(out, t)
	}
	return out, nil
}

// List returns the runs q selects, newest first.
func (e *Engine) List(ctx context.Context, q steward.RunQuery) ([]steward.Run, error) {
	return e.o.Store.Runs(ctx, store.RunFilter{Name: q.Name, Limit: q.Limit})
}

// Get returns run id.
func (e *Engine) Get(ctx context.Context, id int64) (steward.Run, error) {
	return e.o.Store.Run(ctx, id)
}

// Logs returns the captured output of run id.
func (e *Engine) Logs(ctx context.Context, id int64) (steward.RunLog, error) {
	out, truncated, err := e.o.Store.RunOutput(ctx, id)
	if err != nil {
		return steward.RunLog{}, err
	}
	return steward.RunLog{ID: id, Output: string(out), Truncated: truncated}, nil
}
