package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/api/apitest"
	"github.com/stewardhq/steward/internal/report"
)

// reports is an api.Reports that reports a crash of "web" and remembers
// the queries it was asked.
type reports struct{ asked []report.Query }

func (r *reports) Report(_ context.Context, q report.Query) (steward.Report, error) {
	r.asked = append(r.asked, q)
	if len(q.Services) == 1 && q.Services[0] == "broken" {
		return steward.Report{}, errors.New("store is gone")
	}
	avail := 99.5
	return steward.Report{Node: "node-1", Since: q.Since, Until: q.Until, Generated: q.Until, Step: 3600,
		Services: []steward.ServiceReport{{Name: "web", Availability: &avail, Up: 3582, Down: 18, Expected: 3600, Crashes: 1,
			Buckets: []steward.Availability{}}},
		Incidents: []steward.Incident{}, Jobs: []steward.JobReport{}, Machine: steward.MachineReport{Disks: []steward.DiskReport{}}}, nil
}

func TestReport(t *testing.T) {
	rp := &reports{}
	f := newFixture(t)
	srv := api.New(api.Options{Services: f.services, Events: f.events, Configs: f.configs, Reports: rp})
	now := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	api.SetNow(srv, func() time.Time { return now })
	f.server = srv
	f.socket = apitest.Serve(t, srv.Handler())

	for _, tt := range []struct {
		query, accept, ctype, disposition, ext string
	}{
		{"?since=1d", "", "application/json", "inline", "json"},
		{"?format=csv&service=web", "", "text/csv; charset=utf-8", "attachment", "csv"},
		{"?format=csv&section=jobs", "", "text/csv; charset=utf-8", "attachment", "csv"},
		{"", "text/html", "text/html; charset=utf-8", "inline", "html"},
		{"?format=xlsx&until=2026-03-04T00:00:00Z", "", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "attachment", "xlsx"},
	} {
		var header []string
		if tt.accept != "" {
			header = []string{"Accept", tt.accept}
		}
		status, h, body := f.do(t, "GET", "/v1/report"+tt.query, nil, header...)
		if status != 200 {
			t.Errorf("GET /v1/report%s: %d %s", tt.query, status, body)
			continue
		}
		if got := h.Get("Content-Type"); got != tt.ctype {
			t.Errorf("GET /v1/report%s: Content-Type %q, want %q", tt.query, got, tt.ctype)
		}
		disp, params, err := mime.ParseMediaType(h.Get("Content-Disposition"))
		if err != nil || disp != tt.disposition || !strings.HasPrefix(params["filename"], "steward-report-node-1-") || !strings.HasSuffix(params["filename"], "."+tt.ext) {
			t.Errorf("GET /v1/report%s: Content-Disposition %q (%v), want %s with a steward-report-node-1-….%s name", tt.query, h.Get("Content-Disposition"), err, tt.disposition, tt.ext)
		}
		if len(body) == 0 {
			t.Errorf("GET /v1/report%s: empty body", tt.query)
		}
		switch tt.ext {
		case "json":
			var rep steward.Report
			if err := json.Unmarshal(body, &rep); err != nil || len(rep.Services) != 1 || rep.Services[0].Crashes != 1 {
				t.Errorf("JSON report %s: %+v, %v", body, rep, err)
			}
		case "xlsx":
			if !strings.HasPrefix(string(body), "PK") {
				t.Errorf("XLSX report does not start like a zip: %q", body[:min(len(body), 8)])
			}
		}
	}
	if got, want := rp.asked[0].Since, now.Add(-24*time.Hour); !got.Equal(want) {
		t.Errorf("since=1d asked from %v, want %v", got, want)
	}
	if got := rp.asked[1].Services; len(got) != 1 || got[0] != "web" {
		t.Errorf("service=web asked for %q", got)
	}

	for _, q := range []string{"?since=yesterday", "?format=pdf", "?format=json&section=jobs", "?since=2026-03-05T00:00:00Z", "?colour=red"} {
		status, h, body := f.do(t, "GET", "/v1/report"+q, nil)
		var e steward.ErrorResponse
		if status != http.StatusBadRequest || h.Get("Content-Type") != "application/json" || json.Unmarshal(body, &e) != nil || e.Error.Code != steward.EINVALID {
			t.Errorf("GET /v1/report%s: %d %s %s, want a 400 JSON invalid error", q, status, h.Get("Content-Type"), body)
		}
	}
	if status, _, body := f.do(t, "GET", "/v1/report?service=broken", nil); status != http.StatusInternalServerError {
		t.Errorf("a failing store: %d %s, want 500", status, body)
	}
}

func TestReportUnavailable(t *testing.T) {
	f := newFixture(t)
	if status, _, body := f.do(t, "GET", "/v1/report", nil); status != http.StatusServiceUnavailable {
		t.Errorf("GET /v1/report without reports: %d %s, want 503", status, body)
	}
}
