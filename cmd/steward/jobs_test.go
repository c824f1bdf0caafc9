package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
)

var runsAt = time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)

func sampleRuns() []steward.Run {
	zero, three := 0, 3
	return []steward.Run{
		{ID: 3, Kind: "job", Name: "export", Status: steward.RunFailed, Trigger: steward.TriggerManual, Created: runsAt,
			Started: runsAt, Ended: runsAt.Add(2 * time.Second), ExitCode: &three, Attempt: 2, Error: "exit status 3"},
		{ID: 2, Kind: "job", Name: "tick", Status: steward.RunSkipped, Trigger: steward.TriggerSchedule, Scheduled: runsAt,
			Created: runsAt, Ended: runsAt, Attempt: 1},
		{ID: 1, Kind: "job", Name: "tick", Status: steward.RunSucceeded, Trigger: steward.TriggerCatchUp, Scheduled: runsAt,
			Created: runsAt, Started: runsAt, Ended: runsAt, ExitCode: &zero, Attempt: 1},
	}
}

func TestRunsGolden(t *testing.T) {
	for _, tt := range []struct {
		file   string
		asJSON bool
	}{{"runs.golden", false}, {"runs.json.golden", true}} {
		var buf bytes.Buffer
		if err := printRuns(&buf, sampleRuns(), tt.asJSON); err != nil {
			t.Fatal(err)
		}
		golden(t, tt.file, buf.Bytes())
	}
	jobs := []steward.Job{
		{Name: "export", Schedule: "0 3 * * *", Timezone: "Europe/Berlin", Action: "command", Concurrency: "forbid",
			Missed: "once", Next: runsAt.Add(24 * time.Hour), Last: &steward.RunRef{ID: 3, Status: steward.RunFailed}},
		{Name: "adhoc", Action: "http", Concurrency: "allow", Missed: "skip"},
	}
	for _, tt := range []struct {
		file   string
		asJSON bool
	}{{"jobs.golden", false}, {"jobs.json.golden", true}} {
		var buf bytes.Buffer
		if err := printJobs(&buf, jobs, tt.asJSON); err != nil {
			t.Fatal(err)
		}
		golden(t, tt.file, buf.Bytes())
	}
	var buf bytes.Buffer
	if err := printRuns(&buf, nil, true); err != nil || strings.TrimSpace(buf.String()) != "[]" {
		t.Errorf("no runs as JSON = %q, %v; want []", buf.String(), err)
	}
}

func TestJobsRunsUsage(t *testing.T) {
	for _, tt := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"jobs", "run"}, "accepts 1 arg"},
		{[]string{"jobs", "next", "a", "-n", "0"}, "want at least 1"},
		{[]string{"jobs", "extra"}, "takes no arguments"},
		{[]string{"runs", "a", "b"}, "accepts at most 1 arg"},
		{[]string{"runs", "show", "x"}, `run ID "x"`},
		{[]string{"runs", "logs"}, "accepts 1 arg"},
		{[]string{"runs", "cancel", "0"}, "want a positive number"},
	} {
		code, _, stderr := run(append([]string{"--socket", "/nonexistent.sock"}, tt.args...)...)
		if code != exitUsage || !strings.Contains(stderr, tt.stderr) {
			t.Errorf("steward %q: exit %d, stderr %q; want %d with %q", tt.args, code, stderr, exitUsage, tt.stderr)
		}
	}
}
