package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/testwait"
)

// runShow returns run id as `steward runs show ID -o json` shows it.
func (e *env) runShow(id int64) steward.Run {
	e.t.Helper()
	code, out, stderr := e.steward("runs", "show", strconv.FormatInt(id, 10), "-o", "json")
	if code != 0 {
		e.t.Fatalf("runs show %d: exit %d: %s", id, code, stderr)
	}
	var r steward.Run
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		e.t.Fatalf("runs show -o json: %v\n%s", err, out)
	}
	return r
}

// startWorkflow starts a run of workflow name without waiting and returns
// its ID.
func (e *env) startWorkflow(name string, args ...string) int64 {
	e.t.Helper()
	code, out, stderr := e.steward(append([]string{"workflow", "run", name, "-o", "json"}, args...)...)
	var r steward.Run
	if code != 0 || json.Unmarshal([]byte(out), &r) != nil || r.ID == 0 || r.Status != steward.RunQueued {
		e.t.Fatalf("workflow run %s: exit %d, %q %q; want a queued run", name, code, out, stderr)
	}
	return r.ID
}

// stepsOf returns the status of each step of r by name.
func stepsOf(r steward.Run) map[string]steward.StepRun {
	m := map[string]steward.StepRun{}
	for _, s := range r.Steps {
		m[s.Name] = s
	}
	return m
}

func TestWorkflowRunCLI(t *testing.T) {
	e := newEnv(t, `
workflows:
  build:
    steps:
      fetch:
        command: [sh, -c, 'echo "{\"n\": 3}"']
        outputs: json
      greet:
        needs: [fetch]
        command: [sh, -c, 'test "$0" != boom && echo "hello $0 {{.steps.fetch.outputs.n}}"', '{{.inputs.who}}']
      tell:
        needs: [fetch, greet]
        command: [sh, -c, 'echo "told by $STEWARD_STEP_ID of run $STEWARD_RUN_ID"']
`)
	e.run()
	code, out, stderr := e.steward("workflows")
	if code != 0 || !strings.Contains(out, "NAME") || !strings.Contains(out, "fetch greet(fetch) tell(fetch,greet)") {
		t.Fatalf("workflows: exit %d, %q %q; want build's steps", code, out, stderr)
	}

	code, out, stderr = e.steward("workflow", "run", "build", "--input", "who=ann", "--wait")
	if code != 0 || !strings.Contains(out, "of build: succeeded") || !strings.Contains(out, "STEP") {
		t.Fatalf("workflow run build --wait: exit %d, %q %q; want 0, succeeded and its steps", code, out, stderr)
	}
	for _, step := range []string{"fetch", "greet", "tell"} {
		if !strings.Contains(out, "  "+step+" ") {
			t.Errorf("workflow run --wait does not show step %s:\n%s", step, out)
		}
	}
	list := e.runsJSON("build")
	if len(list) != 1 || list[0]["kind"] != "workflow" || list[0]["trigger"] != "manual" {
		t.Fatalf("runs build = %v; want one manual workflow run", list)
	}
	id := int64(list[0]["id"].(float64))
	code, out, _ = e.steward("runs", "logs", strconv.FormatInt(id, 10))
	if want := fmt.Sprintf("==> step greet <==\nhello ann 3\n==> step tell <==\ntold by tell of run %d\n", id); code != 0 || !strings.Contains(out, want) {
		t.Errorf("runs logs %d: exit %d, %q; want %q", id, code, out, want)
	}
	code, out, _ = e.steward("runs", "show", strconv.FormatInt(id, 10))
	if code != 0 || !strings.Contains(out, "steps:") || !strings.Contains(out, "ATTEMPTS") || strings.Count(out, "succeeded") != 4 {
		t.Errorf("runs show %d: exit %d, %q; want the run and its 3 steps succeeded", id, code, out)
	}

	// A step that fails: exit 1, and the step after it is skipped.
	code, out, _ = e.steward("workflow", "run", "build", "--input", "who=boom", "--wait", "-o", "json")
	var bad steward.Run
	if err := json.Unmarshal([]byte(out), &bad); code != 1 || err != nil || bad.Status != steward.RunFailed {
		t.Fatalf("workflow run with who=boom: exit %d, %q, %v; want 1 and failed", code, out, err)
	}
	if s := stepsOf(bad); s["greet"].Status != steward.RunFailed || s["greet"].ExitCode == nil || *s["greet"].ExitCode != 1 ||
		s["tell"].Status != steward.RunSkipped {
		t.Errorf("steps of the failed run = %+v; want greet failed (exit 1), tell skipped", bad.Steps)
	}

	// Without --wait: the run as queued; it goes on by itself.
	queued := e.startWorkflow("build", "--input", "who=bo")
	testwait.For(t, 20*time.Second, "the queued run to succeed", func() bool {
		return e.runShow(queued).Status == steward.RunSucceeded
	})
	var wfs []steward.Workflow
	_, out, _ = e.steward("workflows", "-o", "json")
	if err := json.Unmarshal([]byte(out), &wfs); err != nil || len(wfs) != 1 || wfs[0].Last == nil || wfs[0].Last.ID != queued ||
		len(wfs[0].Steps) != 3 || wfs[0].Steps[2].Action != "command" {
		t.Errorf("workflows -o json = %+v, %v; want build, last run %d", wfs, err, queued)
	}

	// Bad input: nothing starts.
	for _, tt := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"workflow", "run", "nope"}, 1, "not found"},
		{[]string{"workflow", "run", "build", "--input", "1a=x"}, 1, `input "1a"`},
		{[]string{"workflow", "run", "build", "--input", "who"}, 2, "want KEY=VALUE"},
	} {
		if code, _, stderr := e.steward(tt.args...); code != tt.code || !strings.Contains(stderr, tt.stderr) {
			t.Errorf("steward %q: exit %d, %q; want %d and %q", tt.args, code, stderr, tt.code, tt.stderr)
		}
	}
	if n := len(e.runsJSON("build")); n != 3 {
		t.Errorf("%d runs of build after the bad requests, want 3", n)
	}
}

// lines returns the lines of file path, none when it is missing.
func lines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return strings.Fields(strings.ReplaceAll(string(b), " ", "_"))
}

// TestWorkflowResumeAfterSIGKILL: steward is killed with SIGKILL while
// step b of a run sleeps, after step a ended. The next steward on the same
// data dir resumes the run: a is not repeated, b runs again with the same
// STEWARD_RUN_ID, STEWARD_STEP_ID and STEWARD_ATTEMPT (at least once), c
// runs, and the run succeeds. The same step under rerun: never ends lost,
// and its run fails.
func TestWorkflowResumeAfterSIGKILL(t *testing.T) {
	e := newEnv(t, `
workflows:
  slow:
    steps:
      a: {command: [sh, -c, 'echo a >> {{dir}}/a.count']}
      b:
        needs: [a]
        command: [sh, -c, 'echo "$STEWARD_RUN_ID $STEWARD_STEP_ID $STEWARD_ATTEMPT" >> {{dir}}/b.log; test -e {{dir}}/b.fast || exec sleep 300']
      c: {needs: [b], command: [sh, -c, 'echo c >> {{dir}}/c.count']}
  once:
    steps:
      a: {command: "true"}
      b:
        needs: [a]
        rerun: never
        command: [sh, -c, 'echo b >> {{dir}}/once.log; exec sleep 300']
      c: {needs: [b], command: "true"}
`)
	d := e.run()
	slow, once := e.startWorkflow("slow"), e.startWorkflow("once")
	testwait.For(t, 20*time.Second, "step b of both runs running", func() bool {
		s, o := stepsOf(e.runShow(slow)), stepsOf(e.runShow(once))
		return s["a"].Status == steward.RunSucceeded && s["b"].Status == steward.RunRunning && len(lines(t, filepath.Join(e.dir, "b.log"))) == 1 &&
			o["b"].Status == steward.RunRunning && len(lines(t, filepath.Join(e.dir, "once.log"))) == 1
	})
	if err := d.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-d.done
	// b's rerun ends at once.
	if err := os.WriteFile(filepath.Join(e.dir, "b.fast"), nil, 0o600); err != nil {
		t.Fatal(err)
	}

	e.run()
	testwait.For(t, 20*time.Second, "the resumed runs to end", func() bool {
		return e.runShow(slow).Status.Done() && e.runShow(once).Status.Done()
	})
	r := e.runShow(slow)
	s := stepsOf(r)
	if r.Status != steward.RunSucceeded || s["a"].Attempt != 1 || s["b"].Status != steward.RunSucceeded || s["b"].Attempt != 1 ||
		s["c"].Status != steward.RunSucceeded {
		t.Errorf("resumed run = %+v; want succeeded, b succeeded in attempt 1", r)
	}
	if got := lines(t, filepath.Join(e.dir, "a.count")); len(got) != 1 {
		t.Errorf("step a ran %d times, want once", len(got))
	}
	want := fmt.Sprintf("%d_b_1", slow)
	if got := lines(t, filepath.Join(e.dir, "b.log")); len(got) != 2 || got[0] != want || got[1] != want {
		t.Errorf("step b ran with %q; want twice with the same key %q", got, want)
	}
	if got := lines(t, filepath.Join(e.dir, "c.count")); len(got) != 1 {
		t.Errorf("step c ran %d times, want once", len(got))
	}
	o := e.runShow(once)
	if so := stepsOf(o); o.Status != steward.RunFailed || so["b"].Status != steward.RunLost || so["c"].Status != steward.RunSkipped {
		t.Errorf("run with rerun: never = %+v; want failed, b lost, c skipped", o)
	}
	if got := lines(t, filepath.Join(e.dir, "once.log")); len(got) != 1 {
		t.Errorf("the rerun: never step ran %d times, want once", len(got))
	}
	code, out, _ := e.steward("runs", "show", strconv.FormatInt(slow, 10))
	if code != 0 || !strings.Contains(out, "succeeded") || !strings.Contains(out, "  b ") {
		t.Errorf("runs show %d: exit %d, %q", slow, code, out)
	}
	code, out, _ = e.steward("runs", "show", strconv.FormatInt(once, 10))
	if code != 0 || !strings.Contains(out, "lost") || !strings.Contains(out, "rerun policy is never") {
		t.Errorf("runs show %d: exit %d, %q; want b lost by its rerun policy", once, code, out)
	}
}
