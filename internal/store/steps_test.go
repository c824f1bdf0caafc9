package store

import (
	"context"
	"testing"
	"time"

	"github.com/stewardhq/steward"
)

func TestWorkflowSteps(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	r := steward.Run{Kind: steward.RunKindWorkflow, Name: "w", Status: steward.RunQueued, Trigger: steward.TriggerManual, Created: at, Attempt: 1}
	if err := s.AddWorkflowRun(ctx, &r, []byte(`{"trigger":{"type":"manual"}}`), []string{"b", "a"}); err != nil {
		t.Fatal(err)
	}
	if p, err := s.RunParams(ctx, r.ID); err != nil || string(p) != `{"trigger":{"type":"manual"}}` {
		t.Errorf("RunParams = %s, %v", p, err)
	}
	if _, err := s.RunParams(ctx, 99); steward.ErrorCode(err) != steward.ENOTFOUND {
		t.Errorf("RunParams of run 99: %v, want not found", err)
	}
	code := 3
	b := steward.StepRun{Name: "b", Status: steward.RunFailed, Attempt: 2, Started: at, Ended: at.Add(time.Second),
		ExitCode: &code, Error: "exit status 3", Outputs: map[string]any{"n": 1.0}}
	if err := s.UpdateStep(ctx, r.ID, &b); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateStep(ctx, r.ID, &steward.StepRun{Name: "nope"}); steward.ErrorCode(err) != steward.ENOTFOUND {
		t.Errorf("UpdateStep of an unknown step: %v, want not found", err)
	}
	if err := s.UpdateStep(ctx, r.ID, &steward.StepRun{Name: "a", Outputs: map[string]any{"f": func() {}}}); err == nil {
		t.Error("UpdateStep with outputs that are not JSON: no error")
	}
	if err := s.SetStepOutput(ctx, r.ID, "b", []byte("oops\n"), true); err != nil {
		t.Fatal(err)
	}
	steps, err := s.Steps(ctx, r.ID)
	if err != nil || len(steps) != 2 {
		t.Fatalf("Steps = %v, %v", steps, err)
	}
	got := steps[0]
	if got.Name != "b" || got.Status != steward.RunFailed || got.Attempt != 2 || !got.Started.Equal(at) ||
		!got.Ended.Equal(at.Add(time.Second)) || got.ExitCode == nil || *got.ExitCode != 3 || got.Error != "exit status 3" || got.Outputs["n"] != 1.0 {
		t.Errorf("step b = %+v", got)
	}
	if a := steps[1]; a.Name != "a" || a.Status != steward.RunQueued || a.Attempt != 0 || !a.Started.IsZero() || a.ExitCode != nil || a.Outputs != nil {
		t.Errorf("step a = %+v, want queued as added", a)
	}
	outs, err := s.StepOutputs(ctx, r.ID)
	if err != nil || len(outs) != 1 || outs[0].Name != "b" || string(outs[0].Output) != "oops\n" || !outs[0].Truncated {
		t.Errorf("StepOutputs = %+v, %v", outs, err)
	}
}

func TestPruneRunsKeep(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var ids []int64
	for i := range 5 {
		r := steward.Run{Kind: steward.RunKindWorkflow, Name: "w", Status: steward.RunSucceeded, Trigger: steward.TriggerManual,
			Created: at, Ended: at.Add(time.Duration(i) * time.Minute), Attempt: 1}
		if err := s.AddWorkflowRun(ctx, &r, []byte(`{}`), []string{"a"}); err != nil {
			t.Fatal(err)
		}
		if err := s.UpdateRun(ctx, &r); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	j := steward.Run{Kind: steward.RunKindJob, Name: "j", Status: steward.RunFailed, Trigger: steward.TriggerManual, Created: at, Ended: at, Attempt: 1}
	if err := s.AddRun(ctx, &j, false); err != nil {
		t.Fatal(err)
	}
	// Nothing is old enough: keep 2 per name still deletes w's three
	// oldest, but never j's only run.
	n, err := s.PruneRuns(ctx, at.Add(-time.Hour), 2)
	if err != nil || n != 3 {
		t.Fatalf("PruneRuns = %d, %v; want 3", n, err)
	}
	list, _ := s.Runs(ctx, RunFilter{})
	if len(list) != 3 || list[0].ID != j.ID || list[1].ID != ids[4] || list[2].ID != ids[3] {
		t.Errorf("after pruning: %v, want runs %d, %d, %d", list, j.ID, ids[4], ids[3])
	}
	// The steps and parameters of a pruned run go with it.
	if steps, err := s.Steps(ctx, ids[0]); err != nil || len(steps) != 0 {
		t.Errorf("steps of a pruned run: %v, %v", steps, err)
	}
	if _, err := s.RunParams(ctx, ids[0]); steward.ErrorCode(err) != steward.ENOTFOUND {
		t.Errorf("params of a pruned run: %v, want not found", err)
	}
	if steps, err := s.Steps(ctx, ids[4]); err != nil || len(steps) != 1 {
		t.Errorf("steps of a kept run: %v, %v", steps, err)
	}
	// keep 0 is taken as 1: each name's newest run stays.
	if n, err := s.PruneRuns(ctx, at.Add(time.Hour), 0); err != nil || n != 1 {
		t.Errorf("PruneRuns(keep 0) = %d, %v; want 1", n, err)
	}
}
