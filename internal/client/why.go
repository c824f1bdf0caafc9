package client

import (
	"context"
	"net/url"
	"strconv"

	"github.com/stewardhq/steward"
)

// Why explains in plain words why the service name is in its state.
func (c *Client) Why(ctx context.Context, name string) (steward.Why, error) {
	var out steward.Why
	err := c.call(ctx, request{method: "GET", path: "/v1/services/" + url.PathEscape(name) + "/why"}, &out)
	return out, err
}

// Exits returns the newest limit recorded exits of the service name,
// newest first; limit 0 means the server's default.
func (c *Client) Exits(ctx context.Context, name string, limit int) ([]steward.Exit, error) {
	var out []steward.Exit
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	err := c.call(ctx, request{method: "GET", path: "/v1/services/" + url.PathEscape(name) + "/exits", query: q}, &out)
	return out, err
}
