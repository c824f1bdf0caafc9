package run

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/testwait"
)

func TestWorkflowDAGOutputsAndTemplates(t *testing.T) {
	h := newWF(t)
	h.actor.set("w/a", output(`{"n": 3, "rows": [[1, 2]]}`))
	h.actor.set("w/b", output("x=1\ny = two\nnoise\n"))
	h.apply(`  w:
    steps:
      a: {command: "gen", outputs: json}
      b: {needs: [a], command: "use {{.steps.a.outputs.n}} {{json .steps.a.outputs.rows}} {{.inputs.who}} {{.run.id}}", outputs: lines}
      c: {needs: [a, b], command: "last {{.steps.b.outputs.y}}", env: {K: "{{.steps.b.outputs.x}}"}}
`)
	r := h.wait(h.run("w", map[string]string{"who": "me"}).ID)
	if r.Status != steward.RunSucceeded || statuses(r) != "a=succeeded b=succeeded c=succeeded" {
		t.Fatalf("run %s (%s): %s", r.Status, r.Error, statuses(r))
	}
	calls := h.actor.called()
	if got := h.actor.names(); !slices.Equal(got, []string{"w/a", "w/b", "w/c"}) {
		t.Fatalf("order %v, want a, b, c", got)
	}
	if got, want := calls[1].command, []string{"use", "3", "[[1,2]]", "me", strconv.FormatInt(r.ID, 10)}; !slices.Equal(got, want) {
		t.Errorf("b's command = %q, want %q", got, want)
	}
	if got := calls[2].command; !slices.Equal(got, []string{"last", "two"}) || calls[2].env["K"] != "1" {
		t.Errorf("c's command = %q env %v, want [last two] K=1", got, calls[2].env)
	}
	env := calls[0].env
	if env["STEWARD_WORKFLOW"] != "w" || env["STEWARD_STEP_ID"] != "a" || calls[0].attempt != 1 || calls[0].run != r.ID {
		t.Errorf("a's env %v attempt %d run %d", env, calls[0].attempt, calls[0].run)
	}
	if n := stepOf(r, "a").Outputs["n"]; n != 3.0 {
		t.Errorf("a's outputs.n = %v, want 3", n)
	}
}

func TestWorkflowFailureSkipsDependentsUnlessIf(t *testing.T) {
	h := newWF(t)
	h.actor.set("w/parse", fail)
	h.apply(`  w:
    steps:
      parse: {command: "parse"}
      load: {needs: [parse], command: "load"}
      tell: {needs: [load], publish: {subject: done}}
      park: {needs: [parse], if: 'steps.parse.status == "failed"', command: "park"}
      always: {needs: [load], if: 'true', command: "always"}
`)
	r := h.wait(h.run("w", nil).ID)
	want := "parse=failed load=skipped tell=skipped park=succeeded always=succeeded"
	if r.Status != steward.RunFailed || statuses(r) != want {
		t.Errorf("run %s: %s, want failed: %s", r.Status, statuses(r), want)
	}
	if r.Error != "step parse did not succeed" {
		t.Errorf("error %q", r.Error)
	}
	if e := stepOf(r, "load").Error; !strings.Contains(e, "parse failed") {
		t.Errorf("load's error %q, want it to name parse", e)
	}
	if len(h.bus.published) != 0 {
		t.Errorf("published %v after a skip", h.bus.published)
	}
}

func TestWorkflowConditionFalseAndBadTemplate(t *testing.T) {
	h := newWF(t)
	h.apply(`  w:
    steps:
      a: {command: "a"}
      b: {needs: [a], if: 'steps.a.status == "failed"', command: "b"}
      c: {needs: [a], command: "c {{.trigger.file}}"}
`)
	r := h.wait(h.run("w", nil).ID)
	if statuses(r) != "a=succeeded b=skipped c=failed" {
		t.Fatalf("%s", statuses(r))
	}
	if e := stepOf(r, "c").Error; !strings.Contains(e, "file") {
		t.Errorf("c's error %q, want the missing trigger.file", e)
	}
}

func TestWorkflowPublish(t *testing.T) {
	h := newWF(t)
	h.actor.set("w/a", output(`{"id": "o-1"}`))
	h.apply(`  w:
    steps:
      a: {command: "a", outputs: json}
      tell: {needs: [a], publish: {subject: "orders.{{.steps.a.outputs.id}}", data: "run {{.run.id}}"}}
`)
	r := h.wait(h.run("w", nil).ID)
	if r.Status != steward.RunSucceeded {
		t.Fatalf("%s %s", r.Status, statuses(r))
	}
	if want := "orders.o-1 run " + strconv.FormatInt(r.ID, 10); len(h.bus.published) != 1 || h.bus.published[0] != want {
		t.Errorf("published %q, want %q", h.bus.published, want)
	}
}

func TestWorkflowStepRetries(t *testing.T) {
	h := newWF(t)
	h.actor.set("w/a", func(_ context.Context, c call) Outcome {
		if c.attempt < 3 {
			return Outcome{Err: errors.New("flaky")}
		}
		return Outcome{}
	})
	h.apply(`  w:
    steps:
      a: {command: "a", retries: {max: 2, backoff: 10s}}
`)
	id := h.run("w", nil).ID
	waitCalls(t, h, id, 1)
	// Backoff: 10s, then 20s, each plus up to a quarter of jitter.
	h.clock.Advance(12500 * time.Millisecond)
	waitCalls(t, h, id, 2)
	h.clock.Advance(19 * time.Second)
	if n := len(h.actor.called()); n != 2 {
		t.Fatalf("%d calls before the second backoff (20s) passed, want 2", n)
	}
	h.clock.Advance(6 * time.Second)
	r := h.wait(id)
	if s := stepOf(r, "a"); s.Status != steward.RunSucceeded || s.Attempt != 3 {
		t.Errorf("a %s attempt %d, want succeeded on 3", s.Status, s.Attempt)
	}
}

// waitCalls waits until the actor was called n times for run id, and its
// step is waiting for a retry or done.
func waitCalls(t *testing.T, h *wfHarness, id int64, n int) {
	t.Helper()
	testwait.For(t, 10*time.Second, "calls", func() bool {
		r, err := h.e.Get(context.Background(), id)
		return err == nil && len(h.actor.called()) == n && (r.Steps[0].Status == steward.RunQueued || r.Steps[0].Status.Done()) &&
			r.Steps[0].Attempt == n
	})
}

func TestWorkflowStepTimeoutAndWorkflowTimeout(t *testing.T) {
	h := newWF(t)
	h.actor.set("w/slow", block)
	h.actor.set("v/slow", block)
	h.apply(`  w:
    steps:
      slow: {command: "slow", timeout: 5s}
      after: {needs: [slow], command: "after"}
  v:
    timeout: 1m
    steps:
      slow: {command: "slow"}
      after: {needs: [slow], command: "after"}
`)
	w := h.run("w", nil).ID
	v := h.run("v", nil).ID
	h.waitStep(w, "slow", steward.RunRunning)
	h.waitStep(v, "slow", steward.RunRunning)
	h.clock.Advance(5 * time.Second)
	r := h.wait(w)
	if s := stepOf(r, "slow"); s.Status != steward.RunTimedOut || r.Status != steward.RunFailed || stepOf(r, "after").Status != steward.RunSkipped {
		t.Errorf("w: %s %s", r.Status, statuses(r))
	}
	h.clock.Advance(55 * time.Second)
	r = h.wait(v)
	if r.Status != steward.RunTimedOut || statuses(r) != "slow=timed_out after=cancelled" {
		t.Errorf("v: %s (%s) %s, want timed_out with slow timed_out, after cancelled", r.Status, r.Error, statuses(r))
	}
}

func TestWorkflowCancel(t *testing.T) {
	h := newWF(t)
	h.actor.set("w/a", block)
	h.apply(`  w:
    steps:
      a: {command: "a"}
      b: {needs: [a], command: "b"}
`)
	id := h.run("w", nil).ID
	h.waitStep(id, "a", steward.RunRunning)
	if _, err := h.e.Cancel(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	r := h.wait(id)
	if r.Status != steward.RunCancelled || statuses(r) != "a=cancelled b=cancelled" {
		t.Errorf("%s %s", r.Status, statuses(r))
	}
	if _, err := h.e.Cancel(context.Background(), id); !isCode(err, steward.ECONFLICT) {
		t.Errorf("second cancel: %v, want a conflict", err)
	}
}

func TestWorkflowConcurrency(t *testing.T) {
	for _, tt := range []struct {
		policy      string
		first, then steward.RunStatus
	}{
		{"allow", steward.RunRunning, steward.RunRunning},
		{"forbid", steward.RunRunning, steward.RunSkipped},
		{"replace", steward.RunCancelled, steward.RunRunning},
	} {
		t.Run(tt.policy, func(t *testing.T) {
			h := newWF(t)
			h.actor.set("w/a", block)
			h.apply("  w:\n    concurrency: " + tt.policy + "\n    steps: {a: {command: a}}\n")
			first := h.run("w", nil)
			h.waitStep(first.ID, "a", steward.RunRunning)
			second := h.run("w", nil)
			testwait.For(t, 10*time.Second, "both runs as the policy says", func() bool {
				a, _ := h.store.Run(context.Background(), first.ID)
				b, _ := h.store.Run(context.Background(), second.ID)
				return a.Status == tt.first && b.Status == tt.then
			})
		})
	}
}

// TestWorkflowReplaceWhenTheStoreRefuses: as for jobs, a refused new run
// replaces nothing.
func TestWorkflowReplaceWhenTheStoreRefuses(t *testing.T) {
	h := newWF(t)
	h.actor.set("w/a", block)
	h.apply("  w:\n    concurrency: replace\n    steps: {a: {command: a}}\n")
	first := h.run("w", nil)
	h.waitStep(first.ID, "a", steward.RunRunning)
	refuseInserts(t, h.path, "runs")
	if _, err := h.e.StartWorkflow(context.Background(), "w", steward.TriggerManual, nil, nil); err == nil {
		t.Fatal("a run the store refused was started")
	}
	if r, err := h.store.Run(context.Background(), first.ID); err != nil || r.Status != steward.RunRunning {
		t.Errorf("the running run after a refused replacement: %s, %v; want it still running", r.Status, err)
	}
	h.e.mu.Lock()
	defer h.e.mu.Unlock()
	for c := range h.e.flows["w"].chains {
		if err := context.Cause(c.ctx); err != nil {
			t.Errorf("the running run's chain was cancelled: %v", err)
		}
	}
}

func TestWorkflowUnknown(t *testing.T) {
	h := newWF(t)
	h.apply("  w: {steps: {a: {command: a}}}\n")
	if _, err := h.e.StartWorkflow(context.Background(), "nope", steward.TriggerManual, nil, nil); !isCode(err, steward.ENOTFOUND) {
		t.Errorf("unknown workflow: %v", err)
	}
	list, err := h.e.Workflows(context.Background())
	if err != nil || len(list) != 1 || list[0].Name != "w" || len(list[0].Steps) != 1 || list[0].Steps[0].Action != "command" {
		t.Errorf("Workflows = %+v, %v", list, err)
	}
}

func isCode(err error, code string) bool {
	var e *steward.Error
	return errors.As(err, &e) && e.Code == code
}
