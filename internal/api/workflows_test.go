package api_test

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/run"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/testwait"
)

const workflowsConfig = `
workflows:
  w:
    on: [{schedule: '@hourly', timezone: UTC}, {event: {alert: critical}}]
    steps:
      a: {command: "echo {{.inputs.who}}"}
      b: {needs: [a], command: "echo {{.inputs.what}}"}
      c: {needs: [b], http: {url: "http://127.0.0.1:1/{{.run.id}}"}}
  hold:
    concurrency: forbid
    steps:
      s: {command: hold}
`

// stepCalls is an Actor that records the commands of the steps it runs:
// a command naming boom fails, and step hold/s waits for release.
type stepCalls struct {
	mu       sync.Mutex
	commands [][]string
	release  chan struct{}
}

func (a *stepCalls) act(ctx context.Context, j *config.Job, _ steward.Run) run.Outcome {
	if j.Command == nil {
		return run.Outcome{}
	}
	a.mu.Lock()
	a.commands = append(a.commands, j.Command.Command)
	a.mu.Unlock()
	switch {
	case slices.Contains(j.Command.Command, "boom"):
		code := 1
		return run.Outcome{Err: errors.New("exit status 1"), ExitCode: &code}
	case j.Name == "hold/s":
		select {
		case <-a.release:
		case <-ctx.Done():
		}
	}
	return run.Outcome{}
}

func (a *stepCalls) ran() [][]string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.commands)
}

func TestWorkflowsAPI(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, filepath.Join(dir, "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	calls := &stepCalls{release: make(chan struct{})}
	e := run.New(run.Options{Store: st, Act: calls.act})
	t.Cleanup(e.Close)
	cfg, err := config.Parse("", []byte("data_dir: "+dir+"\n"+workflowsConfig), config.Registry{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Apply(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, func(o *api.Options) { o.Runs = e })
	c := f.client

	list, err := c.Workflows(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("workflows = %+v, %v; want 2", list, err)
	}
	w := list[0]
	wantSteps := []steward.WorkflowStep{{Name: "a", Action: "command"}, {Name: "b", Action: "command", Needs: []string{"a"}},
		{Name: "c", Action: "http", Needs: []string{"b"}}}
	if w.Name != "w" || !slices.Equal(w.Triggers, []string{"schedule @hourly (UTC)", "event alert critical"}) ||
		!slices.EqualFunc(w.Steps, wantSteps, func(a, b steward.WorkflowStep) bool {
			return a.Name == b.Name && a.Action == b.Action && slices.Equal(a.Needs, b.Needs)
		}) || w.Next.IsZero() || w.Next.Minute() != 0 || w.Last != nil {
		t.Errorf("workflow w = %+v", w)
	}
	if h := list[1]; h.Name != "hold" || len(h.Triggers) != 0 || !h.Next.IsZero() || h.Concurrency != "forbid" {
		t.Errorf("workflow hold = %+v", h)
	}

	ok, err := c.RunWorkflow(ctx, "w", steward.WorkflowRunRequest{Inputs: map[string]string{"who": "ann", "what": "hats"}}, true)
	if err != nil || ok.Status != steward.RunSucceeded || ok.Kind != steward.RunKindWorkflow || ok.Trigger != steward.TriggerManual {
		t.Fatalf("run w --wait = %+v, %v; want succeeded", ok, err)
	}
	if len(ok.Steps) != 3 || ok.Steps[2].Name != "c" || ok.Steps[2].Status != steward.RunSucceeded {
		t.Errorf("steps of the run = %+v; want a, b, c succeeded", ok.Steps)
	}
	if got := calls.ran(); len(got) != 2 || !slices.Equal(got[0], []string{"echo", "ann"}) || !slices.Equal(got[1], []string{"echo", "hats"}) {
		t.Errorf("commands = %q; want echo ann, echo hats", got)
	}
	bad, err := c.RunWorkflow(ctx, "w", steward.WorkflowRunRequest{Inputs: map[string]string{"who": "bob", "what": "boom"}}, true)
	if err != nil || bad.Status != steward.RunFailed || len(bad.Steps) != 3 || bad.Steps[1].Status != steward.RunFailed ||
		bad.Steps[2].Status != steward.RunSkipped {
		t.Fatalf("run w with boom --wait = %+v, %v; want failed at b, c skipped", bad, err)
	}
	if list, _ := c.Workflows(ctx); list[0].Last == nil || list[0].Last.ID != bad.ID || list[0].Last.Status != steward.RunFailed {
		t.Errorf("last run of w = %+v, want %d failed", list[0].Last, bad.ID)
	}

	// Without wait: the run as stored; with forbid, a second run while
	// it is in flight is skipped, and with wait answers at once.
	held, err := c.RunWorkflow(ctx, "hold", steward.WorkflowRunRequest{}, false)
	if err != nil || held.Status != steward.RunQueued || held.ID == 0 {
		t.Fatalf("run hold = %+v, %v; want queued", held, err)
	}
	testwait.For(t, 5*time.Second, "hold/s running", func() bool { return len(calls.ran()) == 5 })
	skipped, err := c.RunWorkflow(ctx, "hold", steward.WorkflowRunRequest{}, true)
	if err != nil || skipped.Status != steward.RunSkipped {
		t.Errorf("second run of hold = %+v, %v; want skipped", skipped, err)
	}
	close(calls.release)
	testwait.For(t, 5*time.Second, "hold's run to succeed", func() bool {
		r, err := c.Run(ctx, held.ID)
		return err == nil && r.Status == steward.RunSucceeded
	})

	// Bad input is a 4xx JSON error, and starts nothing.
	runs, _ := c.Runs(ctx, steward.RunQuery{})
	for _, tt := range []struct {
		name, path, body string
		want             int
	}{
		{"unknown workflow", "/v1/workflows/nope/run", "", http.StatusNotFound},
		{"bad wait", "/v1/workflows/w/run?wait=maybe", "", http.StatusBadRequest},
		{"a name with a dash", "/v1/workflows/w/run", `{"inputs": {"a-b": "x"}}`, http.StatusBadRequest},
		{"a name with a digit first", "/v1/workflows/w/run", `{"inputs": {"1a": "x"}}`, http.StatusBadRequest},
		{"an empty name", "/v1/workflows/w/run", `{"inputs": {"": "x"}}`, http.StatusBadRequest},
		{"a NUL in a value", "/v1/workflows/w/run", `{"inputs": {"who": "a\u0000b"}}`, http.StatusBadRequest},
		{"a value not a string", "/v1/workflows/w/run", `{"inputs": {"who": 1}}`, http.StatusBadRequest},
		{"an unknown field", "/v1/workflows/w/run", `{"input": {"who": "x"}}`, http.StatusBadRequest},
		{"not an object", "/v1/workflows/w/run", `[]`, http.StatusBadRequest},
		{"too many inputs", "/v1/workflows/w/run", manyInputs(101), http.StatusBadRequest},
	} {
		status, _, body := f.do(t, "POST", tt.path, strings.NewReader(tt.body))
		if status != tt.want {
			t.Errorf("%s: status %d, want %d: %s", tt.name, status, tt.want, body)
			continue
		}
		if e := errorOf(t, body); e.Message == "" {
			t.Errorf("%s: no message in %s", tt.name, body)
		}
	}
	if after, _ := c.Runs(ctx, steward.RunQuery{}); len(after) != len(runs) {
		t.Errorf("%d runs after the bad requests, want %d", len(after), len(runs))
	}
	// At the bound: 100 inputs, named _ then digits, are fine.
	if r, err := c.RunWorkflow(ctx, "hold", steward.WorkflowRunRequest{Inputs: inputsOf(100)}, true); err != nil || r.Status != steward.RunSucceeded {
		t.Errorf("100 inputs: %+v, %v; want succeeded", r, err)
	}
}

// inputsOf returns n inputs named _0, _1, ….
func inputsOf(n int) map[string]string {
	m := make(map[string]string, n)
	for i := range n {
		m["_"+strconv.Itoa(i)] = "v"
	}
	return m
}

func manyInputs(n int) string {
	var parts []string
	for k := range inputsOf(n) {
		parts = append(parts, `"`+k+`": "v"`)
	}
	return `{"inputs": {` + strings.Join(parts, ", ") + `}}`
}

// brokenRuns is the run engine with its workflow calls answering as told.
type brokenRuns struct {
	*run.Engine
	list []steward.Workflow
	err  error
}

func (b brokenRuns) Workflows(context.Context) ([]steward.Workflow, error) { return b.list, b.err }

func (b brokenRuns) StartWorkflow(context.Context, string, string, map[string]any, map[string]string) (steward.Run, error) {
	return steward.Run{ID: 1, Kind: steward.RunKindWorkflow, Status: steward.RunQueued}, nil
}

func (b brokenRuns) Wait(context.Context, int64) (steward.Run, error) { return steward.Run{}, b.err }

// TestWorkflowsAPIErrors: an engine without workflows lists [], and one
// that fails is a JSON error, also while a run is waited for.
func TestWorkflowsAPIErrors(t *testing.T) {
	f := newFixture(t, func(o *api.Options) { o.Runs = brokenRuns{} })
	if status, _, body := f.do(t, "GET", "/v1/workflows", nil); status != 200 || strings.TrimSpace(string(body)) != "[]" {
		t.Errorf("GET /v1/workflows without workflows: %d %s; want 200 []", status, body)
	}
	broken := steward.Errorf(steward.EUNAVAILABLE, "the store is closed")
	f = newFixture(t, func(o *api.Options) { o.Runs = brokenRuns{err: broken} })
	for _, rq := range []string{"GET /v1/workflows", "POST /v1/workflows/w/run?wait=1"} {
		method, path, _ := strings.Cut(rq, " ")
		status, _, body := f.do(t, method, path, nil)
		if e := errorOf(t, body); status != http.StatusServiceUnavailable || e.Message != "the store is closed" {
			t.Errorf("%s: %d %+v; want 503 with the engine's error", rq, status, e)
		}
	}
}
