package steward

import (
	"net/url"
	"strconv"
	"time"
)

// RunStatus is the state of a run: queued → running → succeeded | failed |
// cancelled | timed_out, or skipped, or lost.
type RunStatus string

// The states of a run.
const (
	RunQueued    RunStatus = "queued"
	RunRunning   RunStatus = "running"
	RunSucceeded RunStatus = "succeeded"
	RunFailed    RunStatus = "failed"
	RunCancelled RunStatus = "cancelled"
	RunTimedOut  RunStatus = "timed_out"
	RunSkipped   RunStatus = "skipped"
	// RunLost is a run that was queued or running when steward stopped.
	RunLost RunStatus = "lost"
)

// Done reports whether s is a final state.
func (s RunStatus) Done() bool {
	switch s {
	case RunQueued, RunRunning:
		return false
	}
	return true
}

// What started a run.
const (
	TriggerSchedule = "schedule" // its scheduled time came
	TriggerManual   = "manual"   // `jobs run` or POST /v1/jobs/{name}/run
	TriggerCatchUp  = "catch-up" // a scheduled time passed while steward was down (missed: once|all)
)

// RunKindJob is the kind of a run of a job.
const RunKindJob = "job"

// Run is one run of a job (one attempt of its action) or of a workflow.
type Run struct {
	ID      int64     `json:"id"`
	Kind    string    `json:"kind"` // RunKindJob or RunKindWorkflow
	Name    string    `json:"name"` // the job's or the workflow's
	Status  RunStatus `json:"status"`
	Trigger string    `json:"trigger"` // TriggerSchedule, …Manual or …CatchUp; a retry keeps its first attempt's
	// Scheduled is the time the run was due; zero for a manual run.
	Scheduled time.Time `json:"scheduled,omitzero"`
	Created   time.Time `json:"created"`
	Started   time.Time `json:"started,omitzero"`
	Ended     time.Time `json:"ended,omitzero"`
	// ExitCode is a command's exit status (-1 when a signal ended it), an
	// http action's response status; nil when there is none.
	ExitCode *int `json:"exit_code,omitempty"`
	// Attempt counts from 1; a retry is a new run with the next attempt.
	Attempt int    `json:"attempt"`
	Error   string `json:"error,omitempty"`
	// Steps are a workflow run's steps, in file order; GET /v1/runs/{id}
	// has them, lists do not.
	Steps []StepRun `json:"steps,omitempty"`
}

// Job is a job as GET /v1/jobs lists it.
type Job struct {
	Name        string    `json:"name"`
	Schedule    string    `json:"schedule,omitempty"` // "" runs only when asked
	Timezone    string    `json:"timezone,omitempty"`
	Action      string    `json:"action"` // command, http, service, backup or report
	Concurrency string    `json:"concurrency"`
	Missed      string    `json:"missed"`
	Next        time.Time `json:"next,omitzero"` // the next scheduled time
	Last        *RunRef   `json:"last,omitempty"`
}

// RunRef names a run and its status.
type RunRef struct {
	ID     int64     `json:"id"`
	Status RunStatus `json:"status"`
}

// RunQuery selects runs: the query of GET /v1/runs.
type RunQuery struct {
	Name  string // "" for every job
	Limit int    // at most, newest first; 0 for the server's default
}

// Values returns q as URL query parameters.
func (q RunQuery) Values() url.Values {
	v := url.Values{}
	if q.Name != "" {
		v.Set("name", q.Name)
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	return v
}

// RunLog is the captured output of a run, bounded: GET /v1/runs/{id}/logs.
type RunLog struct {
	ID        int64  `json:"id"`
	Output    string `json:"output"`
	Truncated bool   `json:"truncated,omitempty"` // more was written than is kept
}

// JobNext is the next scheduled times of a job: GET /v1/jobs/{name}/next.
type JobNext struct {
	Name string      `json:"name"`
	Next []time.Time `json:"next"` // empty for a job without a schedule
}
