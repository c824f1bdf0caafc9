package api

import (
	"net/http"
	"slices"
	"strings"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/run"
)

// tenantRoutes are the routes open to a principal scoped to a tenant:
// they show, and act on, that tenant's services, checks, jobs, workflows,
// runs, alerts, events, metrics, reports, workbook sessions and registry
// instances only. Every other route is the whole steward's — its config,
// tokens, audit log, OS services, bus, backups, the fleet, the Prometheus
// exposition — and refuses such a principal with a 403.
// Another tenant's object is a 404 with the text of an unknown one, so
// that its name tells nothing.
var tenantRoutes = map[string]bool{
	"GET /healthz":                                     true,
	"GET /v1/openapi.json":                             true,
	"GET /v1/info":                                     true,
	"GET /v1/services":                                 true,
	"GET /v1/services/{name}":                          true,
	"POST /v1/services/{name}/start":                   true,
	"POST /v1/services/{name}/stop":                    true,
	"POST /v1/services/{name}/restart":                 true,
	"GET /v1/services/{name}/logs":                     true,
	"POST /v1/services/{name}/logs/rotate":             true,
	"GET /v1/services/{name}/why":                      true,
	"GET /v1/services/{name}/exits":                    true,
	"GET /v1/events":                                   true,
	"GET /v1/metrics/query":                            true,
	"GET /v1/report":                                   true,
	"GET /v1/alerts":                                   true,
	"GET /v1/alerts/{id}":                              true,
	"POST /v1/alerts/{id}/ack":                         true,
	"GET /v1/checks":                                   true,
	"GET /v1/jobs":                                     true,
	"POST /v1/jobs/{name}/run":                         true,
	"GET /v1/jobs/{name}/next":                         true,
	"GET /v1/runs":                                     true,
	"GET /v1/runs/{id}":                                true,
	"GET /v1/runs/{id}/logs":                           true,
	"POST /v1/runs/{id}/cancel":                        true,
	"GET /v1/workflows":                                true,
	"POST /v1/workflows/{name}/run":                    true,
	"GET /v1/workbooks/{service}/sessions":             true,
	"POST /v1/workbooks/{service}/sessions":            true,
	"POST /v1/workbooks/{service}/sessions/{id}/write": true,
	"GET /v1/workbooks/{service}/sessions/{id}/read":   true,
	"POST /v1/workbooks/{service}/sessions/{id}/save":  true,
	"DELETE /v1/workbooks/{service}/sessions/{id}":     true,
	"GET /v1/registry":                                 true,
	"GET /v1/registry/{name}":                          true,
	"POST /v1/registry":                                true,
	"GET /v1/registry/{name}/pick":                     true,
	"PUT /v1/registry/{name}/{id}/heartbeat":           true,
	"DELETE /v1/registry/{name}/{id}":                  true,
}

// tenancy tells, for a request, which objects its principal may see: all
// of them when it is not scoped to a tenant, else those of its tenant in
// the config applied now.
type tenancy struct {
	tenant string // "" when the principal is not scoped to one
	cfg    *config.Config
}

// tenancy returns the tenancy of r's principal.
func (s *Server) tenancy(r *http.Request) tenancy {
	p, _ := s.principal(r.Context())
	t := tenancy{tenant: p.Tenant}
	if t.tenant != "" {
		t.cfg = s.opts.Configs.Current()
	}
	return t
}

// all reports whether the principal sees every object.
func (t tenancy) all() bool { return t.tenant == "" }

func (t tenancy) service(name string) bool {
	if t.all() {
		return true
	}
	sv := t.cfg.Services[name]
	return sv != nil && sv.Tenant == t.tenant
}

func (t tenancy) check(name string) bool {
	if t.all() {
		return true
	}
	c := t.cfg.Checks[name]
	return c != nil && c.Tenant == t.tenant
}

func (t tenancy) job(name string) bool {
	if t.all() {
		return true
	}
	j := t.cfg.Jobs[name]
	return j != nil && j.Tenant == t.tenant
}

func (t tenancy) workflow(name string) bool {
	if t.all() {
		return true
	}
	w := t.cfg.Workflows[name]
	return w != nil && w.Tenant == t.tenant
}

// run reports whether r's job or workflow is visible.
func (t tenancy) run(r steward.Run) bool {
	if r.Kind == steward.RunKindWorkflow {
		return t.workflow(r.Name)
	}
	return t.job(r.Name)
}

// alert reports whether a's subject is visible: its check, its job or its
// service; an alert about the machine is no tenant's.
func (t tenancy) alert(a steward.Alert) bool {
	switch a.Rule {
	case "check":
		return t.check(a.Subject)
	case run.RuleJobFailed, run.RuleDeadMan:
		return t.job(a.Subject)
	}
	return t.service(a.Service())
}

// event reports whether ev is visible: an event of a visible service; an
// event of no service is no tenant's.
func (t tenancy) event(ev steward.Event) bool {
	return t.all() || (ev.Service != "" && t.service(ev.Service))
}

// visible returns the items of list that ok keeps, never nil.
func visible[T any](list []T, ok func(T) bool) []T {
	out := make([]T, 0, len(list))
	for _, v := range list {
		if ok(v) {
			out = append(out, v)
		}
	}
	return out
}

// guardTenant refuses a principal of tenant t a route not open to tenants
// (403), and the object of another tenant a path names (404, with the text
// of an unknown one). A path parameter that does not parse is left to the
// handler.
func (s *Server) guardTenant(rt route, r *http.Request, t tenancy) error {
	if !tenantRoutes[rt.method+" "+rt.path] {
		return steward.Errorf(steward.EFORBIDDEN, "%s %s is not open to a principal scoped to a tenant (%s)", r.Method, r.URL.Path, t.tenant)
	}
	switch {
	case strings.HasPrefix(rt.path, "/v1/services/{name}"):
		if name := r.PathValue("name"); name != "-" && !t.service(name) {
			return steward.Errorf(steward.ENOTFOUND, "no service %q", name)
		}
	case strings.HasPrefix(rt.path, "/v1/workbooks/{service}"):
		if name := r.PathValue("service"); !t.service(name) {
			return steward.Errorf(steward.ENOTFOUND, "no service %q", name)
		}
	case strings.HasPrefix(rt.path, "/v1/jobs/{name}"):
		if name := r.PathValue("name"); !t.job(name) {
			return steward.Errorf(steward.ENOTFOUND, "job %q not found", name)
		}
	case strings.HasPrefix(rt.path, "/v1/workflows/{name}"):
		if name := r.PathValue("name"); !t.workflow(name) {
			return steward.Errorf(steward.ENOTFOUND, "workflow %q not found", name)
		}
	case strings.HasPrefix(rt.path, "/v1/runs/{id}") && s.opts.Runs != nil:
		if id, err := idParam(r, "run"); err == nil {
			if got, err := s.opts.Runs.Get(r.Context(), id); err == nil && !t.run(got) {
				return steward.Errorf(steward.ENOTFOUND, "run %d not found", id)
			}
		}
	case strings.HasPrefix(rt.path, "/v1/alerts/{id}") && s.opts.Alerts != nil:
		if id, err := idParam(r, "alert"); err == nil {
			if got, err := s.opts.Alerts.Alert(r.Context(), id); err == nil && !t.alert(got) {
				return steward.Errorf(steward.ENOTFOUND, "alert %d not found", id)
			}
		}
	}
	return nil
}

// ownServices returns the services an action of t on names acts on: for
// no names, every service of t's that is not disabled (none at all is an
// empty list, not every service); else names, when t sees each, or a 404 for the first it does
// not.
func ownServices(t tenancy, names []string) ([]string, error) {
	if t.all() {
		return names, nil
	}
	if names == nil {
		own := []string{}
		for _, n := range t.cfg.Order {
			if t.service(n) && !t.cfg.Services[n].Disabled {
				own = append(own, n)
			}
		}
		return own, nil
	}
	if i := slices.IndexFunc(names, func(n string) bool { return !t.service(n) }); i >= 0 {
		return nil, steward.Errorf(steward.ENOTFOUND, "no service %q", names[i])
	}
	return names, nil
}
