package client

import (
	"context"
	"io"

	"github.com/stewardhq/steward"
)

// Report returns the report q asks for, in its format: the body of GET
// /v1/report.
func (c *Client) Report(ctx context.Context, q steward.ReportQuery) ([]byte, error) {
	resp, err := c.send(ctx, request{method: "GET", path: "/v1/report", query: q.Values()})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}
