package api

import (
	"context"
	"net/http"
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
	if wait && !run.Status.Done() {
		if run, err = s.opts.Runs.Wait(r.Context(), run.ID); err != nil {
			return err
		}
	}
	return writeJSON(w, http.StatusOK, run)
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
