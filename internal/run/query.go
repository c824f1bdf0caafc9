package run

import (
	"context"
	"fmt"
	"strings"
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
		case c.Report != nil:
			wj.Action = "report"
		case c.Publish != nil:
			wj.Action = "publish"
		case c.Workbook != nil:
			wj.Action = "workbook"
		}
		out = append(out, wj)
	}
	e.mu.Unlock()
	for i := range out {
		if err := e.lastRun(ctx, out[i].Name, &out[i].Last); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// lastRun sets *ref to the last run of name, if it has one.
func (e *Engine) lastRun(ctx context.Context, name string, ref **steward.RunRef) error {
	last, err := e.o.Store.Runs(ctx, store.RunFilter{Name: name, Limit: 1})
	if err != nil {
		return err
	}
	if len(last) > 0 {
		*ref = &steward.RunRef{ID: last[0].ID, Status: last[0].Status}
	}
	return nil
}

// Trigger starts a manual run of job name, as its concurrency policy
// allows, and returns it as stored: queued, or skipped.
func (e *Engine) Trigger(ctx context.Context, name string) (steward.Run, error) {
	return e.start(ctx, name, steward.TriggerManual, nil)
}

// waitPoll is how often Wait looks again for the chain of a run it found
// stored but not yet running. It is real time, not the engine's clock: the
// gap is the engine's own, between two statements.
const waitPoll = 5 * time.Millisecond

// Wait waits until run id and the retries that follow it have ended, or
// ctx ends, and returns the last of them. A run whose retries have all
// ended already is returned as stored.
func (e *Engine) Wait(ctx context.Context, id int64) (steward.Run, error) {
	for {
		e.mu.Lock()
		ch := e.chains[id]
		e.mu.Unlock()
		if ch != nil {
			select {
			case <-ch.done:
			case <-ctx.Done():
				return steward.Run{}, ctx.Err()
			}
			e.mu.Lock()
			defer e.mu.Unlock()
			return ch.last, nil
		}
		r, err := e.o.Store.Run(ctx, id)
		if err != nil || r.Status.Done() {
			return r, err
		}
		// A run is stored before its chain is registered: one seen
		// between the two is waited for until it is.
		select {
		case <-time.After(waitPoll):
		case <-ctx.Done():
			return steward.Run{}, ctx.Err()
		}
	}
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

// Get returns run id, with its steps for a workflow run.
func (e *Engine) Get(ctx context.Context, id int64) (steward.Run, error) {
	r, err := e.o.Store.Run(ctx, id)
	if err != nil || r.Kind != steward.RunKindWorkflow {
		return r, err
	}
	r.Steps, err = e.o.Store.Steps(ctx, id)
	return r, err
}

// Logs returns the captured output of run id: for a workflow run, that of
// each step that wrote something, after a line naming it.
func (e *Engine) Logs(ctx context.Context, id int64) (steward.RunLog, error) {
	out, truncated, err := e.o.Store.RunOutput(ctx, id)
	if err != nil {
		return steward.RunLog{}, err
	}
	steps, err := e.o.Store.StepOutputs(ctx, id)
	if err != nil {
		return steward.RunLog{}, err
	}
	var b strings.Builder
	b.Write(out)
	for _, s := range steps {
		fmt.Fprintf(&b, "==> step %s <==\n", s.Name)
		b.Write(s.Output)
		if len(s.Output) > 0 && s.Output[len(s.Output)-1] != '\n' {
			b.WriteByte('\n')
		}
		truncated = truncated || s.Truncated
	}
	return steward.RunLog{ID: id, Output: b.String(), Truncated: truncated}, nil
}
