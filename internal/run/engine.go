// Package run is steward's run engine: it plans the scheduled times of the
// jobs of the configuration, starts their runs by their policies
// (concurrency, missed runs, timeout, retries), stores every run before its
// side effect and as it goes, and reports failing and silent jobs to the
// alert engine. Only the daemon builds an Engine; the API drives it
// through the interface it declares.
package run

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"sync"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/clock"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/store"
)

// Alert rules of jobs, with the job as the subject.
const (
	RuleJobFailed = "job_failed" // the last attempt of a run failed
	RuleDeadMan   = "dead_man"   // no run succeeded within dead_man
)

// maxCatchUp bounds the catch-up runs of missed: all.
const maxCatchUp = 100

// Store keeps runs and the last scheduled time of each job.
type Store interface {
	// AddRun stores a new run; with mark, its scheduled time as its
	// job's last, in the same transaction.
	AddRun(ctx context.Context, r *steward.Run, mark bool) error
	UpdateRun(ctx context.Context, r *steward.Run) error
	SetRunOutput(ctx context.Context, id int64, out []byte, truncated bool) error
	RunOutput(ctx context.Context, id int64) ([]byte, bool, error)
	Run(ctx context.Context, id int64) (steward.Run, error)
	Runs(ctx context.Context, f store.RunFilter) ([]steward.Run, error)
	JobMark(ctx context.Context, name string) (time.Time, bool, error)
	SetJobMark(ctx context.Context, name string, t time.Time) error
	// The steps of workflow runs: AddWorkflowRun stores a run with what
	// it was started with (params) and its steps, queued.
	AddWorkflowRun(ctx context.Context, r *steward.Run, params []byte, steps []string) error
	RunParams(ctx context.Context, id int64) ([]byte, error)
	UpdateStep(ctx context.Context, id int64, st *steward.StepRun) error
	SetStepOutput(ctx context.Context, id int64, step string, out []byte, truncated bool) error
	Steps(ctx context.Context, id int64) ([]steward.StepRun, error)
	StepOutputs(ctx context.Context, id int64) ([]store.StepOutput, error)
}

// Alerter takes the conditions of jobs: the rule (RuleJobFailed or
// RuleDeadMan) holds for the job, or no longer does.
type Alerter interface {
	JobCondition(ctx context.Context, rule, job string, active bool, msg string)
}

// Options configure an Engine.
type Options struct {
	Store    Store
	Alerts   Alerter  // optional
	Services Services // for service actions; optional
	// Clock is the scheduler's time; nil is the system clock.
	Clock Clock
	// Act performs the actions; nil performs them for real (commands,
	// http requests, service actions).
	Act Actor
	// Report performs the report actions: report.RunJob over the daemon's
	// store and notifiers. Nil fails them.
	Report func(ctx context.Context, j *config.Job, r steward.Run) ([]byte, error)
	// Workbooks are for the workbook actions; nil fails them.
	Workbooks Workbooks
	// Tag prefixes the tags of the commands' process trees (proc.Command).
	Tag    string
	Logger *slog.Logger
	// Jitter returns a random delay in [0, d); nil uses math/rand.
	Jitter func(d time.Duration) time.Duration
	// Bus is for the publish steps and subject triggers of workflows;
	// Events for their event triggers. Both optional.
	Bus    Bus
	Events Events
}

// Engine runs the jobs of a configuration. It is safe for concurrent use.
type Engine struct {
	o      Options
	clock  Clock
	log    *slog.Logger
	act    Actor
	ctx    context.Context // ends with Close: cancels every run
	cancel context.CancelCauseFunc
	wake   chan struct{} // capacity 1: the plan changed
	wg     sync.WaitGroup

	mu     sync.Mutex
	jobs   map[string]*job
	order  []string         // the jobs' names in file order
	chains map[int64]*chain // by the ID of each run of a chain in flight
	closed bool
	// flows are the workflows in force, flowOrder their names in file
	// order; pending the workflow runs an earlier steward left in flight,
	// resumed by the first Apply.
	flows     map[string]*flow
	flowOrder []string
	pending   []steward.Run

	compiled compiled
}

// job is the scheduler's state of one job.
type job struct {
	cfg   *config.Job
	sched config.Schedule
	next  time.Time // the next scheduled time; zero for none
	due   time.Time // next plus its jitter
	// chains are this job's runs in flight.
	chains map[*chain]bool
	// lastOK is the time of the last success (or when the job was planned,
	// when it never succeeded), deadMan whether its alert is raised.
	lastOK  time.Time
	deadMan bool
}

// New returns an Engine that plans nothing until Apply; Run starts its
// scheduler.
func New(o Options) *Engine {
	e := &Engine{o: o, clock: o.Clock, log: o.Logger, act: o.Act, wake: make(chan struct{}, 1),
		jobs: map[string]*job{}, chains: map[int64]*chain{}, flows: map[string]*flow{}}
	if e.clock == nil {
		e.clock = clock.System{}
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.act == nil {
		a := &actions{services: o.Services, report: o.Report, publish: e.publishJob, workbook: e.workbook, http: &http.Client{}, tag: o.Tag}
		e.act = a.act
	}
	e.ctx, e.cancel = context.WithCancelCause(context.Background())
	return e
}

// Recover marks the job runs an earlier steward left queued or running
// as lost: steward stopped while they ran. The workflow runs it left are
// resumed by the first Apply.
func (e *Engine) Recover(ctx context.Context) error {
	open, err := e.o.Store.Runs(ctx, store.RunFilter{Open: true, Limit: 1 << 20})
	if err != nil {
		return fmt.Errorf("recover runs: %w", err)
	}
	now := e.clock.Now()
	for i := range open {
		r := &open[i]
		if r.Kind == steward.RunKindWorkflow {
			e.mu.Lock()
			e.pending = append(e.pending, *r)
			e.mu.Unlock()
			continue
		}
		r.Status, r.Ended, r.Error = steward.RunLost, now, "steward stopped while it ran"
		if err := e.o.Store.UpdateRun(ctx, r); err != nil {
			return fmt.Errorf("recover runs: %w", err)
		}
	}
	return nil
}

// Run is the scheduler: one goroutine waiting on one timer, for the next
// scheduled time or dead-man deadline of any job. It returns when ctx ends
// or the engine is closed.
func (e *Engine) Run(ctx context.Context) {
	for {
		wait := e.fire(ctx)
		var t Timer
		var c <-chan time.Time
		if wait >= 0 {
			t = e.clock.NewTimer(wait)
			c = t.C()
		}
		select {
		case <-ctx.Done():
		case <-e.ctx.Done():
		case <-e.wake:
		case <-c:
		}
		if t != nil {
			t.Stop()
		}
		if ctx.Err() != nil || e.ctx.Err() != nil {
			return
		}
	}
}

// poke wakes the scheduler to plan again.
func (e *Engine) poke() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// due is a scheduled time that came for a job.
type due struct {
	name      string
	scheduled time.Time
}

// fire starts the runs that are due, raises dead-man alerts that are due,
// and returns how long until the next of either; -1 for never.
func (e *Engine) fire(ctx context.Context) time.Duration {
	e.mu.Lock()
	now := e.clock.Now()
	var fired []due
	var silent []string
	var next time.Time
	soonest := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	flowStarts := e.fireFlows(now, soonest)
	for name, j := range e.jobs {
		if !j.due.IsZero() && !j.due.After(now) {
			fired = append(fired, due{name, j.next})
			j.plan(j.next, now, e.jitter)
		}
		soonest(j.due)
		if j.cfg.DeadMan > 0 && !j.deadMan {
			if at := j.lastOK.Add(j.cfg.DeadMan); !at.After(now) {
				j.deadMan = true
				silent = append(silent, name)
			} else {
				soonest(at)
			}
		}
	}
	e.mu.Unlock()
	for _, f := range fired {
		if _, err := e.start(ctx, f.name, steward.TriggerSchedule, []time.Time{f.scheduled}); err != nil {
			e.log.Warn("start a scheduled run", "job", f.name, "err", err)
		}
	}
	for _, name := range flowStarts {
		e.fireTrigger(name, steward.TriggerSchedule, nil)
	}
	for _, name := range silent {
		e.alert(RuleDeadMan, name, true, "no run succeeded within dead_man")
	}
	if next.IsZero() {
		return -1
	}
	return max(next.Sub(e.clock.Now()), 0)
}

// plan sets j's next scheduled time: the first after from, and after now
// (times the scheduler was too late for pass), with its jitter.
func (j *job) plan(from, now time.Time, jitter func(time.Duration) time.Duration) {
	next := j.sched.Next(from)
	if !next.IsZero() && !next.After(now) {
		next = j.sched.Next(now)
	}
	j.next, j.due = next, next
	if !next.IsZero() && j.cfg.Jitter > 0 {
		j.due = next.Add(jitter(j.cfg.Jitter))
	}
}

func (e *Engine) jitter(d time.Duration) time.Duration {
	if e.o.Jitter != nil {
		return e.o.Jitter(d)
	}
	return randDuration(d)
}

func (e *Engine) alert(rule, name string, active bool, msg string) {
	if e.o.Alerts != nil {
		e.o.Alerts.JobCondition(context.WithoutCancel(e.ctx), rule, name, active, msg)
	}
}

// Close cancels the runs in flight, waits for them to be stored as
// cancelled, and stops the scheduler. It is safe more than once.
func (e *Engine) Close() {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	e.cancel(errStopped)
	e.wg.Wait()
}

var errClosed = steward.Errorf(steward.EUNAVAILABLE, "the run engine is stopped")

// Apply makes cfg's jobs and workflows the ones in force. A job that is
// new to the engine is planned from the last scheduled time in the store:
// the times it missed while steward was down are caught up as its missed
// policy says. A changed job is planned again from now; runs in flight
// finish. The first Apply resumes the workflow runs an earlier steward
// left in flight (Recover).
func (e *Engine) Apply(ctx context.Context, cfg *config.Config) error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return errClosed
	}
	now := e.clock.Now()
	errJobs := e.applyJobs(ctx, cfg, now)
	watches, errFlows := e.applyFlows(cfg, now)
	pending := e.pending
	e.pending = nil
	e.mu.Unlock()
	seeds := e.resume(ctx, pending)
	e.mu.Lock()
	if !e.closed {
		for _, w := range watches {
			e.watch(w.ctx, w.cfg.Name, w.cfg, seeds[w.cfg.Name])
		}
	}
	e.mu.Unlock()
	e.poke()
	return errors.Join(errJobs, errFlows)
}

// applyJobs makes cfg's jobs the jobs in force; e.mu is held.
func (e *Engine) applyJobs(ctx context.Context, cfg *config.Config, now time.Time) error {
	var catchUp []due
	for name, j := range e.jobs {
		if _, ok := cfg.Jobs[name]; !ok {
			delete(e.jobs, name)
			e.alert(RuleJobFailed, name, false, "the job is removed")
			if j.deadMan {
				e.alert(RuleDeadMan, name, false, "the job is removed")
			}
		}
	}
	var errs []error
	for _, name := range cfg.JobOrder {
		c := cfg.Jobs[name]
		sched, err := config.ParseSchedule(c.Schedule, c.Timezone)
		if c.Schedule == "" {
			sched, err = config.Schedule{}, nil
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("job %s: %w", name, err))
			continue
		}
		if old := e.jobs[name]; old != nil {
			if !reflect.DeepEqual(old.cfg, c) {
				old.cfg, old.sched = c, sched
				old.plan(now, now, e.jitter)
			}
			continue
		}
		j := &job{cfg: c, sched: sched, chains: map[*chain]bool{}, lastOK: now}
		e.resumeJob(ctx, j)
		missed, err := e.missed(ctx, j, now)
		if err != nil {
			errs = append(errs, err)
		}
		for _, t := range missed {
			catchUp = append(catchUp, due{name, t})
		}
		j.plan(now, now, e.jitter)
		e.jobs[name] = j
	}
	e.order = cfg.JobOrder
	if len(catchUp) > 0 {
		e.wg.Go(func() { e.catchUp(catchUp) })
	}
	return errors.Join(errs...)
}

// resumeJob takes up what the store says of j from an earlier steward: the
// time of its last success, for its dead man, and whether its last run
// failed, which keeps its failure alert open until a success.
func (e *Engine) resumeJob(ctx context.Context, j *job) {
	name := j.cfg.Name
	if ok, err := e.o.Store.Runs(ctx, store.RunFilter{Name: name, Status: steward.RunSucceeded, Limit: 1}); err == nil && len(ok) > 0 {
		j.lastOK = ok[0].Ended
	}
	last, err := e.o.Store.Runs(ctx, store.RunFilter{Name: name, Limit: 1})
	if err == nil && len(last) > 0 && (last[0].Status == steward.RunFailed || last[0].Status == steward.RunTimedOut) {
		r := last[0]
		e.alert(RuleJobFailed, name, true, fmt.Sprintf("run %d %s after %d attempts: %s", r.ID, r.Status, r.Attempt, r.Error))
	}
}

// missed returns the scheduled times j missed, by its missed policy, and
// stores now as its last scheduled time.
func (e *Engine) missed(ctx context.Context, j *job, now time.Time) ([]time.Time, error) {
	if j.cfg.Schedule == "" {
		return nil, nil
	}
	name := j.cfg.Name
	mark, ok, err := e.o.Store.JobMark(ctx, name)
	if err != nil {
		return nil, err
	}
	var times []time.Time
	if ok && j.cfg.Missed != config.MissedSkip {
		for t := j.sched.Next(mark); !t.IsZero() && !t.After(now); t = j.sched.Next(t) {
			if j.cfg.Deadline > 0 && now.Sub(t) > j.cfg.Deadline {
				continue
			}
			times = append(times, t)
			if len(times) > maxCatchUp {
				times = times[1:]
			}
		}
		if j.cfg.Missed == config.MissedOnce && len(times) > 1 {
			times = times[len(times)-1:]
		}
	}
	if err := e.o.Store.SetJobMark(ctx, name, now); err != nil {
		return nil, err
	}
	return times, nil
}

// catchUp starts the catch-up runs of the jobs that missed scheduled times,
// those of one job one after another.
func (e *Engine) catchUp(list []due) {
	byJob := map[string][]time.Time{}
	var order []string
	for _, d := range list {
		if byJob[d.name] == nil {
			order = append(order, d.name)
		}
		byJob[d.name] = append(byJob[d.name], d.scheduled)
	}
	for _, name := range order {
		if _, err := e.start(e.ctx, name, steward.TriggerCatchUp, byJob[name]); err != nil && e.ctx.Err() == nil {
			e.log.Warn("start a catch-up run", "job", name, "err", err)
		}
	}
}
