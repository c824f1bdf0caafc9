package api_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/auth"
	"github.com/stewardhq/steward/internal/metrics"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/web"
)

// othersNames are the names of what acme may not see, as they would show
// in a report's HTML or XLSX: globex's and no tenant's services, checks
// and jobs.
var othersNames = []string{">db<", ">shared<", ">db-port<", ">bad<", ">free<"}

// TestTenantMetricsAndReport: a tenant's principal reads the metrics of its
// services only (not the machine's, not another tenant's), and a report of
// its services, incidents and jobs only, without a machine section, in
// every format; naming another tenant's service is a 404.
func TestTenantMetricsAndReport(t *testing.T) {
	ctx := context.Background()
	w := newTenantWorld(t)
	acme := w.serve(t, steward.Principal{Who: "uid:1001:acme", Role: steward.RoleViewer, Tenant: "acme", Via: "socket"})
	admin := w.serve(t, steward.Principal{Who: "root", Role: steward.RoleAdmin, Via: "socket"})

	seriesOf := func(c *fixture, q steward.MetricQuery) []string {
		t.Helper()
		list, err := c.client.QueryMetrics(ctx, q)
		if err != nil {
			t.Fatalf("query %+v: %v", q, err)
		}
		var out []string
		for _, se := range list {
			out = append(out, se.Labels["service"])
		}
		return out
	}
	if got := seriesOf(acme, steward.MetricQuery{Name: metrics.ServiceCPU}); !slices.Equal(got, []string{"web"}) {
		t.Errorf("CPU series as acme: %q, want web only", got)
	}
	if got := seriesOf(admin, steward.MetricQuery{Name: metrics.ServiceCPU}); len(got) != 3 {
		t.Errorf("CPU series as an admin: %q, want all three", got)
	}
	if got := seriesOf(acme, steward.MetricQuery{Name: metrics.SystemCPU}); len(got) != 0 {
		t.Errorf("machine CPU as acme: %d series, want none", len(got))
	}
	if got := seriesOf(admin, steward.MetricQuery{Name: metrics.SystemCPU}); len(got) != 1 {
		t.Errorf("machine CPU as an admin: %d series, want 1", len(got))
	}
	_, err := acme.client.QueryMetrics(ctx, steward.MetricQuery{Name: metrics.ServiceCPU, Labels: map[string]string{"service": "db"}})
	if steward.ErrorCode(err) != steward.ENOTFOUND || !strings.Contains(err.Error(), `no service "db"`) {
		t.Errorf("db's CPU as acme: %v, want no service \"db\"", err)
	}

	var rep steward.Report
	status, _, body := acme.do(t, "GET", "/v1/report?since=1h", nil)
	if status != http.StatusOK || json.Unmarshal(body, &rep) != nil {
		t.Fatalf("report as acme: %d %s", status, body)
	}
	var names, incidents, jobs []string
	for _, s := range rep.Services {
		names = append(names, s.Name)
	}
	for _, in := range rep.Incidents {
		incidents = append(incidents, in.Subject)
	}
	for _, j := range rep.Jobs {
		jobs = append(jobs, j.Name)
	}
	if !slices.Equal(names, []string{"web"}) || !slices.Equal(incidents, []string{"web"}) || !slices.Equal(jobs, []string{"ok"}) {
		t.Errorf("report as acme: services %q, incidents %q, jobs %q; want web, web, ok", names, incidents, jobs)
	}
	if m := rep.Machine; m.CPU != nil || m.Memory != nil || len(m.Disks) != 0 {
		t.Errorf("report as acme has a machine section: %+v", m)
	}
	var all steward.Report
	if _, _, body := admin.do(t, "GET", "/v1/report?since=1h", nil); json.Unmarshal(body, &all) != nil || all.Machine.CPU == nil || len(all.Services) != 3 {
		t.Errorf("report as an admin: %s; want the machine's CPU and three services", body)
	}
	if status, _, body := acme.do(t, "GET", "/v1/report?service=web&service=db", nil); status != http.StatusNotFound || !strings.Contains(string(body), `no service \"db\"`) {
		t.Errorf("report of web and db as acme: %d %s, want 404 no service db", status, body)
	}

	// No format shows another tenant's names: CSV tables, HTML, XLSX
	// sheets and chart series. The admin's show them (the test can fail).
	for _, section := range steward.ReportSections {
		_, _, body := acme.do(t, "GET", "/v1/report?since=1h&format=csv&section="+section, nil)
		rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatalf("CSV %s: %v", section, err)
		}
		for _, row := range rows[1:] {
			if name := row[0]; section != steward.ReportMachine && section != steward.ReportIncidents && name != "web" && name != "ok" {
				t.Errorf("CSV %s as acme has a row of %q", section, name)
			}
			if section == steward.ReportIncidents && !slices.Contains(row, "web") {
				t.Errorf("CSV incidents as acme has %q", row)
			}
		}
	}
	for _, tt := range []struct{ format, read string }{{"html", "text"}, {"xlsx", "zip"}} {
		text := func(f *fixture) string {
			_, _, body := f.do(t, "GET", "/v1/report?since=1h&format="+tt.format, nil)
			if tt.read == "text" {
				return string(body)
			}
			return unzipText(t, body)
		}
		mine, all := text(acme), text(admin)
		if !strings.Contains(mine, ">web<") {
			t.Errorf("%s report as acme does not name web", tt.format)
		}
		for _, name := range othersNames {
			if strings.Contains(mine, name) {
				t.Errorf("%s report as acme holds %s", tt.format, name)
			}
			if !strings.Contains(all, name) {
				t.Errorf("%s report as an admin does not hold %s: the test would miss it", tt.format, name)
			}
		}
	}
}

// TestTenantDashboard: a tenant's dashboard session sees its services'
// pages, charts and report, not the machine's figures, the config or
// another tenant's names, and no link to the pages of the whole steward.
func TestTenantDashboard(t *testing.T) {
	w := newTenantWorld(t)
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "tokens.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tokens := &auth.Tokens{Store: st}
	f := newFixture(t, func(o *api.Options) {
		o.Configs, o.Events, o.Services = w.configs, w.events, w.services
		o.Alerts, o.Runs, o.Checks, o.Tokens = w.alerts, w.runs, w.checks, tokens
		o.Metrics, o.Reports = w.metrics, w.reports
	})
	dash := httptest.NewServer(web.New(web.Options{API: f.server.TCPHandler(tokens, nil), Tokens: tokens}))
	t.Cleanup(dash.Close)
	n := 0
	page := func(role, tenant, path string) (int, string) {
		t.Helper()
		n++
		tok, err := tokens.Create(context.Background(), steward.TokenRequest{Name: "t" + strconv.Itoa(n), Role: role, Tenant: tenant})
		if err != nil {
			t.Fatal(err)
		}
		sid, _ := dashboardLogin(t, dash.URL, tok.Secret)
		req, _ := http.NewRequest("GET", dash.URL+path, nil)
		req.AddCookie(&http.Cookie{Name: "steward_session", Value: sid})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, path := range []string{"/", "/services", "/services/web", "/report?since=1h", "/runs", "/events", "/alerts"} {
		code, body := page(steward.RoleViewer, "acme", path)
		if code != http.StatusOK {
			t.Errorf("%s as acme: %d\n%s", path, code, body)
			continue
		}
		for _, name := range othersNames {
			if strings.Contains(body, name) {
				t.Errorf("%s as acme holds %s", path, name)
			}
		}
		for _, link := range []string{`href="/config"`, `href="/bus"`} {
			if strings.Contains(body, link) {
				t.Errorf("%s as acme links to %s, which is not open to tenants", path, link)
			}
		}
		if !strings.Contains(body, "tenant acme") {
			t.Errorf("%s as acme does not show the session's tenant", path)
		}
	}
	if _, body := page(steward.RoleViewer, "acme", "/"); !strings.Contains(body, "a principal of a tenant does not see them") {
		t.Errorf("overview as acme does not say why the machine is not shown:\n%s", body)
	}
	if _, body := page(steward.RoleOperator, "acme", "/alerts"); !strings.Contains(body, `data-tenant="acme"`) || !strings.Contains(body, "data-no-tenant data-silence") || strings.Contains(body, "alerts-silences") {
		t.Errorf("alerts page as acme: want its silence buttons marked for a tenant and no silences section:\n%s", body)
	}
	if _, body := page(steward.RoleViewer, "acme", "/services/web"); !strings.Contains(body, "the config is not shown to a principal of a tenant") {
		t.Errorf("web's page as acme does not say why its config is not shown:\n%s", body)
	}
	if code, _ := page(steward.RoleViewer, "acme", "/services/db"); code != http.StatusNotFound {
		t.Errorf("db's page as acme: %d, want 404", code)
	}
	// An admin of no tenant sees it all: the checks above could fail.
	if _, body := page(steward.RoleAdmin, "", "/report?since=1h"); !strings.Contains(body, ">db<") || !strings.Contains(body, `href="/config"`) {
		t.Errorf("report page as an admin does not name db or link to the config")
	}
}

// unzipText is the text of every file of the zip archive b.
func unzipText(t *testing.T, b []byte) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		all.Write(data)
	}
	return all.String()
}
