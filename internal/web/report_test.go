package web

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/report"
)

// fakeReports reports two services over the range asked: web, below its
// SLO with two crashes, and db, always up; an open incident, a job and the
// machine's figures.
type fakeReports struct{}

func (fakeReports) Report(_ context.Context, q report.Query) (steward.Report, error) {
	f := func(v float64) *float64 { return &v }
	hour := q.Since
	return steward.Report{Node: "web-01", Since: q.Since, Until: q.Until, Generated: q.Until, Step: 3600,
		Services: []steward.ServiceReport{
			{Name: "db", Availability: f(100), Expected: 7200, Up: 7200, Outages: 0,
				Buckets: []steward.Availability{{Start: hour, Percent: f(100), Up: 3600}, {Start: hour.Add(time.Hour), Percent: f(100), Up: 3600}},
				CPU:     &steward.Distribution{P50: 1, P95: 2.5, Max: 3, Samples: 10}, RSS: &steward.Distribution{P95: 12 << 20}},
			{Name: "web", Availability: f(97.5), Expected: 7200, Up: 7020, Down: 180, SLO: 99.9, ErrorBudget: f(7.2), BudgetLeft: f(-2400),
				Crashes: 2, Manual: 1, Outages: 2, MTTR: f(90), MTBF: f(3510),
				Buckets: []steward.Availability{{Start: hour}, {Start: hour.Add(time.Hour), Percent: f(95), Up: 3420, Down: 180}}},
			{Name: "cache", Availability: f(99.4), Expected: 7200, Up: 7157, Down: 43, SLO: 99.5, ErrorBudget: f(36), BudgetLeft: f(10),
				Buckets: []steward.Availability{{Start: hour, Percent: f(99), Up: 3564, Down: 36}, {Start: hour.Add(time.Hour), Percent: f(99.8), Up: 3593, Down: 7}}},
			{Name: "migrate", Planned: 7200, Buckets: []steward.Availability{}},
		},
		Incidents: []steward.Incident{{ID: 1, Rule: "restarting", Subject: "web", Severity: steward.SeverityWarning, Message: "exit status 1",
			Started: q.Until.Add(-time.Hour), Duration: 3600, Open: true}},
		MTTR: f(600),
		Jobs: []steward.JobReport{{Name: "nightly", Runs: 4, Succeeded: 3, Failed: 1, Success: 75, DurationP50: 12, DurationP95: 80}},
		Machine: steward.MachineReport{CPU: &steward.Distribution{P95: 40}, Memory: &steward.Distribution{P95: 61.25},
			Disks: []steward.DiskReport{{Mount: "/", Used: steward.Distribution{P95: 80}}}},
	}, nil
}

func TestReportPage(t *testing.T) {
	f := newFixture(t, true)
	sid, _ := f.login()
	w := f.do(request{path: "/report", cookie: sid})
	body := w.Body.String()
	if w.Code != http.StatusOK {
		t.Fatalf("GET /report: %d\n%s", w.Code, body)
	}
	for _, want := range []string{
		`<a href="/report" aria-current="page">`,
		`<a href="/report?since=7d" aria-current="true">7d</a>`,
		`<a href="/report?since=30d">30d</a>`,
		`<tr data-service="web" data-level="crit">`,
		`<span class="lvl lvl-crit">97.500%</span>`,
		`99.9% <span class="tag lvl-bg-crit">-2400.0% left</span>`,
		`<td data-label="Crashes" class="num rep-crashes">2</td>`,
		`<td data-label="MTTR" class="num">1m 30s</td>`,
		`<rect class="cell-none" x="0" width="50" height="10"><title>`,
		`<rect class="cell-crit" x="50" width="50" height="10"><title>`,
		`3m 0s down</title>`,
		`<td data-label="RSS p95" class="num">12.0 MiB</td>`,
		`99.5% <span class="tag lvl-bg-warn">10.0% left</span>`,
		`<rect class="cell-warn" x="0" width="50" height="10"><title>`,
		`<div class="stat-value lvl-crit">98.968%</div>`,
		`1 manual restart besides`,
		`<span class="tag">open</span>`,
		`<td data-label="Success" class="num">75.0%</td>`,
		`<span>Memory p95</span><strong>61.2%</strong>`,
		`<span>Disk / p95</span><strong>80.0%</strong>`,
		`<div class="stat-value small-value">10m 0s</div>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the report page lacks %q", want)
		}
	}
	// Worst first: web, cache, db, then migrate, which was not meant to run.
	var order []string
	for _, m := range regexp.MustCompile(`<tr data-service="([^"]+)"`).FindAllStringSubmatch(body, -1) {
		order = append(order, m[1])
	}
	if want := []string{"web", "cache", "db", "migrate"}; !slices.Equal(order, want) {
		t.Errorf("rows in order %v, want %v", order, want)
	}

	// Each download is of the range shown, fixed in time, and works
	// through the session.
	links := regexp.MustCompile(`<a class="btn small" href="([^"]+)" download>([^<]+)</a>`).FindAllStringSubmatch(body, -1)
	if len(links) != 5 {
		t.Fatalf("%d download links, want 5:\n%s", len(links), body)
	}
	wantType := map[string]string{"xlsx": report.ContentType("xlsx"), "html": report.ContentType("html"), "csv": report.ContentType("csv"), "json": "application/json"}
	for _, l := range links {
		u, err := url.Parse(html.UnescapeString(l[1]))
		if err != nil || u.Path != "/v1/report" {
			t.Fatalf("download %q: %v", l[1], err)
		}
		q := u.Query()
		since, err1 := time.Parse(time.RFC3339, q.Get("since"))
		until, err2 := time.Parse(time.RFC3339, q.Get("until"))
		if err1 != nil || err2 != nil || until.Sub(since) != 7*24*time.Hour {
			t.Errorf("download %s: since %q until %q, want RFC 3339 times 7 days apart", l[2], q.Get("since"), q.Get("until"))
		}
		format := q.Get("format")
		dl := f.do(request{path: u.RequestURI(), cookie: sid})
		if dl.Code != http.StatusOK || dl.Header().Get("Content-Type") != wantType[format] || !strings.Contains(dl.Header().Get("Content-Disposition"), "steward-report-web-01-") {
			t.Errorf("download %s: %d %s %s", l[2], dl.Code, dl.Header().Get("Content-Type"), dl.Header().Get("Content-Disposition"))
		}
	}
	if !strings.Contains(body, "section=incidents") {
		t.Error("no download of the incidents as CSV")
	}

	// Services chosen, and a range of one's own: the presets keep the
	// services; none is current.
	w = f.do(request{path: "/report?since=2d&until=1d&service=web&service=db", cookie: sid})
	body = w.Body.String()
	for _, want := range []string{
		`<option value="web" selected>web</option>`,
		`<option value="db" selected>db</option>`,
		`<a href="/report?service=web&amp;service=db&amp;since=24h">24h</a>`,
		`name="since" id="rep-since" value="2d"`,
		`name="until" id="rep-until" value="1d"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/report?since=2d&until=1d&service=web&service=db lacks %q", want)
		}
	}
	if strings.Contains(body, `aria-current="true"`) {
		t.Error("a preset is marked current for a range of one's own")
	}

	// A bad range: the form again with the API's reason, status 400.
	w = f.do(request{path: "/report?since=yesterday", cookie: sid})
	if body := w.Body.String(); w.Code != http.StatusBadRequest || !strings.Contains(body, `id="rep-error"`) ||
		!strings.Contains(body, "yesterday") || !strings.Contains(body, `id="rep-form"`) || strings.Contains(body, `id="rep-downloads"`) {
		t.Errorf("GET /report?since=yesterday: %d\n%s", w.Code, body)
	}
}

func TestReportPageUnavailable(t *testing.T) {
	f := newFixture(t, false)
	sid, _ := f.login()
	w := f.do(request{path: "/report", cookie: sid})
	if body := w.Body.String(); w.Code != http.StatusOK || !strings.Contains(body, "Reports are not available") || strings.Contains(body, `id="rep-downloads"`) {
		t.Errorf("GET /report without reports: %d\n%s", w.Code, body)
	}
}
