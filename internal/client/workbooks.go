package client

import (
	"context"
	"net/url"

	"github.com/stewardhq/steward"
)

func sessionsPath(service string) string {
	return "/v1/workbooks/" + url.PathEscape(service) + "/sessions"
}

func sessionPath(service, id string) string {
	return sessionsPath(service) + "/" + url.PathEscape(id)
}

// WorkbookSessions returns the open sessions of a workbook service.
func (c *Client) WorkbookSessions(ctx context.Context, service string) ([]steward.WorkbookSession, error) {
	var out []steward.WorkbookSession
	err := c.call(ctx, request{method: "GET", path: sessionsPath(service)}, &out)
	return out, err
}

// CreateWorkbookSession opens a session of a workbook service: blank, or
// from a template file under its dir.
func (c *Client) CreateWorkbookSession(ctx context.Context, service, template string) (steward.WorkbookSession, error) {
	rq, err := jsonRequest("POST", sessionsPath(service), steward.WorkbookCreateRequest{Template: template})
	if err != nil {
		return steward.WorkbookSession{}, err
	}
	var out steward.WorkbookSession
	err = c.call(ctx, rq, &out)
	return out, err
}

// WriteWorkbook writes req in session id of a workbook service.
func (c *Client) WriteWorkbook(ctx context.Context, service, id string, req steward.WorkbookWriteRequest) (steward.WorkbookWritten, error) {
	rq, err := jsonRequest("POST", sessionPath(service, id)+"/write", req)
	if err != nil {
		return steward.WorkbookWritten{}, err
	}
	var out steward.WorkbookWritten
	err = c.call(ctx, rq, &out)
	return out, err
}

// ReadWorkbook returns the values of rng of sheet in session id.
func (c *Client) ReadWorkbook(ctx context.Context, service, id, sheet, rng string) (steward.WorkbookRange, error) {
	var out steward.WorkbookRange
	q := url.Values{"sheet": {sheet}, "range": {rng}}
	err := c.call(ctx, request{method: "GET", path: sessionPath(service, id) + "/read", query: q}, &out)
	return out, err
}

// SaveWorkbook saves session id to the file as under the service's dir, or
// to the session's file when as is empty.
func (c *Client) SaveWorkbook(ctx context.Context, service, id, as string) (steward.WorkbookSaved, error) {
	rq, err := jsonRequest("POST", sessionPath(service, id)+"/save", steward.WorkbookSaveRequest{As: as})
	if err != nil {
		return steward.WorkbookSaved{}, err
	}
	var out steward.WorkbookSaved
	err = c.call(ctx, rq, &out)
	return out, err
}

// CloseWorkbookSession closes session id without saving it.
func (c *Client) CloseWorkbookSession(ctx context.Context, service, id string) error {
	resp, err := c.send(ctx, request{method: "DELETE", path: sessionPath(service, id)})
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}
