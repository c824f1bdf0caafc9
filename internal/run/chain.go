package run

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/backoff"
	"github.com/stewardhq/steward/internal/config"
)

// storeTimeout bounds a write of a run's state that must happen even when
// the run was cancelled.
const storeTimeout = 10 * time.Second

// Why a run was cancelled.
var (
	errCancelled = errors.New("cancelled")
	errReplaced  = errors.New("cancelled: a newer run replaced it (concurrency: replace)")
	errStopped   = errors.New("cancelled: steward stopped")
)

// chain is the runs in flight for one start of a job: its first run, the
// retries of each run, and for a catch-up of missed: all, the runs of the
// other missed times, one after another.
type chain struct {
	job    string
	cancel context.CancelCauseFunc
	ctx    context.Context
	done   chan struct{} // closed once the chain's last run is stored
	ids    []int64       // guarded by Engine.mu
	last   steward.Run   // guarded by Engine.mu
}

func randDuration(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d)
}

// start records a run of job name for the first of times (none for a
// manual run) and starts its chain, or records it as skipped when the
// job's concurrency policy says so. It returns the run as stored.
func (e *Engine) start(ctx context.Context, name, trigger string, times []time.Time) (steward.Run, error) {
	ctx = context.WithoutCancel(ctx)
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return steward.Run{}, errClosed
	}
	j := e.jobs[name]
	if j == nil {
		e.mu.Unlock()
		return steward.Run{}, steward.Errorf(steward.ENOTFOUND, "job %q not found", name)
	}
	cfg := j.cfg
	now := e.clock.Now()
	r := steward.Run{Kind: steward.RunKindJob, Name: name, Status: steward.RunQueued, Trigger: trigger,
		Created: now, Attempt: 1}
	if len(times) > 0 {
		r.Scheduled = times[0]
	}
	var replaced []*chain
	busy := len(j.chains) > 0
	if busy && cfg.Concurrency == config.ConcurrencyForbid {
		e.mu.Unlock()
		r.Status, r.Ended = steward.RunSkipped, now
		r.Error = "an earlier run is still running (concurrency: forbid)"
		if err := e.o.Store.AddRun(ctx, &r, trigger == steward.TriggerSchedule); err != nil {
			return r, err
		}
		return r, nil
	}
	if busy && cfg.Concurrency == config.ConcurrencyReplace {
		for c := range j.chains {
			replaced = append(replaced, c)
		}
	}
	ch := &chain{job: name, done: make(chan struct{})}
	ch.ctx, ch.cancel = context.WithCancelCause(e.ctx)
	j.chains[ch] = true
	e.wg.Add(1)
	e.mu.Unlock()

	if err := e.o.Store.AddRun(ctx, &r, trigger == steward.TriggerSchedule); err != nil {
		e.mu.Lock()
		delete(j.chains, ch)
		e.mu.Unlock()
		ch.cancel(errCancelled)
		close(ch.done)
		e.wg.Done()
		return r, err
	}
	// The runs it replaces end only once the new one is stored: a new run
	// the store refused replaces nothing.
	for _, c := range replaced {
		c.cancel(errReplaced)
	}
	e.mu.Lock()
	ch.ids, ch.last = append(ch.ids, r.ID), r
	e.chains[r.ID] = ch
	e.mu.Unlock()
	go func() {
		defer e.wg.Done()
		e.runChain(ch, j, cfg, r, times)
	}()
	return r, nil
}

// runChain runs r and what follows it in its chain, then forgets the chain.
func (e *Engine) runChain(ch *chain, j *job, cfg *config.Job, r steward.Run, times []time.Time) {
	defer func() {
		e.mu.Lock()
		delete(j.chains, ch)
		for _, id := range ch.ids {
			delete(e.chains, id)
		}
		e.mu.Unlock()
		ch.cancel(errCancelled)
		close(ch.done)
	}()
	for i := 0; i == 0 || i < len(times); i++ {
		if i > 0 {
			r = steward.Run{Kind: steward.RunKindJob, Name: cfg.Name, Status: steward.RunQueued, Trigger: r.Trigger,
				Scheduled: times[i], Created: e.clock.Now(), Attempt: 1}
			if !e.add(ch, &r) {
				return
			}
		}
		for {
			e.attempt(ch, cfg, &r)
			if r.Status != steward.RunFailed && r.Status != steward.RunTimedOut || r.Attempt > cfg.Retries.Max {
				break
			}
			p := backoff.Policy{Min: cfg.Retries.Backoff, Max: cfg.Retries.Backoff << min(cfg.Retries.Max, 16)}
			t := e.clock.NewTimer(p.Delay(r.Attempt))
			select {
			case <-t.C():
			case <-ch.ctx.Done():
				t.Stop()
				e.finish(j, r)
				return
			}
			r = steward.Run{Kind: steward.RunKindJob, Name: cfg.Name, Status: steward.RunQueued, Trigger: r.Trigger,
				Scheduled: r.Scheduled, Created: e.clock.Now(), Attempt: r.Attempt + 1}
			if !e.add(ch, &r) {
				return
			}
		}
		e.finish(j, r)
		if ch.ctx.Err() != nil {
			return
		}
	}
}

// add stores r as a new run of chain ch; false when it could not be.
func (e *Engine) add(ch *chain, r *steward.Run) bool {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	if err := e.o.Store.AddRun(ctx, r, false); err != nil {
		e.log.Error("store a run", "job", r.Name, "err", err)
		return false
	}
	e.mu.Lock()
	ch.ids, ch.last = append(ch.ids, r.ID), *r
	e.chains[r.ID] = ch
	e.mu.Unlock()
	return true
}

// attempt runs r's action once: it stores r as running first, then
// performs the action within cfg's timeout, and stores how it ended.
func (e *Engine) attempt(ch *chain, cfg *config.Job, r *steward.Run) {
	sctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	r.Started = e.clock.Now()
	if err := ch.ctx.Err(); err != nil {
		r.Status, r.Ended, r.Error = steward.RunCancelled, r.Started, context.Cause(ch.ctx).Error()
	} else {
		r.Status = steward.RunRunning
	}
	if err := e.o.Store.UpdateRun(sctx, r); err != nil {
		// Not stored as running: the action does not run.
		r.Status, r.Ended, r.Error = steward.RunFailed, e.clock.Now(), fmt.Sprintf("store the run: %v", err)
		e.log.Error("store a run", "job", r.Name, "run", r.ID, "err", err)
		e.record(ch, *r)
		return
	}
	if r.Status == steward.RunCancelled {
		e.record(ch, *r)
		return
	}
	actx, acancel := ch.ctx, context.CancelFunc(func() {})
	if cfg.Timeout > 0 {
		actx, acancel = context.WithTimeout(ch.ctx, cfg.Timeout)
	}
	out := e.act(actx, cfg, *r)
	acancel()
	r.Ended, r.ExitCode = e.clock.Now(), out.ExitCode
	switch {
	case out.Err == nil:
		r.Status = steward.RunSucceeded
	case ch.ctx.Err() != nil:
		r.Status, r.Error = steward.RunCancelled, context.Cause(ch.ctx).Error()
	case errors.Is(actx.Err(), context.DeadlineExceeded):
		r.Status, r.Error = steward.RunTimedOut, fmt.Sprintf("timed out after %s: its process tree was killed", cfg.Timeout)
	default:
		r.Status, r.Error = steward.RunFailed, out.Err.Error()
	}
	if len(out.Output) > 0 {
		if err := e.o.Store.SetRunOutput(sctx, r.ID, out.Output, out.Truncated); err != nil {
			e.log.Warn("store the output of a run", "job", r.Name, "run", r.ID, "err", err)
		}
	}
	if err := e.o.Store.UpdateRun(sctx, r); err != nil {
		e.log.Error("store a run", "job", r.Name, "run", r.ID, "err", err)
	}
	e.record(ch, *r)
}

func (e *Engine) record(ch *chain, r steward.Run) {
	e.mu.Lock()
	ch.last = r
	e.mu.Unlock()
}

// finish reports the end of r, the last attempt of a run, to the alerts:
// a success resolves the job's failure and dead-man alerts, a failure
// raises its failure alert.
func (e *Engine) finish(j *job, r steward.Run) {
	switch r.Status {
	case steward.RunSucceeded:
		e.mu.Lock()
		j.lastOK = r.Ended
		wasSilent := j.deadMan
		j.deadMan = false
		e.mu.Unlock()
		e.poke()
		if wasSilent {
			e.alert(RuleDeadMan, r.Name, false, fmt.Sprintf("run %d succeeded", r.ID))
		}
		e.alert(RuleJobFailed, r.Name, false, fmt.Sprintf("run %d succeeded", r.ID))
	case steward.RunFailed, steward.RunTimedOut:
		e.alert(RuleJobFailed, r.Name, true, fmt.Sprintf("run %d %s after %d attempts: %s", r.ID, r.Status, r.Attempt, r.Error))
	}
}
