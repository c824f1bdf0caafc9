package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/stewardhq/steward"
)

// fleetData is what the fleet page shows: the nodes and the registry.
type fleetData struct {
	// Off says why there is no fleet to show ("" when there is).
	Off       string
	Nodes     []steward.Node
	Up        int
	Instances []steward.Instance
}

func (h *Handler) fleetPage(r *http.Request, s *session, v *view) error {
	v.Template, v.Title, v.Nav = "fleet", "Fleet", "fleet"
	v.Refresh = 5 // presence is heartbeats, not events
	d := &fleetData{}
	v.Data = d
	var ae *apiError
	switch err := h.call(r, s, "GET", "/v1/nodes", &d.Nodes); {
	case errors.As(err, &ae) && (ae.status == http.StatusConflict || ae.status == http.StatusServiceUnavailable):
		d.Off = ae.body.Message
		return nil
	case err != nil:
		return err
	}
	for _, n := range d.Nodes {
		if n.State == steward.NodeUp {
			d.Up++
		}
	}
	return h.call(r, s, "GET", "/v1/registry", &d.Instances)
}

// nodeData is what a node's page shows, all of it asked of the node
// through the fleet: its services, its recent events and, with
// ?service=NAME, that service's output, which the page follows live
// through the node's proxy route.
type nodeData struct {
	Node     steward.Node
	Known    bool
	Error    string // why the node gave no answer
	Services []steward.ServiceStatus
	Events   []steward.Event
	Service  string // the service whose output is shown, one of Services
	Proxy    string // the path of the node's proxy route
}

func (h *Handler) nodePage(r *http.Request, s *session, v *view) error {
	name := r.PathValue("node")
	v.Template, v.Title, v.Nav = "node", name, "fleet"
	v.Refresh = 5
	d := &nodeData{Node: steward.Node{Name: name}, Service: r.URL.Query().Get("service")}
	v.Data = d
	var nodes []steward.Node
	if err := h.call(r, s, "GET", "/v1/nodes", &nodes); err != nil {
		return err
	}
	if i := slices.IndexFunc(nodes, func(n steward.Node) bool { return n.Name == name }); i >= 0 {
		d.Node, d.Known = nodes[i], true
	}
	if !d.Known {
		v.Status = http.StatusNotFound
		return nil
	}
	proxy := "/v1/nodes/" + url.PathEscape(name) + "/proxy"
	d.Proxy = proxy
	var ae *apiError
	switch err := h.call(r, s, "GET", proxy+"/v1/services", &d.Services); {
	case errors.As(err, &ae) && ae.status != http.StatusUnauthorized:
		d.Error = ae.body.Message
		return nil
	case err != nil:
		return err
	}
	if err := h.call(r, s, "GET", proxy+"/v1/events?limit=50", &d.Events); err != nil {
		return err
	}
	slices.Reverse(d.Events)
	if !slices.ContainsFunc(d.Services, func(st steward.ServiceStatus) bool { return st.Name == d.Service }) {
		d.Service = ""
	}
	return nil
}
