package client

import (
	"context"
	"net/url"

	"github.com/stewardhq/steward"
)

// WithNode sends every request to the fleet's node name, through the
// steward the Client talks to: the paths go under
// /v1/nodes/NAME/proxy.
func WithNode(name string) Option {
	return func(c *Client) { c.prefix = "/v1/nodes/" + url.PathEscape(name) + "/proxy" }
}

// Nodes lists the nodes of the fleet as the steward sees them.
func (c *Client) Nodes(ctx context.Context) ([]steward.Node, error) {
	var out []steward.Node
	err := c.call(ctx, request{method: "GET", path: "/v1/nodes"}, &out)
	return out, err
}

// Fleet sends GET path?query to every node of the fleet at once (GET
// /v1/fleet/PATH): each answer with its node, those of the nodes that gave
// none with an error.
func (c *Client) Fleet(ctx context.Context, path string, query url.Values) ([]steward.FleetAnswer, error) {
	var out []steward.FleetAnswer
	err := c.call(ctx, request{method: "GET", path: "/v1/fleet" + path, query: query}, &out)
	return out, err
}
