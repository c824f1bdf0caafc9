package run

import (
	"context"
	"strings"
	"testing"

	"github.com/stewardhq/steward"
)

// storeInFlight stores a run of workflow name as a steward that died would
// have left it: the steps of done ended as they say, those of running in
// their attempt, the rest queued.
func (h *wfHarness) storeInFlight(name string, steps []string, done map[string]steward.RunStatus, running map[string]int) int64 {
	h.t.Helper()
	ctx := context.Background()
	r := steward.Run{Kind: steward.RunKindWorkflow, Name: name, Status: steward.RunQueued, Trigger: steward.TriggerManual,
		Created: h.clock.Now(), Attempt: 1}
	if err := h.store.AddWorkflowRun(ctx, &r, []byte(`{"trigger":{"type":"manual","file":"/in/x.csv"}}`), steps); err != nil {
		h.t.Fatal(err)
	}
	r.Status, r.Started = steward.RunRunning, h.clock.Now()
	if err := h.store.UpdateRun(ctx, &r); err != nil {
		h.t.Fatal(err)
	}
	for name, status := range done {
		st := steward.StepRun{Name: name, Status: status, Attempt: 1, Started: h.clock.Now(), Ended: h.clock.Now()}
		if err := h.store.UpdateStep(ctx, r.ID, &st); err != nil {
			h.t.Fatal(err)
		}
	}
	for name, attempt := range running {
		st := steward.StepRun{Name: name, Status: steward.RunRunning, Attempt: attempt, Started: h.clock.Now()}
		if err := h.store.UpdateStep(ctx, r.ID, &st); err != nil {
			h.t.Fatal(err)
		}
	}
	return r.ID
}

func TestWorkflowResume(t *testing.T) {
	h := newWF(t)
	h.stop() // the steward that died
	abc := []string{"a", "b", "c"}
	w := h.storeInFlight("w", abc, map[string]steward.RunStatus{"a": steward.RunSucceeded}, map[string]int{"b": 2})
	v := h.storeInFlight("v", abc, map[string]steward.RunStatus{"a": steward.RunSucceeded}, map[string]int{"b": 1})
	gone := h.storeInFlight("gone", abc, nil, nil)
	changed := h.storeInFlight("changed", []string{"a", "old"}, nil, nil)
	h.start()
	h.apply(`  w:
    on: [{file: {glob: "/in/*.csv", settle: 1s}}]
    steps:
      a: {command: a}
      b: {needs: [a], command: b, retries: {max: 3, backoff: 1s}}
      c: {needs: [b], command: c}
  v:
    steps:
      a: {command: a}
      b: {needs: [a], command: b, rerun: never}
      c: {needs: [b], command: c}
  changed:
    steps:
      a: {command: a}
      new: {command: new}
`)
	r := h.wait(w)
	if r.Status != steward.RunSucceeded || statuses(r) != "a=succeeded b=succeeded c=succeeded" {
		t.Errorf("w: %s (%s) %s, want succeeded", r.Status, r.Error, statuses(r))
	}
	if b := stepOf(r, "b"); b.Attempt != 2 {
		t.Errorf("w: b's attempt %d, want 2 (its key kept)", b.Attempt)
	}
	r = h.wait(v)
	if r.Status != steward.RunFailed || statuses(r) != "a=succeeded b=lost c=skipped" {
		t.Errorf("v: %s %s, want failed with b lost, c skipped", r.Status, statuses(r))
	}
	var calls []string
	for _, c := range h.actor.called() {
		calls = append(calls, c.name)
		if c.name == "w/b" && (c.attempt != 2 || c.run != w) {
			t.Errorf("w/b ran as attempt %d of run %d, want 2 of %d", c.attempt, c.run, w)
		}
	}
	if got := strings.Join(calls, " "); got != "w/b w/c" {
		t.Errorf("calls %q, want w/b w/c: a not repeated, v's b not rerun", got)
	}
	for id, why := range map[int64]string{gone: "no longer in the configuration", changed: "steps changed"} {
		r, err := h.store.Run(context.Background(), id)
		if err != nil || r.Status != steward.RunLost || !strings.Contains(r.Error, why) {
			t.Errorf("run %d: %s %q %v, want lost: %s", id, r.Status, r.Error, err, why)
		}
	}
}
