package main

import (
	"bytes"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
)

func TestWorkflowsGolden(t *testing.T) {
	list := []steward.Workflow{
		{Name: "ingest", Triggers: []string{"schedule 0 3 * * * (Europe/Berlin)", "file /srv/in/*.csv (settle 5s)"},
			Steps: []steward.WorkflowStep{{Name: "parse", Action: "command"}, {Name: "load", Action: "command", Needs: []string{"parse"}},
				{Name: "tell", Action: "publish", Needs: []string{"load", "parse"}, If: `steps.load.status == "succeeded"`}},
			Concurrency: "forbid", Timeout: "1h0m0s", Next: runsAt.Add(24 * time.Hour), Last: &steward.RunRef{ID: 7, Status: steward.RunFailed}},
		{Name: "adhoc", Triggers: []string{}, Steps: []steward.WorkflowStep{{Name: "only", Action: "http"}}, Concurrency: "allow"},
	}
	for _, tt := range []struct {
		file   string
		asJSON bool
	}{{"workflows.golden", false}, {"workflows.json.golden", true}} {
		var buf bytes.Buffer
		if err := printWorkflows(&buf, list, tt.asJSON); err != nil {
			t.Fatal(err)
		}
		golden(t, tt.file, buf.Bytes())
	}
	var buf bytes.Buffer
	if err := printWorkflows(&buf, nil, true); err != nil || strings.TrimSpace(buf.String()) != "[]" {
		t.Errorf("no workflows as JSON = %q, %v; want []", buf.String(), err)
	}
}

func TestRunShowStepsGolden(t *testing.T) {
	zero, three := 0, 3
	r := steward.Run{ID: 7, Kind: steward.RunKindWorkflow, Name: "ingest", Status: steward.RunFailed, Trigger: steward.TriggerManual,
		Created: runsAt, Started: runsAt, Ended: runsAt.Add(95 * time.Second), Attempt: 1, Error: "step load did not succeed",
		Steps: []steward.StepRun{
			{Name: "parse", Status: steward.RunSucceeded, Attempt: 1, Started: runsAt, Ended: runsAt.Add(42 * time.Millisecond), ExitCode: &zero},
			{Name: "load", Status: steward.RunFailed, Attempt: 3, Started: runsAt.Add(time.Second), Ended: runsAt.Add(95 * time.Second),
				ExitCode: &three, Error: "exit status 3"},
			{Name: "notify", Status: steward.RunSucceeded, Attempt: 1, Started: runsAt.Add(95 * time.Second), Ended: runsAt.Add(96 * time.Second)},
			{Name: "tell", Status: steward.RunSkipped, Ended: runsAt.Add(95 * time.Second), Error: "needs did not succeed: load failed"},
			{Name: "wait", Status: steward.RunRunning, Attempt: 2, Started: runsAt.Add(95 * time.Second)},
		}}
	var buf bytes.Buffer
	printRun(&buf, r)
	printSteps(&buf, r.Steps)
	golden(t, "run-show-workflow.golden", buf.Bytes())

	// A job's run has no steps: nothing is added.
	buf.Reset()
	printSteps(&buf, nil)
	if buf.Len() != 0 {
		t.Errorf("steps of a job run = %q, want nothing", buf.String())
	}
}

func TestWorkflowInputs(t *testing.T) {
	for _, tt := range []struct {
		flags []string
		want  map[string]string
	}{
		{nil, nil},
		{[]string{"who=ann", "path=/a=b", "empty="}, map[string]string{"who": "ann", "path": "/a=b", "empty": ""}},
	} {
		got, err := workflowInputs(tt.flags)
		if err != nil || !maps.Equal(got.Inputs, tt.want) {
			t.Errorf("workflowInputs(%q) = %v, %v; want %v", tt.flags, got.Inputs, err, tt.want)
		}
	}
}

func TestWorkflowsUsage(t *testing.T) {
	for _, tt := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"workflows", "extra"}, "takes no arguments"},
		{[]string{"workflow"}, "workflow"},
		{[]string{"workflow", "start", "w"}, "start"},
		{[]string{"workflow", "run"}, "accepts 1 arg"},
		{[]string{"workflow", "run", "a", "b"}, "accepts 1 arg"},
		{[]string{"workflow", "run", "w", "--input", "who"}, `--input "who": want KEY=VALUE`},
		{[]string{"workflow", "run", "w", "--input", "=ann"}, `--input "=ann": want KEY=VALUE`},
		{[]string{"workflow", "run", "w", "--input", "a=1", "--input", "a=2"}, "--input a: given twice"},
		{[]string{"workflow", "run", "w", "--wait=maybe"}, "invalid argument"},
	} {
		code, _, stderr := run(append([]string{"--socket", "/nonexistent.sock"}, tt.args...)...)
		if code != exitUsage || !strings.Contains(stderr, tt.stderr) {
			t.Errorf("steward %q: exit %d, stderr %q; want %d with %q", tt.args, code, stderr, exitUsage, tt.stderr)
		}
	}
	// A steward that does not answer is exit 1.
	for _, args := range [][]string{{"workflows"}, {"workflow", "run", "w", "--input", "a=1"}} {
		if code, _, stderr := run(append([]string{"--socket", "/nonexistent.sock"}, args...)...); code != exitFailure || stderr == "" {
			t.Errorf("steward %q without a steward: exit %d, %q; want %d", args, code, stderr, exitFailure)
		}
	}
}
