package web

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stewardhq/steward"
)

// fakeRuns is an in-memory api.Runs: a workflow release (build, then test
// and lint, then ship) whose run 2 is in flight, run 1 of it that ended,
// run 3 of a job, and run 4 of a workflow since removed from the config.
type fakeRuns struct {
	mu   sync.Mutex
	runs map[int64]steward.Run
}

func newFakeRuns(now time.Time) *fakeRuns {
	code := 0
	step := func(name string, st steward.RunStatus, started time.Duration) steward.StepRun {
		s := steward.StepRun{Name: name, Status: st}
		if started > 0 {
			s.Attempt, s.Started = 1, now.Add(-started)
		}
		if st.Done() && started > 0 {
			s.Ended, s.ExitCode = now.Add(-started+time.Second), &code
		}
		return s
	}
	return &fakeRuns{runs: map[int64]steward.Run{
		1: {ID: 1, Kind: steward.RunKindWorkflow, Name: "release", Status: steward.RunFailed, Trigger: steward.TriggerSchedule,
			Created: now.Add(-time.Hour), Started: now.Add(-time.Hour), Ended: now.Add(-time.Hour + 90*time.Second), Attempt: 1,
			Error: "step lint failed",
			Steps: []steward.StepRun{step("build", steward.RunSucceeded, time.Hour), step("test", steward.RunSucceeded, time.Hour),
				{Name: "lint", Status: steward.RunFailed, Attempt: 1, Started: now.Add(-time.Hour), Error: "exit status 2"},
				step("ship", steward.RunSkipped, 0)}},
		2: {ID: 2, Kind: steward.RunKindWorkflow, Name: "release", Status: steward.RunRunning, Trigger: steward.TriggerManual,
			Created: now.Add(-time.Minute), Started: now.Add(-time.Minute), Attempt: 1,
			Steps: []steward.StepRun{step("build", steward.RunSucceeded, time.Minute), step("test", steward.RunRunning, 30*time.Second),
				step("lint", steward.RunSucceeded, 30*time.Second), step("ship", steward.RunQueued, 0)}},
		3: {ID: 3, Kind: steward.RunKindJob, Name: "nightly", Status: steward.RunSucceeded, Trigger: steward.TriggerSchedule,
			Created: now.Add(-2 * time.Hour), Started: now.Add(-2 * time.Hour), Ended: now.Add(-2*time.Hour + 3*time.Second),
			ExitCode: &code, Attempt: 1},
		4: {ID: 4, Kind: steward.RunKindWorkflow, Name: "gone", Status: steward.RunSucceeded, Trigger: steward.TriggerManual,
			Created: now.Add(-3 * time.Hour), Started: now.Add(-3 * time.Hour), Ended: now.Add(-3 * time.Hour), Attempt: 1,
			Steps: []steward.StepRun{step("only", steward.RunSucceeded, 3*time.Hour)}},
	}}
}

func (f *fakeRuns) Jobs(context.Context) ([]steward.Job, error) {
	return []steward.Job{{Name: "nightly", Schedule: "0 3 * * *", Timezone: "UTC", Action: "command", Concurrency: "forbid",
		Missed: "skip", Next: time.Now().Add(time.Hour), Last: &steward.RunRef{ID: 3, Status: steward.RunSucceeded}},
		{Name: "adhoc", Action: "http", Concurrency: "allow", Missed: "skip"}}, nil
}

func (f *fakeRuns) Trigger(_ context.Context, name string) (steward.Run, error) {
	return steward.Run{ID: 5, Kind: steward.RunKindJob, Name: name, Status: steward.RunQueued}, nil
}

func (f *fakeRuns) Wait(ctx context.Context, id int64) (steward.Run, error) { return f.Get(ctx, id) }

func (f *fakeRuns) Next(string, int) ([]time.Time, error) { return nil, nil }

func (f *fakeRuns) List(context.Context, steward.RunQuery) ([]steward.Run, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []steward.Run
	for id := int64(len(f.runs)); id > 0; id-- {
		r := f.runs[id]
		r.Steps = nil
		out = append(out, r)
	}
	return out, nil
}

func (f *fakeRuns) Get(_ context.Context, id int64) (steward.Run, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.runs[id]
	if !ok {
		return r, steward.Errorf(steward.ENOTFOUND, "no run %d", id)
	}
	return r, nil
}

func (f *fakeRuns) Logs(_ context.Context, id int64) (steward.RunLog, error) {
	if id == 1 {
		return steward.RunLog{ID: id, Output: "lint: <bad> line\n", Truncated: true}, nil
	}
	return steward.RunLog{ID: id}, nil
}

func (f *fakeRuns) Cancel(_ context.Context, id int64) (steward.Run, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.runs[id]
	r.Status = steward.RunCancelled
	f.runs[id] = r
	return r, nil
}

func (f *fakeRuns) Workflows(context.Context) ([]steward.Workflow, error) {
	return []steward.Workflow{
		{Name: "release", Triggers: []string{"schedule 0 4 * * *"}, Concurrency: "forbid", Timeout: "1h0m0s",
			Last: &steward.RunRef{ID: 2, Status: steward.RunRunning},
			Steps: []steward.WorkflowStep{{Name: "build", Action: "command"}, {Name: "test", Action: "command", Needs: []string{"build"}},
				{Name: "lint", Action: "command", Needs: []string{"build"}},
				{Name: "ship", Action: "http", Needs: []string{"test", "lint"}, If: `steps.test.status == "succeeded"`}}},
		{Name: "fresh", Concurrency: "allow", Steps: []steward.WorkflowStep{{Name: "hello", Action: "command"}}},
	}, nil
}

func (f *fakeRuns) StartWorkflow(_ context.Context, name, _ string, _ map[string]any, _ map[string]string) (steward.Run, error) {
	return steward.Run{ID: 6, Kind: steward.RunKindWorkflow, Name: name, Status: steward.RunQueued}, nil
}

// node finds the drawn node of step in body and returns its status.
func node(body, step string) string {
	m := regexp.MustCompile(`<g class="dag-node state-([a-z_]+)" data-step="` + step + `" data-status="([a-z_]+)"`).FindStringSubmatch(body)
	if m == nil || m[1] != m[2] {
		return ""
	}
	return m[1]
}

func TestRunsPage(t *testing.T) {
	f := newFixture(t, true)
	sid, _ := f.login()
	w := f.do(request{path: "/runs", cookie: sid})
	body := w.Body.String()
	if w.Code != http.StatusOK {
		t.Fatalf("GET /runs: %d\n%s", w.Code, body)
	}
	for _, want := range []string{
		`<a href="/runs" aria-current="page">`,
		`<section class="card wf-card" data-workflow="release">`,
		`<svg class="dag" viewBox="0 0 632 126" width="632" height="126"`,
		`data-needs="operator" data-action="/v1/workflows/release/run" data-go="/runs/"`,
		`data-needs="operator" data-action="/v1/jobs/nightly/run" data-go="/runs/"`,
		`schedule 0 4 * * * · timeout 1h0m0s · concurrency forbid`,
		`run when asked · concurrency allow`,
		`<path class="dag-edge state-succeeded" d="M176,63 C204,63 204,31 230,31" marker-end="url(#dag-arrow)" data-from="build" data-to="test"/>`,
		`<title>ship: http, if steps.test.status == &#34;succeeded&#34;: queued</title>`,
		`The states of run <a href="/runs/2">2</a>, manual`,
		`Not run yet.`,
		`<tr data-run="3" data-status="succeeded">`,
		`<td data-label="Duration" class="nowrap">3s</td>`,
		`<span class="muted">UTC</span>`,
		`<span class="muted">when asked</span>`,
		`data-refresh="1"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/runs lacks %q", want)
		}
	}
	// The graph shows the last run's states; a workflow not run yet is idle.
	for step, want := range map[string]string{"build": "succeeded", "test": "running", "lint": "succeeded", "ship": "queued", "hello": "idle"} {
		if got := node(body, step); got != want {
			t.Errorf("/runs: node %s is %q, want %q", step, got, want)
		}
	}
}

func TestRunPage(t *testing.T) {
	f := newFixture(t, true)
	sid, _ := f.login()
	for _, tc := range []struct {
		path    string
		want    []string
		nodes   map[string]string
		without []string
	}{
		{"/runs/2", []string{
			`<h1>release <span class="muted">· run 2</span> <span class="chip state-running"><i></i>running</span></h1>`,
			`data-needs="operator" data-action="/v1/runs/2/cancel"`,
			`live: the page follows the run`,
			`<tr data-step="test" data-status="running">`,
			`data-refresh="1"`, `No output.`,
		}, map[string]string{"build": "succeeded", "test": "running", "lint": "succeeded", "ship": "queued"}, nil},
		{"/runs/1", []string{
			`as the run ended`, `<p class="notice error">step lint failed</p>`,
			`<div class="muted small reason">exit status 2</div>`,
			`lint: &lt;bad&gt; line`, `the start was dropped`, `data-refresh="0"`,
			`<path class="dag-edge state-failed"`,
		}, map[string]string{"build": "succeeded", "lint": "failed", "ship": "skipped"}, []string{"/cancel"}},
		{"/runs/3", []string{`nightly <span class="muted">· run 3</span>`, `job, schedule`, `exit status 0`},
			nil, []string{`class="dag"`, "/cancel"}},
		// A workflow no longer in the config: its run's steps, without needs.
		{"/runs/4", []string{`data-step="only"`}, map[string]string{"only": "succeeded"}, []string{"dag-edge"}},
	} {
		w := f.do(request{path: tc.path, cookie: sid})
		body := w.Body.String()
		if w.Code != http.StatusOK {
			t.Errorf("GET %s: %d\n%s", tc.path, w.Code, body)
			continue
		}
		for _, want := range tc.want {
			if !strings.Contains(body, want) {
				t.Errorf("%s lacks %q", tc.path, want)
			}
		}
		for _, not := range tc.without {
			if strings.Contains(body, not) {
				t.Errorf("%s has %q", tc.path, not)
			}
		}
		for step, want := range tc.nodes {
			if got := node(body, step); got != want {
				t.Errorf("%s: node %s is %q, want %q", tc.path, step, got, want)
			}
		}
	}
	// The live refresh gets the graph as a swappable part.
	w := f.do(request{path: "/runs/2", cookie: sid, header: map[string]string{"X-Steward-Partial": "1"}})
	if b := w.Body.String(); strings.Contains(b, "<html") || !strings.Contains(b, `<section class="card" id="run-graph" data-live>`) {
		t.Errorf("partial /runs/2:\n%s", b)
	}
	for path, status := range map[string]int{"/runs/99": 404, "/runs/x": 400} {
		if w := f.do(request{path: path, cookie: sid}); w.Code != status || !strings.Contains(w.Body.String(), "<html") {
			t.Errorf("GET %s: %d, want an HTML %d", path, w.Code, status)
		}
	}
}

func TestRunsPageWithoutRuns(t *testing.T) {
	f := newFixture(t, false)
	sid, _ := f.login()
	w := f.do(request{path: "/runs", cookie: sid})
	if b := w.Body.String(); w.Code != http.StatusOK || !strings.Contains(b, "Jobs and workflows are not enabled") || !strings.Contains(b, `data-refresh="0"`) {
		t.Errorf("GET /runs without runs: %d\n%s", w.Code, b)
	}
}

// failingRuns fails the call named fail with an internal error.
type failingRuns struct {
	*fakeRuns
	fail string
}

var errBoom = steward.Errorf(steward.EINTERNAL, "boom")

func (f failingRuns) Jobs(ctx context.Context) ([]steward.Job, error) {
	if f.fail == "jobs" {
		return nil, errBoom
	}
	return f.fakeRuns.Jobs(ctx)
}

func (f failingRuns) List(ctx context.Context, q steward.RunQuery) ([]steward.Run, error) {
	if f.fail == "list" {
		return nil, errBoom
	}
	return f.fakeRuns.List(ctx, q)
}

func (f failingRuns) Get(ctx context.Context, id int64) (steward.Run, error) {
	if f.fail == "get" && id == 2 {
		return steward.Run{}, errBoom
	}
	return f.fakeRuns.Get(ctx, id)
}

func (f failingRuns) Workflows(ctx context.Context) ([]steward.Workflow, error) {
	if f.fail == "workflows" {
		return nil, errBoom
	}
	return f.fakeRuns.Workflows(ctx)
}

// TestRunsPagesOverFailingAPI: a failing call of the API makes the page an
// error page, not a page with parts missing.
func TestRunsPagesOverFailingAPI(t *testing.T) {
	for _, tc := range []struct{ fail, path string }{
		{"workflows", "/runs"}, {"jobs", "/runs"}, {"list", "/runs"}, {"get", "/runs"}, {"workflows", "/runs/1"},
	} {
		f := newFixture(t, false, failingRuns{newFakeRuns(time.Now()), tc.fail})
		sid, _ := f.login()
		w := f.do(request{path: tc.path, cookie: sid})
		if w.Code != http.StatusInternalServerError || !strings.Contains(w.Body.String(), "<html") {
			t.Errorf("GET %s with %s failing: %d, want an HTML 500 page", tc.path, tc.fail, w.Code)
		}
	}
}
