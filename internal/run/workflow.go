package run

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
)

// flow is the engine's state of one workflow.
type flow struct {
	cfg *config.Workflow
	// scheds are its schedule triggers, next their next times (zero for
	// none), in the order of cfg.On's schedule items.
	scheds []config.Schedule
	next   []time.Time
	// chains are its runs in flight.
	chains map[*chain]bool
	// stop ends its watchers (file, subject and event triggers).
	stop context.CancelFunc
}

// params are what a workflow run was started with, stored with it so
// that a steward that died resumes it as it was.
type params struct {
	Trigger map[string]any    `json:"trigger"`
	Inputs  map[string]string `json:"inputs,omitempty"`
}

// watchReq asks for the watchers of a workflow's triggers.
type watchReq struct {
	ctx context.Context
	cfg *config.Workflow
}

// applyFlows makes cfg's workflows the workflows in force and returns the
// workflows whose triggers start watching; e.mu is held. A changed
// workflow's triggers start again; its runs in flight finish as they
// began.
func (e *Engine) applyFlows(cfg *config.Config, now time.Time) ([]watchReq, error) {
	for name, f := range e.flows {
		if nw, ok := cfg.Workflows[name]; !ok || !reflect.DeepEqual(nw.On, f.cfg.On) {
			f.stop()
			if !ok {
				delete(e.flows, name)
			}
		}
	}
	var errs []error
	var watches []watchReq
	for _, name := range cfg.WorkflowOrder {
		w := cfg.Workflows[name]
		old := e.flows[name]
		if old != nil && reflect.DeepEqual(old.cfg, w) {
			continue
		}
		f := &flow{cfg: w, chains: map[*chain]bool{}}
		if old != nil {
			f.chains = old.chains
			if reflect.DeepEqual(old.cfg.On, w.On) {
				f.scheds, f.next, f.stop, f.cfg = old.scheds, old.next, old.stop, w
				e.flows[name] = f
				continue
			}
		}
		for _, t := range w.On {
			if t.Schedule == "" {
				continue
			}
			s, err := config.ParseSchedule(t.Schedule, t.Timezone)
			if err != nil {
				errs = append(errs, fmt.Errorf("workflow %s: %w", name, err))
				continue
			}
			f.scheds = append(f.scheds, s)
			f.next = append(f.next, s.Next(now))
		}
		wctx, stop := context.WithCancel(e.ctx)
		f.stop = stop
		e.flows[name] = f
		watches = append(watches, watchReq{wctx, w})
	}
	e.flowOrder = cfg.WorkflowOrder
	return watches, errors.Join(errs...)
}

// fireFlows starts the runs of the workflows' schedule triggers that are
// due and returns the soonest next time of any; e.mu is held, and the
// runs start once it is not, through starts.
func (e *Engine) fireFlows(now time.Time, soonest func(time.Time)) (starts []string) {
	for name, f := range e.flows {
		for i, s := range f.scheds {
			if !f.next[i].IsZero() && !f.next[i].After(now) {
				starts = append(starts, name)
				f.next[i] = s.Next(now)
			}
			soonest(f.next[i])
		}
	}
	return starts
}

// StartWorkflow starts a run of workflow name, for trigger (one of the
// Trigger constants) with what it tells, and inputs, as its concurrency
// policy allows; it returns the run as stored: queued, or skipped.
func (e *Engine) StartWorkflow(ctx context.Context, name, trigger string, data map[string]any, inputs map[string]string) (steward.Run, error) {
	ctx = context.WithoutCancel(ctx)
	if data == nil {
		data = map[string]any{}
	}
	data["type"] = trigger
	p := params{Trigger: data, Inputs: inputs}
	b, err := json.Marshal(p)
	if err != nil {
		return steward.Run{}, steward.Errorf(steward.EINVALID, "workflow %s: the trigger's data: %v", name, err)
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return steward.Run{}, errClosed
	}
	f := e.flows[name]
	if f == nil {
		e.mu.Unlock()
		return steward.Run{}, steward.Errorf(steward.ENOTFOUND, "workflow %q not found", name)
	}
	cfg := f.cfg
	now := e.clock.Now()
	r := steward.Run{Kind: steward.RunKindWorkflow, Name: name, Status: steward.RunQueued, Trigger: trigger,
		Created: now, Attempt: 1}
	busy := len(f.chains) > 0
	if busy && cfg.Concurrency == config.ConcurrencyForbid {
		e.mu.Unlock()
		r.Status, r.Ended = steward.RunSkipped, now
		r.Error = "an earlier run is still running (concurrency: forbid)"
		err := e.o.Store.AddRun(ctx, &r, false)
		return r, err
	}
	var replaced []*chain
	if busy && cfg.Concurrency == config.ConcurrencyReplace {
		for c := range f.chains {
			replaced = append(replaced, c)
		}
	}
	ch := e.newChain(f, name)
	e.mu.Unlock()
	if err := e.o.Store.AddWorkflowRun(ctx, &r, b, cfg.StepOrder); err != nil {
		e.dropChain(f, ch)
		return r, err
	}
	for _, c := range replaced { // only once the new run is stored, as for jobs
		c.cancel(errReplaced)
	}
	steps := make(map[string]*steward.StepRun, len(cfg.StepOrder))
	for _, s := range cfg.StepOrder {
		steps[s] = &steward.StepRun{Name: s, Status: steward.RunQueued}
	}
	e.goFlow(&flowRun{e: e, f: f, cfg: cfg, run: r, params: p, steps: steps, ch: ch})
	return r, nil
}

// newChain adds a chain for a run of f; e.mu is held.
func (e *Engine) newChain(f *flow, name string) *chain {
	ch := &chain{job: name, done: make(chan struct{})}
	ch.ctx, ch.cancel = context.WithCancelCause(e.ctx)
	f.chains[ch] = true
	e.wg.Add(1)
	return ch
}

// dropChain forgets ch, whose run could not be stored.
func (e *Engine) dropChain(f *flow, ch *chain) {
	e.mu.Lock()
	delete(f.chains, ch)
	e.mu.Unlock()
	ch.cancel(errCancelled)
	close(ch.done)
	e.wg.Done()
}

// goFlow registers fr's run with its chain and runs it.
func (e *Engine) goFlow(fr *flowRun) {
	e.mu.Lock()
	fr.ch.ids, fr.ch.last = []int64{fr.run.ID}, fr.run
	e.chains[fr.run.ID] = fr.ch
	e.mu.Unlock()
	go func() {
		defer e.wg.Done()
		defer func() {
			e.mu.Lock()
			delete(fr.f.chains, fr.ch)
			delete(e.chains, fr.run.ID)
			fr.ch.last = fr.run
			e.mu.Unlock()
			fr.ch.cancel(errCancelled)
			close(fr.ch.done)
		}()
		fr.execute()
	}()
}

// Workflows returns the workflows in force, in file order, each with its
// last run.
func (e *Engine) Workflows(ctx context.Context) ([]steward.Workflow, error) {
	e.mu.Lock()
	out := make([]steward.Workflow, 0, len(e.flowOrder))
	for _, name := range e.flowOrder {
		f := e.flows[name]
		if f == nil {
			continue
		}
		out = append(out, describe(f))
	}
	e.mu.Unlock()
	for i := range out {
		if err := e.lastRun(ctx, out[i].Name, &out[i].Last); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func describe(f *flow) steward.Workflow {
	c := f.cfg
	w := steward.Workflow{Name: c.Name, Triggers: []string{}, Concurrency: c.Concurrency}
	if c.Timeout > 0 {
		w.Timeout = c.Timeout.String()
	}
	for _, t := range c.On {
		switch {
		case t.Schedule != "":
			s := "schedule " + t.Schedule
			if t.Timezone != "" {
				s += " (" + t.Timezone + ")"
			}
			w.Triggers = append(w.Triggers, s)
		case t.Subject != "":
			w.Triggers = append(w.Triggers, "subject "+t.Subject)
		case t.File != nil:
			w.Triggers = append(w.Triggers, fmt.Sprintf("file %s (settle %s)", t.File.Glob, t.File.Settle))
		case t.Event != nil && t.Event.Alert != "":
			w.Triggers = append(w.Triggers, "event alert "+t.Event.Alert)
		case t.Event != nil:
			w.Triggers = append(w.Triggers, "event service "+t.Event.Service+" "+t.Event.State)
		}
	}
	for _, n := range f.next {
		if !n.IsZero() && (w.Next.IsZero() || n.Before(w.Next)) {
			w.Next = n
		}
	}
	for _, name := range c.StepOrder {
		s := c.Steps[name]
		w.Steps = append(w.Steps, steward.WorkflowStep{Name: name, Action: s.Action(), Needs: s.Needs, If: s.If})
	}
	return w
}
