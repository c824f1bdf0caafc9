package client

import (
	"context"
	"net/url"

	"github.com/stewardhq/steward"
)

// RegistryFilter selects instances of the registry: by tag and node, ""
// for any, and the healthy ones only when Healthy.
type RegistryFilter struct {
	Tag, Node string
	Healthy   bool
}

func (q RegistryFilter) values() url.Values {
	v := url.Values{}
	if q.Tag != "" {
		v.Set("tag", q.Tag)
	}
	if q.Node != "" {
		v.Set("node", q.Node)
	}
	if q.Healthy {
		v.Set("healthy", "1")
	}
	return v
}

// Registry lists the instances of the fleet's registry that q selects:
// all, or those of name when it is not "".
func (c *Client) Registry(ctx context.Context, name string, q RegistryFilter) ([]steward.Instance, error) {
	path := "/v1/registry"
	if name != "" {
		path += "/" + url.PathEscape(name)
	}
	var out []steward.Instance
	err := c.call(ctx, request{method: "GET", path: path, query: q.values()}, &out)
	return out, err
}

// Register registers an instance on the steward asked.
func (c *Client) Register(ctx context.Context, g steward.Registration) (steward.Instance, error) {
	rq, err := jsonRequest("POST", "/v1/registry", g)
	if err != nil {
		return steward.Instance{}, err
	}
	var out steward.Instance
	err = c.call(ctx, rq, &out)
	return out, err
}

func instancePath(name, id string) string {
	return "/v1/registry/" + url.PathEscape(name) + "/" + url.PathEscape(id)
}

// Heartbeat reports the instance id of name alive, as hb says.
func (c *Client) Heartbeat(ctx context.Context, name, id string, hb steward.Heartbeat) (steward.Instance, error) {
	rq, err := jsonRequest("PUT", instancePath(name, id)+"/heartbeat", hb)
	if err != nil {
		return steward.Instance{}, err
	}
	var out steward.Instance
	err = c.call(ctx, rq, &out)
	return out, err
}

// Deregister removes the instance id of name.
func (c *Client) Deregister(ctx context.Context, name, id string) error {
	resp, err := c.send(ctx, request{method: "DELETE", path: instancePath(name, id)})
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// Pick returns one healthy instance of name that q selects, each call the
// next in turn.
func (c *Client) Pick(ctx context.Context, name string, q RegistryFilter) (steward.Instance, error) {
	var out steward.Instance
	err := c.call(ctx, request{method: "GET", path: "/v1/registry/" + url.PathEscape(name) + "/pick", query: q.values()}, &out)
	return out, err
}
