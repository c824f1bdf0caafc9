package run

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
)

// resume takes up the workflow runs an earlier steward left in flight:
// the steps that ended stay as they are, a step that was running runs
// again with the same attempt (its idempotency key), or is lost when its
// rerun policy is never. A run whose workflow is gone or whose steps
// changed is lost. It returns, by workflow, the files the resumed runs
// were started for.
func (e *Engine) resume(ctx context.Context, pending []steward.Run) map[string]map[string]bool {
	seeds := map[string]map[string]bool{}
	for _, r := range pending {
		fr, why := e.resumable(ctx, r)
		if fr == nil {
			r.Status, r.Ended, r.Error = steward.RunLost, e.clock.Now(), "steward stopped while it ran; "+why
			if err := e.o.Store.UpdateRun(ctx, &r); err != nil {
				e.log.Error("store a run", "workflow", r.Name, "run", r.ID, "err", err)
			}
			continue
		}
		if file, ok := fr.params.Trigger["file"].(string); ok {
			if seeds[r.Name] == nil {
				seeds[r.Name] = map[string]bool{}
			}
			seeds[r.Name][file] = true
		}
		e.mu.Lock()
		if e.closed {
			e.mu.Unlock()
			return seeds
		}
		fr.ch = e.newChain(fr.f, r.Name)
		e.mu.Unlock()
		e.log.Info("resume a workflow run", "workflow", r.Name, "run", r.ID)
		e.goFlow(fr)
	}
	return seeds
}

// resumable returns the run r to resume, or nil and why not.
func (e *Engine) resumable(ctx context.Context, r steward.Run) (*flowRun, string) {
	e.mu.Lock()
	f := e.flows[r.Name]
	e.mu.Unlock()
	if f == nil {
		return nil, "its workflow is no longer in the configuration"
	}
	b, err := e.o.Store.RunParams(ctx, r.ID)
	if err != nil {
		return nil, fmt.Sprintf("its parameters: %v", err)
	}
	var p params
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Sprintf("its parameters: %v", err)
	}
	list, err := e.o.Store.Steps(ctx, r.ID)
	if err != nil {
		return nil, fmt.Sprintf("its steps: %v", err)
	}
	cfg := f.cfg
	names := make([]string, len(list))
	steps := make(map[string]*steward.StepRun, len(list))
	for i := range list {
		names[i], steps[list[i].Name] = list[i].Name, &list[i]
	}
	if !slices.Equal(names, cfg.StepOrder) {
		return nil, "the workflow's steps changed"
	}
	for _, st := range steps {
		if st.Status == steward.RunRunning && cfg.Steps[st.Name].Rerun == config.RerunNever {
			st.Status, st.Ended = steward.RunLost, e.clock.Now()
			st.Error = "steward stopped while it ran, and its rerun policy is never"
			if err := e.o.Store.UpdateStep(ctx, r.ID, st); err != nil {
				return nil, fmt.Sprintf("its steps: %v", err)
			}
		}
	}
	return &flowRun{e: e, f: f, cfg: cfg, run: r, params: p, steps: steps}, ""
}
