package run

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/backoff"
	"github.com/stewardhq/steward/internal/config"
)

// errTimedOut ends a workflow run that took longer than its timeout.
var errTimedOut = errors.New("timed out")

// flowRun is one run of a workflow in flight. Its goroutine (execute)
// owns run and steps; each step's goroutine has a copy of its step.
type flowRun struct {
	e      *Engine
	f      *flow
	cfg    *config.Workflow
	run    steward.Run
	params params
	steps  map[string]*steward.StepRun
	ch     *chain
}

// stepDone is how a step's goroutine ended: the step as it ended, or, for
// a steward that stops, as it was last stored (stopped).
type stepDone struct {
	st      steward.StepRun
	stopped bool
}

// execute runs the steps whose needs have ended, each in its own
// goroutine, until none is left to run, and stores how the run ended.
func (fr *flowRun) execute() {
	e := fr.e
	ctx := fr.ch.ctx
	if fr.run.Status == steward.RunQueued {
		fr.run.Status, fr.run.Started = steward.RunRunning, e.clock.Now()
		if !fr.store(&fr.run) {
			return
		}
	}
	if fr.cfg.Timeout > 0 {
		var stop func()
		ctx, stop = afterClock(ctx, e.clock, fr.run.Started.Add(fr.cfg.Timeout).Sub(e.clock.Now()), errTimedOut)
		defer stop()
	}
	done := make(chan stepDone)
	dispatched := map[string]bool{}
	running, stopped := 0, false
	for {
		for progress := true; progress && ctx.Err() == nil; {
			progress = false
			for _, name := range fr.cfg.StepOrder {
				st := fr.steps[name]
				if dispatched[name] || st.Status.Done() {
					continue
				}
				ok, runIt, why := fr.decide(name)
				if !ok {
					continue
				}
				progress, dispatched[name] = true, true
				if !runIt {
					st.Status, st.Ended, st.Error = steward.RunSkipped, e.clock.Now(), why
					fr.storeStep(st)
					continue
				}
				data, copyOf := fr.data(), *st
				running++
				go func() { done <- fr.step(ctx, copyOf, data) }()
			}
		}
		if running == 0 {
			break
		}
		d := <-done
		running--
		*fr.steps[d.st.Name] = d.st
		stopped = stopped || d.stopped
	}
	if stopped || errors.Is(context.Cause(fr.ch.ctx), errStopped) {
		return // left as it is stored, to resume once steward runs again
	}
	fr.end(ctx)
}

// end stores the end of the run: the steps left queued are cancelled,
// and the run's status follows from its steps.
func (fr *flowRun) end(ctx context.Context) {
	e := fr.e
	now := e.clock.Now()
	cause := context.Cause(ctx)
	var failed []string
	for _, name := range fr.cfg.StepOrder {
		st := fr.steps[name]
		if !st.Status.Done() {
			st.Status, st.Ended, st.Error = steward.RunCancelled, now, "not started: "+causeText(cause)
			fr.storeStep(st)
		}
		switch st.Status {
		case steward.RunFailed, steward.RunTimedOut, steward.RunLost:
			failed = append(failed, name)
		}
	}
	r := &fr.run
	r.Ended = now
	switch {
	case errors.Is(cause, errTimedOut):
		r.Status, r.Error = steward.RunTimedOut, fmt.Sprintf("timed out after %s: its steps were cancelled", fr.cfg.Timeout)
	case cause != nil:
		r.Status, r.Error = steward.RunCancelled, cause.Error()
	case len(failed) > 0:
		r.Status, r.Error = steward.RunFailed, "steps "+strings.Join(failed, ", ")+" did not succeed"
		if len(failed) == 1 {
			r.Error = "step " + failed[0] + " did not succeed"
		}
	default:
		r.Status = steward.RunSucceeded
	}
	fr.store(r)
}

func causeText(err error) string {
	if err == nil {
		return "the run ended"
	}
	return err.Error()
}

// decide says whether step name can be decided (every step it needs has
// ended), and whether it runs: by its condition, or without one when
// every step it needs succeeded; why says why not.
func (fr *flowRun) decide(name string) (ready, run bool, why string) {
	s := fr.cfg.Steps[name]
	var notOK []string
	for _, n := range s.Needs {
		st := fr.steps[n]
		if !st.Status.Done() {
			return false, false, ""
		}
		if st.Status != steward.RunSucceeded {
			notOK = append(notOK, n+" "+string(st.Status))
		}
	}
	if s.If == "" {
		if len(notOK) > 0 {
			return true, false, "needs did not succeed: " + strings.Join(notOK, ", ")
		}
		return true, true, ""
	}
	ok, err := fr.e.condition(s.If, fr.data())
	if err != nil {
		return true, false, "if: " + err.Error()
	}
	if !ok {
		return true, false, "if is false: " + s.If
	}
	return true, true, ""
}

// data is what the conditions and templates of the run see now.
func (fr *flowRun) data() map[string]any {
	steps := make(map[string]any, len(fr.steps))
	for name, st := range fr.steps {
		m := map[string]any{"status": string(st.Status), "attempt": st.Attempt, "error": st.Error}
		outs := st.Outputs
		if outs == nil {
			outs = map[string]any{}
		}
		m["outputs"] = outs
		if st.ExitCode != nil {
			m["exit_code"] = *st.ExitCode
		} else {
			m["exit_code"] = nil
		}
		steps[name] = m
	}
	inputs := make(map[string]any, len(fr.params.Inputs))
	for k, v := range fr.params.Inputs {
		inputs[k] = v
	}
	return map[string]any{
		"steps":   steps,
		"trigger": fr.params.Trigger,
		"inputs":  inputs,
		"run":     map[string]any{"id": fr.run.ID, "workflow": fr.run.Name},
	}
}

// step runs step st (its attempt, and the retries its policy allows) and
// returns how it ended. Each attempt is stored as running before its side
// effect; a step resumed after steward died keeps its attempt, and so its
// idempotency key.
func (fr *flowRun) step(ctx context.Context, st steward.StepRun, data map[string]any) stepDone {
	e := fr.e
	s := fr.cfg.Steps[st.Name]
	if st.Status != steward.RunRunning {
		st.Attempt++ // else steward died in that attempt: it runs again, with its key
	}
	for {
		st.Status, st.Started, st.Ended, st.Error, st.ExitCode, st.Outputs = steward.RunRunning, e.clock.Now(),
			time.Time{}, "", nil, nil
		if err := ctx.Err(); err != nil {
			st.Status, st.Ended, st.Error = steward.RunCancelled, st.Started, context.Cause(ctx).Error()
			return fr.stepEnded(ctx, st)
		}
		if !fr.storeStep(&st) {
			st.Status, st.Ended, st.Error = steward.RunFailed, e.clock.Now(), "could not store the step's start"
			return stepDone{st: st}
		}
		fr.attempt(ctx, s, &st, data)
		if errors.Is(context.Cause(ctx), errStopped) {
			return stepDone{st: st, stopped: true}
		}
		if st.Status != steward.RunFailed && st.Status != steward.RunTimedOut || st.Attempt > s.Retries.Max {
			return fr.stepEnded(ctx, st)
		}
		// Queued again, its attempts so far counted: a steward that dies
		// now resumes it with the next attempt.
		p := backoff.Policy{Min: s.Retries.Backoff, Max: s.Retries.Backoff << min(s.Retries.Max, 16)}
		t := e.clock.NewTimer(p.Delay(st.Attempt))
		failed := st
		st.Status = steward.RunQueued
		fr.storeStep(&st)
		select {
		case <-t.C():
		case <-ctx.Done():
			t.Stop()
			if errors.Is(context.Cause(ctx), errStopped) {
				return stepDone{st: st, stopped: true}
			}
			return fr.stepEnded(ctx, failed)
		}
		st.Attempt++
	}
}

func (fr *flowRun) stepEnded(_ context.Context, st steward.StepRun) stepDone {
	fr.storeStep(&st)
	return stepDone{st: st}
}

// attempt performs step s once, within its timeout, and sets how it ended
// in st.
func (fr *flowRun) attempt(ctx context.Context, s *config.Step, st *steward.StepRun, data map[string]any) {
	e := fr.e
	actx, stop := ctx, func() {}
	if s.Timeout > 0 {
		actx, stop = afterClock(ctx, e.clock, s.Timeout, context.DeadlineExceeded)
	}
	out := fr.act(actx, s, st, data)
	stop()
	st.Ended, st.ExitCode = e.clock.Now(), out.ExitCode
	if out.Err == nil && s.Outputs != "" {
		st.Outputs, out.Err = parseOutputs(s.Outputs, out.Output)
	}
	switch {
	case out.Err == nil:
		st.Status = steward.RunSucceeded
	case ctx.Err() != nil:
		st.Status, st.Error = steward.RunCancelled, context.Cause(ctx).Error()
		if errors.Is(context.Cause(ctx), errTimedOut) {
			st.Status, st.Error = steward.RunTimedOut, "the workflow timed out"
		}
	case errors.Is(context.Cause(actx), context.DeadlineExceeded):
		st.Status, st.Error = steward.RunTimedOut, fmt.Sprintf("timed out after %s: its process tree was killed", s.Timeout)
	default:
		st.Status, st.Error = steward.RunFailed, out.Err.Error()
	}
	if len(out.Output) > 0 && !errors.Is(context.Cause(ctx), errStopped) {
		sctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		defer cancel()
		if err := e.o.Store.SetStepOutput(sctx, fr.run.ID, st.Name, out.Output, out.Truncated); err != nil {
			e.log.Warn("store the output of a step", "workflow", fr.run.Name, "run", fr.run.ID, "step", st.Name, "err", err)
		}
	}
}

// publishJob publishes the message of j's publish action for run r, its
// templates filled with the job's name and the run's id.
func (e *Engine) publishJob(ctx context.Context, j *config.Job, r steward.Run) error {
	data := map[string]any{"job": j.Name, "run": map[string]any{"id": r.ID, "attempt": r.Attempt}}
	subject, err := e.fill(j.Publish.Subject, data)
	if err != nil {
		return err
	}
	msg, err := e.fill(j.Publish.Data, data)
	if err != nil {
		return err
	}
	return e.publish(ctx, subject, msg)
}

// publish publishes data on subject of the bus.
func (e *Engine) publish(ctx context.Context, subject, data string) error {
	if e.o.Bus == nil {
		return errors.New("publish: no bus")
	}
	if err := e.o.Bus.Publish(ctx, subject, []byte(data)); err != nil {
		return fmt.Errorf("publish on %s: %w", subject, err)
	}
	return nil
}

// act performs step s with its templates filled from data.
func (fr *flowRun) act(ctx context.Context, s *config.Step, st *steward.StepRun, data map[string]any) Outcome {
	a, err := fr.e.render(fr.run.Name, s, data)
	if err != nil {
		return Outcome{Err: err}
	}
	if s.Publish != nil {
		return Outcome{Err: fr.e.publish(ctx, a.publish.Subject, a.publish.Data)}
	}
	if a.job.Command != nil {
		env := make(map[string]string, len(a.job.Command.Env)+2)
		for k, v := range a.job.Command.Env {
			env[k] = v
		}
		env["STEWARD_WORKFLOW"], env["STEWARD_STEP_ID"] = fr.run.Name, st.Name
		a.job.Command.Env = env
	}
	return fr.e.act(ctx, a.job, steward.Run{ID: fr.run.ID, Kind: steward.RunKindWorkflow, Name: fr.run.Name,
		Attempt: st.Attempt, Trigger: fr.run.Trigger})
}

// store stores r, the run's state; false when it could not be.
func (fr *flowRun) store(r *steward.Run) bool {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	if err := fr.e.o.Store.UpdateRun(ctx, r); err != nil {
		fr.e.log.Error("store a run", "workflow", r.Name, "run", r.ID, "err", err)
		return false
	}
	fr.e.mu.Lock()
	fr.ch.last = *r
	fr.e.mu.Unlock()
	return true
}

func (fr *flowRun) storeStep(st *steward.StepRun) bool {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	if err := fr.e.o.Store.UpdateStep(ctx, fr.run.ID, st); err != nil {
		fr.e.log.Error("store a step", "workflow", fr.run.Name, "run", fr.run.ID, "step", st.Name, "err", err)
		return false
	}
	return true
}

// afterClock returns a context that ends with cause once d has passed on
// clock c, or when ctx ends; stop releases its timer.
func afterClock(ctx context.Context, c Clock, d time.Duration, cause error) (context.Context, func()) {
	cctx, cancel := context.WithCancelCause(ctx)
	t := c.NewTimer(max(d, 0))
	quit := make(chan struct{})
	go func() {
		select {
		case <-t.C():
			cancel(cause)
		case <-quit:
		case <-cctx.Done():
		}
	}()
	return cctx, func() {
		t.Stop()
		close(quit)
		cancel(context.Canceled)
	}
}
