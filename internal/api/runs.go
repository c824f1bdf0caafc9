package api

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/stewardhq/steward"
)

// Runs is the run engine of the jobs as the API drives it.
type Runs interface {
	Jobs(ctx context.Context) ([]steward.Job, error)
	// Trigger starts a manual run of a job: ENOTFOUND for an unknown job.
	Trigger(ctx context.Context, name string) (steward.Run, error)
	// Wait waits for a run and its retries to end and returns the last.
	Wait(ctx context.Context, id int64) (steward.Run, error)
	// Next returns the next n scheduled times of a job: EINVALID for an n
	// out of range, ENOTFOUND for an unknown job.
	Next(name string, n int) ([]time.Time, error)
	List(ctx context.Context, q steward.RunQuery) ([]steward.Run, error)
	Get(ctx context.Context, id int64) (steward.Run, error)
	Logs(ctx context.Context, id int64) (steward.RunLog, error)
	// Cancel cancels a run in flight: ECONFLICT for one that ended.
	Cancel(ctx context.Context, id int64) (steward.Run, error)
	Workflows(ctx context.Context) ([]steward.Workflow, error)
	// StartWorkflow starts a run of a workflow for trigger, with data
	// telling of it and inputs: ENOTFOUND for an unknown workflow.
	StartWorkflow(ctx context.Context, name, trigger string, data map[string]any, inputs map[string]string) (steward.Run, error)
}

var errNoRuns = steward.Errorf(steward.EUNAVAILABLE, "jobs are not enabled on this steward")

func (s *Server) listJobs(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Runs == nil {
		return errNoRuns
	}
	list, err := s.opts.Runs.Jobs(r.Context())
	if err != nil {
		return err
	}
	if list == nil {
		list = []steward.Job{}
	}
	return writeJSON(w, http.StatusOK, list)
}

// runJob serves POST /v1/jobs/{name}/run?wait=: a manual run, returned as
// stored, or once it has ended with wait=1. The run does not depend on the
// request: a client that goes away while it waits leaves it running.
func (s *Server) runJob(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Runs == nil {
		return errNoRuns
	}
	wait, err := boolParam("wait", r.URL.Query().Get("wait"))
	if err != nil {
		return err
	}
	run, err := s.opts.Runs.Trigger(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	s.log.Info("api job run", "job", run.Name, "run", run.ID, "who", s.who(r.Context()))
	if run, err = s.wait(r.Context(), run, wait); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, run)
}

// wait waits for run to end when asked to and it has not, and returns it
// as it ended; for a workflow run, with its steps.
func (s *Server) wait(ctx context.Context, run steward.Run, wait bool) (steward.Run, error) {
	if !wait || run.Status.Done() {
		return run, nil
	}
	run, err := s.opts.Runs.Wait(ctx, run.ID)
	if err != nil || run.Kind != steward.RunKindWorkflow {
		return run, err
	}
	return s.opts.Runs.Get(ctx, run.ID)
}

func (s *Server) jobNext(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Runs == nil {
		return errNoRuns
	}
	n, err := intParam("n", r.URL.Query().Get("n"), 1, 5)
	if err != nil {
		return err
	}
	name := r.PathValue("name")
	times, err := s.opts.Runs.Next(name, n)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, steward.JobNext{Name: name, Next: times})
}

// listRuns serves GET /v1/runs?name=&limit=: runs newest first.
func (s *Server) listRuns(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Runs == nil {
		return errNoRuns
	}
	q := r.URL.Query()
	rq := steward.RunQuery{Name: q.Get("name")}
	var err error
	if rq.Limit, err = intParam("limit", q.Get("limit"), 0, 0); err != nil {
		return err
	}
	list, err := s.opts.Runs.List(r.Context(), rq)
	if err != nil {
		return err
	}
	if list == nil {
		list = []steward.Run{}
	}
	return writeJSON(w, http.StatusOK, list)
}

func (s *Server) getRun(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Runs == nil {
		return errNoRuns
	}
	id, err := idParam(r, "run")
	if err != nil {
		return err
	}
	run, err := s.opts.Runs.Get(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, run)
}

func (s *Server) runLogs(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Runs == nil {
		return errNoRuns
	}
	id, err := idParam(r, "run")
	if err != nil {
		return err
	}
	l, err := s.opts.Runs.Logs(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, l)
}

func (s *Server) cancelRun(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Runs == nil {
		return errNoRuns
	}
	id, err := idParam(r, "run")
	if err != nil {
		return err
	}
	run, err := s.opts.Runs.Cancel(r.Context(), id)
	if err != nil {
		return err
	}
	s.log.Info("api run cancelled", "job", run.Name, "run", id, "who", s.who(r.Context()))
	return writeJSON(w, http.StatusOK, run)
}

func (s *Server) listWorkflows(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Runs == nil {
		return errNoRuns
	}
	list, err := s.opts.Runs.Workflows(r.Context())
	if err != nil {
		return err
	}
	if list == nil {
		list = []steward.Workflow{}
	}
	return writeJSON(w, http.StatusOK, list)
}

// runWorkflow serves POST /v1/workflows/{name}/run?wait=: a run with the
// inputs of the body, returned as stored, or once it has ended with
// wait=1, with its steps. Like a job's run, it does not depend on the
// request.
func (s *Server) runWorkflow(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Runs == nil {
		return errNoRuns
	}
	wait, err := boolParam("wait", r.URL.Query().Get("wait"))
	if err != nil {
		return err
	}
	var req steward.WorkflowRunRequest
	if err := decodeOptional(r, &req); err != nil {
		return err
	}
	if err := checkInputs(req.Inputs); err != nil {
		return err
	}
	run, err := s.opts.Runs.StartWorkflow(r.Context(), r.PathValue("name"), steward.TriggerManual, nil, req.Inputs)
	if err != nil {
		return err
	}
	s.log.Info("api workflow run", "workflow", run.Name, "run", run.ID, "who", s.who(r.Context()))
	if run, err = s.wait(r.Context(), run, wait); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, run)
}

// maxInputs bounds the inputs of a workflow run.
const maxInputs = 100

// checkInputs refuses inputs that the templates ({{.inputs.KEY}}) and
// conditions (inputs.KEY) of a workflow could not name, or whose values
// could not go into a command's arguments or environment.
func checkInputs(inputs map[string]string) error {
	if len(inputs) > maxInputs {
		return steward.Errorf(steward.EINVALID, "%d inputs: at most %d", len(inputs), maxInputs)
	}
	for k, v := range inputs {
		if !isIdentifier(k) {
			return steward.Errorf(steward.EINVALID, "input %q: a name is a letter or _, then letters, digits or _", k)
		}
		if strings.ContainsRune(v, 0) {
			return steward.Errorf(steward.EINVALID, "input %s: its value holds a NUL byte", k)
		}
	}
	return nil
}

func isIdentifier(s string) bool {
	for i, c := range s {
		if c != '_' && !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9') {
			return false
		}
	}
	return s != ""
}
