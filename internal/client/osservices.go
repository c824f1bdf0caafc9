package client

import (
	"context"
	"net/url"

	"github.com/stewardhq/steward"
)

// OSServices returns the services of the OS service manager of steward's machine.
func (c *Client) OSServices(ctx context.Context) ([]steward.OSService, error) {
	var out []steward.OSService
	err := c.call(ctx, request{method: "GET", path: "/v1/os-services"}, &out)
	return out, err
}

// OSService returns the OS service name.
func (c *Client) OSService(ctx context.Context, name string) (steward.OSService, error) {
	var out steward.OSService
	err := c.call(ctx, request{method: "GET", path: "/v1/os-services/" + url.PathEscape(name)}, &out)
	return out, err
}

// OSServiceAction starts, stops or restarts (verb) the OS service name and
// returns it as it is afterwards.
func (c *Client) OSServiceAction(ctx context.Context, verb, name string) (steward.OSService, error) {
	var out steward.OSService
	err := c.call(ctx, request{method: "POST", path: "/v1/os-services/" + url.PathEscape(name) + "/" + url.PathEscape(verb)}, &out)
	return out, err
}
