package steward

import "time"

// RunKindWorkflow is the kind of a run of a workflow.
const RunKindWorkflow = "workflow"

// What started a workflow run, besides TriggerSchedule and TriggerManual.
const (
	TriggerFile    = "file"    // a file matching its glob settled
	TriggerSubject = "subject" // a message came on its bus subject
	TriggerEvent   = "event"   // an alert fired or a service reached a state
)

// StepRun is one step of a workflow run, with the states of a run.
type StepRun struct {
	Name   string    `json:"name"`
	Status RunStatus `json:"status"`
	// Attempt counts from 1 once the step started; 0 before.
	Attempt  int       `json:"attempt"`
	Started  time.Time `json:"started,omitzero"`
	Ended    time.Time `json:"ended,omitzero"`
	ExitCode *int      `json:"exit_code,omitempty"`
	Error    string    `json:"error,omitempty"`
	// Outputs are what the step's outputs: setting read from its output.
	Outputs map[string]any `json:"outputs,omitempty"`
}

// Workflow is a workflow as GET /v1/workflows lists it.
type Workflow struct {
	Name string `json:"name"`
	// Triggers describe its on: items ("schedule */15 * * * *", "file
	// /srv/in/*.csv", "subject orders.new", "event alert critical");
	// every workflow also runs when asked.
	Triggers    []string       `json:"triggers"`
	Steps       []WorkflowStep `json:"steps"`
	Concurrency string         `json:"concurrency"`
	Timeout     string         `json:"timeout,omitempty"` // a Go duration; "" for none
	Next        time.Time      `json:"next,omitzero"`     // the next time of a schedule trigger
	Last        *RunRef        `json:"last,omitempty"`
}

// WorkflowStep is a step of a workflow as declared.
type WorkflowStep struct {
	Name   string   `json:"name"`
	Action string   `json:"action"` // command, http, service or publish
	Needs  []string `json:"needs,omitempty"`
	If     string   `json:"if,omitempty"`
}

// WorkflowRunRequest is the optional body of POST
// /v1/workflows/{name}/run: the inputs of the run, {{.inputs.KEY}} in its
// templates and inputs.KEY in its conditions.
type WorkflowRunRequest struct {
	Inputs map[string]string `json:"inputs,omitempty"`
}
