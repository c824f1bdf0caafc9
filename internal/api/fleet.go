package api

import (
	"context"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/fleet"
)

// Fleet is the fleet as the API drives it: the nodes, requests for other
// nodes, and the registry. Like Bus it has a method per route, for every
// route of the fleet uses one part.
type Fleet interface {
	Nodes() ([]steward.Node, error)
	// Forward sends the request to node and writes its answer to w.
	Forward(ctx context.Context, node string, rq fleet.Request, w http.ResponseWriter) error
	FanOut(ctx context.Context, target string, p steward.Principal) ([]steward.FleetAnswer, error)
	Instances(q fleet.Filter) ([]steward.Instance, error)
	// Register, Heartbeat and Deregister act on this node's registrations
	// (of tenant, "" for any); Pick returns a healthy instance of the
	// fleet, each in turn.
	Register(g fleet.Registration) (steward.Instance, error)
	Heartbeat(name, id, tenant string, passing bool, note string) (steward.Instance, error)
	Deregister(name, id, tenant string) error
	Pick(q fleet.Filter) (steward.Instance, error)
}

var errNoFleet = steward.Errorf(steward.ECONFLICT, "no fleet: add a bus: section to the configuration")

// WithPrincipal marks ctx as a request of p: one another node forwarded,
// which the API authorizes and audits as p's.
func WithPrincipal(ctx context.Context, p steward.Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, &p)
}

// WriteError writes err as the API's JSON error answer.
func WriteError(w http.ResponseWriter, err error) {
	status, body := errorResponse(err)
	writeJSON(w, status, steward.ErrorResponse{Error: body})
}

func (s *Server) fleet() (Fleet, error) {
	if s.opts.Fleet == nil {
		return nil, errNoFleet
	}
	return s.opts.Fleet, nil
}

// nodes serves GET /v1/nodes.
func (s *Server) nodes(w http.ResponseWriter, r *http.Request) error {
	f, err := s.fleet()
	if err != nil {
		return err
	}
	list, err := f.Nodes()
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list)
}

// fleetTarget is the API request a fleet route carries: "/" + the path
// wildcard and the query. A request for the fleet routes themselves is
// refused: a fleet request goes one hop.
func fleetTarget(r *http.Request) (string, error) {
	p := "/" + r.PathValue("path")
	if clean := path.Clean(p) + "/"; strings.HasPrefix(clean, "/v1/nodes/") || strings.HasPrefix(clean, "/v1/fleet/") {
		return "", steward.Errorf(steward.EINVALID, "a fleet request cannot carry another: %s", p)
	}
	target := (&url.URL{Path: p}).EscapedPath() // the node unescapes it once, to p
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	return target, nil
}

// streaming reports whether r asks for an answer that streams.
func streaming(r *http.Request) bool {
	if strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
		return true
	}
	follow, _ := boolParam("follow", r.URL.Query().Get("follow"))
	return follow
}

// proxy serves METHOD /v1/nodes/{node}/proxy/{path...}: the API request
// METHOD /{path} answered by node.
func (s *Server) proxy(w http.ResponseWriter, r *http.Request) error {
	target, err := fleetTarget(r)
	if err != nil {
		return err
	}
	node := r.PathValue("node")
	if node == s.opts.Node {
		req := r.Clone(r.Context())
		req.URL.Path, req.URL.RawPath, req.RequestURI = "/"+r.PathValue("path"), "", ""
		s.handler.ServeHTTP(w, req)
		return nil
	}
	f, err := s.fleet()
	if err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	p, _ := s.principal(r.Context())
	rq := fleet.Request{Method: r.Method, Target: target, Header: r.Header, Body: body, Principal: p, Stream: streaming(r)}
	if rq.Stream {
		w.Header().Set("Trailer", steward.StreamErrorTrailer)
	}
	err = f.Forward(r.Context(), node, rq, w)
	if rw, ok := w.(*responseWriter); ok && rw.wrote && err != nil && rq.Stream {
		w.Header().Set(steward.StreamErrorTrailer, err.Error())
	}
	return err
}

// fanOut serves GET /v1/fleet/{path...}: GET /{path} answered by every
// node that is up, each answer with its node.
func (s *Server) fanOut(w http.ResponseWriter, r *http.Request) error {
	target, err := fleetTarget(r)
	if err != nil {
		return err
	}
	if streaming(r) {
		return steward.Errorf(steward.EINVALID, "a stream cannot be fanned out to the fleet: ask each node (--node)")
	}
	f, err := s.fleet()
	if err != nil {
		return err
	}
	p, _ := s.principal(r.Context())
	list, err := f.FanOut(r.Context(), target, p)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list)
}

// registryFilter is the filter of the registry routes' query: tag, node,
// healthy and, for the list of all, name; a principal scoped to a tenant
// sees that tenant's instances only.
func (s *Server) registryFilter(r *http.Request) (fleet.Filter, error) {
	q := r.URL.Query()
	healthy, err := boolParam("healthy", q.Get("healthy"))
	return fleet.Filter{Name: q.Get("name"), Tag: q.Get("tag"), Node: q.Get("node"), Healthy: healthy,
		Tenant: s.tenancy(r).tenant}, err
}

// listRegistry serves GET /v1/registry?name=&tag=&node=&healthy=.
func (s *Server) listRegistry(w http.ResponseWriter, r *http.Request) error {
	q, err := s.registryFilter(r)
	if err != nil {
		return err
	}
	return s.instances(w, q)
}

// getRegistry serves GET /v1/registry/{name}?tag=&node=&healthy=.
func (s *Server) getRegistry(w http.ResponseWriter, r *http.Request) error {
	q, err := s.registryFilter(r)
	if err != nil {
		return err
	}
	q.Name = r.PathValue("name")
	return s.instances(w, q)
}

func (s *Server) instances(w http.ResponseWriter, q fleet.Filter) error {
	f, err := s.fleet()
	if err != nil {
		return err
	}
	list, err := f.Instances(q)
	if err != nil {
		return err
	}
	if list == nil {
		list = []steward.Instance{}
	}
	return writeJSON(w, http.StatusOK, list)
}
