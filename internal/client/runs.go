package client

import (
	"context"
	"net/url"
	"strconv"

	"github.com/stewardhq/steward"
)

// Jobs returns the jobs in force, each with its next scheduled time and
// its last run.
func (c *Client) Jobs(ctx context.Context) ([]steward.Job, error) {
	var out []steward.Job
	err := c.call(ctx, request{method: "GET", path: "/v1/jobs"}, &out)
	return out, err
}

// RunJob starts a manual run of job name and returns it; with wait, once
// it and its retries have ended, the last of them.
func (c *Client) RunJob(ctx context.Context, name string, wait bool) (steward.Run, error) {
	var out steward.Run
	q := url.Values{}
	if wait {
		q.Set("wait", "1")
	}
	err := c.call(ctx, request{method: "POST", path: "/v1/jobs/" + url.PathEscape(name) + "/run", query: q}, &out)
	return out, err
}

// JobNext returns the next n scheduled times of job name.
func (c *Client) JobNext(ctx context.Context, name string, n int) (steward.JobNext, error) {
	var out steward.JobNext
	q := url.Values{"n": {strconv.Itoa(n)}}
	err := c.call(ctx, request{method: "GET", path: "/v1/jobs/" + url.PathEscape(name) + "/next", query: q}, &out)
	return out, err
}

// Runs returns the runs q selects, newest first.
func (c *Client) Runs(ctx context.Context, q steward.RunQuery) ([]steward.Run, error) {
	var out []steward.Run
	err := c.call(ctx, request{method: "GET", path: "/v1/runs", query: q.Values()}, &out)
	return out, err
}

// Run returns run id.
func (c *Client) Run(ctx context.Context, id int64) (steward.Run, error) {
	var out steward.Run
	err := c.call(ctx, request{method: "GET", path: "/v1/runs/" + strconv.FormatInt(id, 10)}, &out)
	return out, err
}

// RunLogs returns the captured output of run id.
func (c *Client) RunLogs(ctx context.Context, id int64) (steward.RunLog, error) {
	var out steward.RunLog
	err := c.call(ctx, request{method: "GET", path: "/v1/runs/" + strconv.FormatInt(id, 10) + "/logs"}, &out)
	return out, err
}

// CancelRun cancels run id and returns it once it is stored as cancelled.
func (c *Client) CancelRun(ctx context.Context, id int64) (steward.Run, error) {
	var out steward.Run
	err := c.call(ctx, request{method: "POST", path: "/v1/runs/" + strconv.FormatInt(id, 10) + "/cancel"}, &out)
	return out, err
}

// Workflows returns the workflows, in file order.
func (c *Client) Workflows(ctx context.Context) ([]steward.Workflow, error) {
	var out []steward.Workflow
	err := c.call(ctx, request{method: "GET", path: "/v1/workflows"}, &out)
	return out, err
}

// RunWorkflow starts a run of workflow name with req's inputs and returns
// it; with wait, once it has ended, with its steps.
func (c *Client) RunWorkflow(ctx context.Context, name string, req steward.WorkflowRunRequest, wait bool) (steward.Run, error) {
	var out steward.Run
	rq, _ := jsonRequest("POST", "/v1/workflows/"+url.PathEscape(name)+"/run", req) // a map of strings always encodes
	if wait {
		rq.query = url.Values{"wait": {"1"}}
	}
	err := c.call(ctx, rq, &out)
	return out, err
}
