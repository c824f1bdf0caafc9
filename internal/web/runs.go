package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/report"
)

// The runs pages refresh every liveRefresh seconds while a run they show
// is in flight (runs publish no events), else every idleRefresh seconds on
// the runs page, so that a scheduled run shows up; a run that ended stays.
const (
	liveRefresh = 1
	idleRefresh = 10
	// recentRuns is how many runs the runs page lists.
	recentRuns = 50
)

// runsData is the runs page's.
type runsData struct {
	Off       bool // runs are not enabled on this steward
	Workflows []workflowView
	Jobs      []steward.Job
	Runs      []runRow
}

// workflowView is a workflow drawn as its graph, with its last run's step
// states when it has one.
type workflowView struct {
	steward.Workflow
	Graph dag
	Last  *steward.Run
}

// runRow is a run in the list, its duration as text.
type runRow struct {
	steward.Run
	Duration string
}

func (h *Handler) runsPage(r *http.Request, s *session, v *view) error {
	v.Template, v.Title, v.Nav = "runs", "Runs", "runs"
	v.LiveTypes, v.Refresh = "config", idleRefresh
	d := &runsData{}
	v.Data = d
	var wfs []steward.Workflow
	switch err := h.call(r, s, "GET", "/v1/workflows", &wfs); {
	case unavailable(err):
		d.Off = true
		v.Refresh = 0
		return nil
	case err != nil:
		return err
	}
	if err := h.call(r, s, "GET", "/v1/jobs", &d.Jobs); err != nil {
		return err
	}
	var list []steward.Run
	if err := h.call(r, s, "GET", "/v1/runs?"+steward.RunQuery{Limit: recentRuns}.Values().Encode(), &list); err != nil {
		return err
	}
	for _, run := range list {
		d.Runs = append(d.Runs, runRow{Run: run, Duration: runDuration(run, h.now())})
		if !run.Status.Done() {
			v.Refresh = liveRefresh
		}
	}
	for _, wf := range wfs {
		wv := workflowView{Workflow: wf}
		var states map[string]steward.StepRun
		if wf.Last != nil {
			var last steward.Run
			if err := h.call(r, s, "GET", "/v1/runs/"+strconv.FormatInt(wf.Last.ID, 10), &last); err != nil {
				return err
			}
			wv.Last, states = &last, stepStates(last)
		}
		wv.Graph = layoutDAG(wf.Steps, states)
		d.Workflows = append(d.Workflows, wv)
	}
	return nil
}

// runData is a run's page's.
type runData struct {
	Run      steward.Run
	Duration string
	Graph    *dag // a workflow run's steps; nil for a job's run
	Steps    []stepRow
	Log      steward.RunLog
}

type stepRow struct {
	steward.StepRun
	Duration string
}

func (h *Handler) runPage(r *http.Request, s *session, v *view) error {
	id := r.PathValue("id")
	v.Template, v.Title, v.Nav = "run", "Run "+id, "runs"
	d := &runData{}
	v.Data = d
	if err := h.call(r, s, "GET", "/v1/runs/"+id, &d.Run); err != nil {
		return err
	}
	run := d.Run
	v.Title = run.Name + " · run " + id
	if !run.Status.Done() {
		v.Refresh = liveRefresh
	}
	now := h.now()
	d.Duration = runDuration(run, now)
	if run.Kind == steward.RunKindWorkflow {
		var wfs []steward.Workflow
		if err := h.call(r, s, "GET", "/v1/workflows", &wfs); err != nil {
			return err
		}
		steps := declared(wfs, run)
		g := layoutDAG(steps, stepStates(run))
		d.Graph = &g
		for _, st := range run.Steps {
			d.Steps = append(d.Steps, stepRow{StepRun: st, Duration: span(st.Started, st.Ended, now)})
		}
	}
	return h.call(r, s, "GET", "/v1/runs/"+id+"/logs", &d.Log)
}

// declared returns the steps of run's workflow as the config declares
// them; a workflow no longer in the config (or a step no longer in it)
// is drawn from the run's steps, without needs.
func declared(wfs []steward.Workflow, run steward.Run) []steward.WorkflowStep {
	var steps []steward.WorkflowStep
	for _, wf := range wfs {
		if wf.Name == run.Name {
			steps = wf.Steps
		}
	}
	have := map[string]bool{}
	for _, st := range steps {
		have[st.Name] = true
	}
	for _, st := range run.Steps {
		if !have[st.Name] {
			steps = append(steps, steward.WorkflowStep{Name: st.Name, Action: "step"})
		}
	}
	return steps
}

func stepStates(run steward.Run) map[string]steward.StepRun {
	m := make(map[string]steward.StepRun, len(run.Steps))
	for _, st := range run.Steps {
		m[st.Name] = st
	}
	return m
}

// runDuration is how long run ran, or has been running.
func runDuration(run steward.Run, now time.Time) string { return span(run.Started, run.Ended, now) }

// span is the time from start to end, or to now while there is no end;
// "—" before a start.
func span(start, end, now time.Time) string {
	if start.IsZero() {
		return "—"
	}
	if end.IsZero() {
		end = now
	}
	return report.Duration(end.Sub(start).Seconds())
}
