package api_test

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/alert"
	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/api/apitest"
	"github.com/stewardhq/steward/internal/auth"
	"github.com/stewardhq/steward/internal/check"
	"github.com/stewardhq/steward/internal/client"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/events"
	"github.com/stewardhq/steward/internal/metrics"
	"github.com/stewardhq/steward/internal/report"
	"github.com/stewardhq/steward/internal/run"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/web"
)

// tenantConfig gives web, the check web-port, the job ok and the workflow
// deploy to acme; db, db-port and the job bad to globex; shared and the
// job free to no tenant.
const tenantConfig = `tenants: [acme, globex, initech]
auth:
  local:
    - {match: "uid:1001", role: admin, tenant: acme}
    - {match: "user:globex", role: admin, tenant: globex}
services:
  web: {command: [sleep, "100"], tenant: acme}
  db: {command: [sleep, "100"], tenant: globex}
  shared: {command: [sleep, "100"]}
checks:
  web-port: {tcp: "127.0.0.1:1", tenant: acme}
  db-port: {tcp: "127.0.0.1:1", tenant: globex}
jobs:
  ok: {command: [x], tenant: acme}
  bad: {command: [x], tenant: globex}
  free: {command: [x]}
workflows:
  deploy: {tenant: acme, steps: {a: {command: [x]}}}
`

// tenantOpen lists, by hand and apart from the server's table, the routes
// a principal scoped to a tenant may call: TestTenantMatrix expects a 403
// from every other.
var tenantOpen = []string{
	"GET /healthz", "GET /v1/openapi.json", "GET /v1/info",
	"GET /v1/services", "GET /v1/services/{name}", "POST /v1/services/{name}/start", "POST /v1/services/{name}/stop",
	"POST /v1/services/{name}/restart", "GET /v1/services/{name}/logs", "POST /v1/services/{name}/logs/rotate",
	"GET /v1/services/{name}/why", "GET /v1/services/{name}/exits",
	"GET /v1/events", "GET /v1/metrics/query", "GET /v1/report", "GET /v1/alerts", "GET /v1/alerts/{id}", "POST /v1/alerts/{id}/ack", "GET /v1/checks",
	"GET /v1/jobs", "POST /v1/jobs/{name}/run", "GET /v1/jobs/{name}/next",
	"GET /v1/runs", "GET /v1/runs/{id}", "GET /v1/runs/{id}/logs", "POST /v1/runs/{id}/cancel",
	"GET /v1/workflows", "POST /v1/workflows/{name}/run",
	"GET /v1/workbooks/{service}/sessions", "POST /v1/workbooks/{service}/sessions",
	"POST /v1/workbooks/{service}/sessions/{id}/write", "GET /v1/workbooks/{service}/sessions/{id}/read",
	"POST /v1/workbooks/{service}/sessions/{id}/save", "DELETE /v1/workbooks/{service}/sessions/{id}",
	"GET /v1/registry", "GET /v1/registry/{name}", "POST /v1/registry", "GET /v1/registry/{name}/pick",
	"PUT /v1/registry/{name}/{id}/heartbeat", "DELETE /v1/registry/{name}/{id}",
}

// asPrincipal gives every caller of the local endpoint one principal.
type asPrincipal steward.Principal

func (p asPrincipal) LocalPrincipal(string) steward.Principal { return steward.Principal(p) }

// peerAs names every caller of the local endpoint by the peer
// credentials peer, through l's rules: the test's own credentials would
// be the owner's, an admin of no tenant.
type peerAs struct {
	l    *auth.Local
	peer string
}

func (p peerAs) LocalPrincipal(string) steward.Principal { return p.l.LocalPrincipal(p.peer) }

// tenantWorld is what a tenant fixture's servers share: the config, a
// store with alerts and runs of each tenant's, and the events.
type tenantWorld struct {
	configs  *apitest.Configs
	events   *apitest.Events
	services *apitest.Services
	alerts   *alert.Engine
	runs     *run.Engine
	checks   fakeChecks
	metrics  *metrics.History
	reports  storeReports
	// IDs of the alerts and runs of acme's and globex's objects.
	acmeAlert, globexAlert, acmeRun, globexRun int64
}

func newTenantWorld(t *testing.T) *tenantWorld {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	cfg, err := config.Parse(filepath.Join(dir, "steward.yaml"), []byte(tenantConfig), config.Registry{})
	if err != nil {
		t.Fatal(err)
	}
	w := &tenantWorld{events: &apitest.Events{}}
	t0 := time.Now().Add(-30 * time.Minute)
	if w.configs, err = apitest.NewConfigs(filepath.Join(dir, "steward.yaml"), []byte(tenantConfig)); err != nil {
		t.Fatal(err)
	}
	w.services = apitest.NewServices(
		steward.ServiceStatus{Name: "web", Kind: "exec", State: steward.StateStopped},
		steward.ServiceStatus{Name: "db", Kind: "exec", State: steward.StateStopped},
		steward.ServiceStatus{Name: "shared", Kind: "exec", State: steward.StateStopped},
	)
	st, err := store.Open(ctx, filepath.Join(dir, "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	// The history a report reads: each service ran from t0 on.
	rec := events.NewRecorder(st)
	for _, name := range []string{"web", "db", "shared"} {
		if _, err := rec.Record(ctx, steward.Event{Time: t0, Type: steward.EventState, Service: name, From: steward.StateStarting, To: steward.StateRunning}); err != nil {
			t.Fatal(err)
		}
	}
	if err := rec.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	w.reports = storeReports{st}
	if w.metrics, err = metrics.NewHistory(ctx, metrics.HistoryOptions{Store: st}); err != nil {
		t.Fatal(err)
	}
	for _, sm := range []metrics.Sample{
		{Name: metrics.ServiceCPU, Labels: map[string]string{"service": "web"}, Value: 1, Time: t0},
		{Name: metrics.ServiceCPU, Labels: map[string]string{"service": "db"}, Value: 2, Time: t0},
		{Name: metrics.ServiceCPU, Labels: map[string]string{"service": "shared"}, Value: 3, Time: t0},
		{Name: metrics.SystemCPU, Value: 4, Time: t0},
	} {
		if err := w.metrics.Record(ctx, sm); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.metrics.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if w.alerts, err = alert.New(ctx, alert.Options{Store: st, Events: events.NewRecorder(st)}); err != nil {
		t.Fatal(err)
	}
	w.alerts.Observe(ctx, alert.Condition{Rule: alert.RuleFailed, Subject: "web", Active: true, Severity: steward.SeverityCritical})
	w.alerts.Observe(ctx, alert.Condition{Rule: alert.RuleFailed, Subject: "db", Active: true, Severity: steward.SeverityCritical})
	w.alerts.Observe(ctx, alert.Condition{Rule: alert.RuleCheck, Subject: "db-port", Active: true, Severity: steward.SeverityWarning})
	w.alerts.Observe(ctx, alert.Condition{Rule: run.RuleJobFailed, Subject: "bad", Active: true, Severity: steward.SeverityCritical})
	all, err := w.alerts.Alerts(ctx, store.AlertFilter{})
	if err != nil || len(all) != 4 {
		t.Fatalf("alerts %+v, %v", all, err)
	}
	for _, a := range all {
		switch a.Subject {
		case "web":
			w.acmeAlert = a.ID
		case "db":
			w.globexAlert = a.ID
		}
	}
	w.runs = run.New(run.Options{Store: st, Act: func(context.Context, *config.Job, steward.Run) run.Outcome {
		code := 0
		return run.Outcome{ExitCode: &code}
	}})
	t.Cleanup(w.runs.Close)
	if err := w.runs.Apply(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	for _, job := range []string{"ok", "bad", "free"} {
		r, err := w.runs.Trigger(ctx, job)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.runs.Wait(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
		switch job {
		case "ok":
			w.acmeRun = r.ID
		case "bad":
			w.globexRun = r.ID
		}
	}
	now := time.Now()
	for _, name := range []string{"web-port", "db-port"} {
		w.checks = append(w.checks, check.State{Name: name, Check: &config.Check{Name: name, TCP: "h:1"}, Last: &check.Result{Time: now}})
	}
	return w
}

// serve returns a fixture over w whose local callers are p.
func (w *tenantWorld) serve(t *testing.T, p steward.Principal) *fixture {
	return newFixture(t, func(o *api.Options) {
		o.Local = asPrincipal(p)
		o.Configs, o.Events, o.Services = w.configs, w.events, w.services
		o.Alerts, o.Runs, o.Checks = w.alerts, w.runs, w.checks
		o.Fleet = &tenantFleet{}
		o.Metrics, o.Reports = w.metrics, w.reports
	})
}

// storeReports builds reports from a store, as the daemon does.
type storeReports struct{ st *store.Store }

func (r storeReports) Report(ctx context.Context, q report.Query) (steward.Report, error) {
	return report.Build(ctx, r.st, q, report.Options{Node: "n1"})
}

// tenantPath fills path's wildcards with acme's objects; named tells
// whether it names one of them in its query.
func (w *tenantWorld) tenantPath(path string) (filled string, named bool) {
	switch path {
	case "/v1/metrics/query":
		return path + "?name=" + metrics.ServiceCPU + "&service=web", true
	case "/v1/report":
		return path + "?service=web", true
	}
	switch {
	case strings.HasPrefix(path, "/v1/jobs/"):
		path = strings.Replace(path, "{name}", "ok", 1)
	case strings.HasPrefix(path, "/v1/workflows/"):
		path = strings.Replace(path, "{name}", "deploy", 1)
	case strings.HasPrefix(path, "/v1/alerts/"):
		path = strings.Replace(path, "{id}", strconv.FormatInt(w.acmeAlert, 10), 1)
	case strings.HasPrefix(path, "/v1/runs/"):
		path = strings.Replace(path, "{id}", strconv.FormatInt(w.acmeRun, 10), 1)
	}
	return fillPath(path), strings.Contains(path, "{")
}

// TestTenantMatrix: a principal scoped to a tenant gets a 403 from every
// route not open to tenants; on the open ones it gets what an admin of no
// tenant gets for its own objects, and a 404 for another tenant's.
func TestTenantMatrix(t *testing.T) {
	w := newTenantWorld(t)
	admin := w.serve(t, steward.Principal{Who: "root", Role: steward.RoleAdmin, Via: "socket"})
	routes := api.RouteActions(admin.server)
	for _, r := range tenantOpen {
		if _, ok := routes[r]; !ok {
			t.Errorf("tenantOpen has %s, which is not a route", r)
		}
	}
	acme, globex := w.callers(t, "acme"), w.callers(t, "globex")
	for route := range routes {
		method, path, _ := strings.Cut(route, " ")
		if strings.Contains(route, "/stream") || route == "GET /v1/bus/subscribe" {
			continue
		}
		filled, named := w.tenantPath(path)
		if route == "GET /v1/events" || strings.HasSuffix(route, "/logs") {
			filled += "?follow=0"
		}
		status := func(c caller) int {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			code, err := c.do(ctx, method, filled)
			if err != nil {
				t.Fatalf("%s over %s: %v", route, c.transport, err)
			}
			return code
		}
		for i := range acme {
			a, g := acme[i], globex[i]
			if !slices.Contains(tenantOpen, route) {
				if got := status(a); got != http.StatusForbidden {
					t.Errorf("%s as a tenant's admin over %s: %d, want 403 (not open to tenants)", route, a.transport, got)
				}
				continue
			}
			// A change may not be made twice (an ack is a 409 then): acme
			// goes first, and a change needs only not be refused.
			got, want := status(a), status(socketOf(admin))
			switch {
			case method == http.MethodGet && got != want:
				t.Errorf("%s %s as acme over %s: %d, want %d as an admin of no tenant gets", method, filled, a.transport, got, want)
			case got == http.StatusUnauthorized || got == http.StatusForbidden || (got == http.StatusNotFound && want != http.StatusNotFound):
				t.Errorf("%s %s as acme over %s: %d, its own object refused (an admin of no tenant gets %d)", method, filled, a.transport, got, want)
			}
			// GET /v1/registry/{name} is a list: another tenant's
			// instances are left out of it (TestRegistryTenant).
			if named && want != http.StatusNotFound && route != "GET /v1/registry/{name}" {
				if got := status(g); got != http.StatusNotFound {
					t.Errorf("%s %s (acme's) as globex over %s: %d, want 404", method, filled, g.transport, got)
				}
			}
		}
	}
}

// socketOf calls f's local endpoint.
func socketOf(f *fixture) caller {
	return caller{"socket", "", func(ctx context.Context, method, path string) (int, error) {
		return request(ctx, f.raw, newRequest(method, "http://steward"+path))
	}}
}

// callers are an admin of tenant over the socket (a caller whose peer
// credentials the config's auth.local maps to the tenant: uid 1001 is
// acme's, the user globex globex's), over TCP with a token and through the
// dashboard with that token's session.
func (w *tenantWorld) callers(t *testing.T, tenant string) []caller {
	t.Helper()
	var rules []auth.Rule
	for _, r := range w.configs.Current().Auth.Local {
		rules = append(rules, auth.Rule{Match: r.Match, Role: r.Role, Tenant: r.Tenant})
	}
	p := peerAs{auth.NewLocal(1000, rules), "1002:" + tenant}
	if tenant == "acme" {
		p.peer = "1001:wile"
	}
	if got := p.LocalPrincipal(""); got.Tenant != tenant || got.Role != steward.RoleAdmin {
		t.Fatalf("the socket's caller for %s is %+v, want an admin of %s", tenant, got, tenant)
	}
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "tokens.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tokens := &auth.Tokens{Store: st}
	f := newFixture(t, func(o *api.Options) {
		o.Local = p
		o.Configs, o.Events, o.Services = w.configs, w.events, w.services
		o.Alerts, o.Runs, o.Checks, o.Tokens = w.alerts, w.runs, w.checks, tokens
		o.Fleet = &tenantFleet{}
		o.Metrics, o.Reports = w.metrics, w.reports
	})
	tok, err := tokens.Create(context.Background(), steward.TokenRequest{Name: tenant + "-admin", Role: steward.RoleAdmin, Tenant: tenant})
	if err != nil {
		t.Fatal(err)
	}
	tcp := httptest.NewServer(f.server.TCPHandler(tokens, nil))
	t.Cleanup(tcp.Close)
	dash := httptest.NewServer(web.New(web.Options{API: f.server.TCPHandler(tokens, nil), Tokens: tokens}))
	t.Cleanup(dash.Close)
	sid, csrf := dashboardLogin(t, dash.URL, tok.Secret)
	return []caller{
		socketOf(f),
		{"tcp", steward.RoleAdmin, func(ctx context.Context, method, path string) (int, error) {
			req := newRequest(method, tcp.URL+path)
			req.Header.Set("Authorization", "Bearer "+tok.Secret)
			return request(ctx, http.DefaultClient, req)
		}},
		{"dashboard", steward.RoleAdmin, func(ctx context.Context, method, path string) (int, error) {
			req := newRequest(method, dash.URL+path)
			req.AddCookie(&http.Cookie{Name: "steward_session", Value: sid})
			req.Header.Set("X-CSRF-Token", csrf)
			req.Header.Set("Origin", dash.URL)
			return request(ctx, http.DefaultClient, req)
		}},
	}
}

// TestTenantFilters: a tenant's principal lists only its tenant's
// services, checks, jobs, runs, workflows, alerts and events, acts on its
// own services only when it names none, and cannot make a token of a
// tenant the config does not declare.
func TestTenantFilters(t *testing.T) {
	ctx := context.Background()
	w := newTenantWorld(t)
	w.events.Record(steward.Event{Type: steward.EventSystem, Reason: "steward started"})
	w.events.Record(steward.Event{Type: steward.EventState, Service: "web", To: steward.StateRunning})
	w.events.Record(steward.Event{Type: steward.EventState, Service: "db", To: steward.StateRunning})
	w.events.Record(steward.Event{Type: steward.EventState, Service: "web", To: steward.StateStopped})
	acme := w.serve(t, steward.Principal{Who: "uid:1001:acme", Role: steward.RoleOperator, Tenant: "acme", Via: "socket"})
	c := acme.client

	names := func(list any) []string {
		var out []string
		switch l := list.(type) {
		case []steward.ServiceStatus:
			for _, v := range l {
				out = append(out, v.Name)
			}
		case []steward.CheckState:
			for _, v := range l {
				out = append(out, v.Name)
			}
		case []steward.Job:
			for _, v := range l {
				out = append(out, v.Name)
			}
		case []steward.Run:
			for _, v := range l {
				out = append(out, v.Name)
			}
		case []steward.Workflow:
			for _, v := range l {
				out = append(out, v.Name)
			}
		case []steward.Alert:
			for _, v := range l {
				out = append(out, v.Rule+":"+v.Subject)
			}
		case []steward.Event:
			for _, v := range l {
				out = append(out, v.Service+":"+string(v.To))
			}
		}
		slices.Sort(out)
		return out
	}
	check := func(what string, list any, err error, want ...string) {
		t.Helper()
		if got := names(list); err != nil || !slices.Equal(got, want) {
			t.Errorf("%s: %q, %v; want %q", what, got, err, want)
		}
	}
	svcs, err := c.Services(ctx)
	check("services", svcs, err, "web")
	checks, err := c.Checks(ctx)
	check("checks", checks, err, "web-port")
	jobs, err := c.Jobs(ctx)
	check("jobs", jobs, err, "ok")
	runs, err := c.Runs(ctx, steward.RunQuery{})
	check("runs", runs, err, "ok")
	wfs, err := c.Workflows(ctx)
	check("workflows", wfs, err, "deploy")
	alerts, err := c.Alerts(ctx, true)
	check("alerts", alerts, err, "failed:web")
	evs, err := c.Events(ctx, steward.EventQuery{})
	check("events", evs, err, "web:running", "web:stopped")
	evs, err = c.Events(ctx, steward.EventQuery{Service: "db"})
	check("events of globex's db", evs, err)

	// The event stream passes over the other tenants' events.
	code, body := followEvents(t, acme, 2)
	if code != http.StatusOK || !slices.Equal(body, []string{"2", "4"}) {
		t.Errorf("event stream: %d, ids %q; want 2 and 4", code, body)
	}

	// Starting "every service" starts acme's only.
	if out, err := c.StartAll(ctx); err != nil || !slices.Equal(names(out), []string{"web"}) {
		t.Errorf("start all as acme: %q, %v; want web", names(out), err)
	}
	for _, name := range []string{"db", "shared"} {
		if st, _ := w.services.Get(name); st.State != steward.StateStopped {
			t.Errorf("%s is %s after acme started every service, want stopped", name, st.State)
		}
	}
	if _, err := c.Start(ctx, "web", "db"); steward.ErrorCode(err) != steward.ENOTFOUND || !strings.Contains(err.Error(), `no service "db"`) {
		t.Errorf("start web and db as acme: %v, want db not found", err)
	}
	initech := w.serve(t, steward.Principal{Who: "uid:1003:initech", Role: steward.RoleOperator, Tenant: "initech", Via: "socket"})
	if out, err := initech.client.StartAll(ctx); err != nil || len(out) != 0 {
		t.Errorf("start all as a tenant without services: %+v, %v; want nothing done", out, err)
	}
	if st, _ := w.services.Get("db"); st.State != steward.StateStopped {
		t.Errorf("db is %s after initech started every service, want stopped", st.State)
	}

	// Tokens of a tenant the config declares, not of another.
	tf := newTCPFixture(t)
	tf.server = api.New(api.Options{Services: w.services, Events: w.events, Configs: w.configs, Tokens: tf.tokens})
	admin := apitest.Serve(t, tf.server.Handler())
	ac := client.New(admin)
	t.Cleanup(ac.Close)
	if _, err := ac.CreateToken(ctx, steward.TokenRequest{Name: "acme-ops", Role: steward.RoleOperator, Tenant: "acme"}); err != nil {
		t.Errorf("token of acme: %v", err)
	}
	if _, err := ac.CreateToken(ctx, steward.TokenRequest{Name: "x", Role: steward.RoleOperator, Tenant: "hooli"}); steward.ErrorCode(err) != steward.EINVALID {
		t.Errorf("token of an undeclared tenant: %v, want EINVALID", err)
	}
}

// followEvents reads the event stream of f until it has n events and
// returns the status and their ids.
func followEvents(t *testing.T, f *fixture, n int) (int, []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://steward/v1/events?follow=1", nil)
	resp, err := f.raw.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ids []string
	sc := bufio.NewScanner(resp.Body)
	for len(ids) < n && sc.Scan() {
		if id, ok := strings.CutPrefix(sc.Text(), "id: "); ok {
			ids = append(ids, id)
		}
	}
	return resp.StatusCode, ids
}
