package api_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/alert"
	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/api/apitest"
	"github.com/stewardhq/steward/internal/check"
	"github.com/stewardhq/steward/internal/client"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/events"
	"github.com/stewardhq/steward/internal/ipc"
	"github.com/stewardhq/steward/internal/metrics"
	"github.com/stewardhq/steward/internal/store"
)

type fakeChecks []check.State

func (f fakeChecks) States() []check.State { return f }

// monitored is an API server over a real alert engine and metrics history.
type monitored struct {
	engine  *alert.Engine
	history *metrics.History
	client  *client.Client
	raw     func(method, path, body string) (int, string)
}

func newMonitored(t *testing.T) *monitored {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	m := &monitored{}
	if m.engine, err = alert.New(ctx, alert.Options{Store: st, Events: events.NewRecorder(st)}); err != nil {
		t.Fatal(err)
	}
	if m.history, err = metrics.NewHistory(ctx, metrics.HistoryOptions{Store: st}); err != nil {
		t.Fatal(err)
	}
	configs, err := apitest.NewConfigs(filepath.Join(t.TempDir(), "s.yaml"), []byte(configText))
	if err != nil {
		t.Fatal(err)
	}
	services := apitest.NewServices(steward.ServiceStatus{Name: "web", Kind: "exec", State: steward.StateRunning, PID: 7, Health: steward.HealthHealthy, CPUPercent: 5, RSSBytes: 1 << 20})
	last := check.Result{Status: check.Critical, Message: "down", Time: time.Now()}
	srv := api.New(api.Options{
		Services: services, Events: &apitest.Events{}, Configs: configs,
		Alerts: m.engine, Metrics: m.history,
		Checks:     fakeChecks{{Name: "db-port", Check: &config.Check{Name: "db-port", TCP: "h:1"}, Last: &last}},
		Prometheus: metrics.NewExporter(metrics.ExporterOptions{History: m.history, Services: services.List, Alerts: m.engine.Counts}),
	})
	sock := apitest.Serve(t, srv.Handler())
	m.client = client.New(sock)
	t.Cleanup(m.client.Close)
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return ipc.Dial(ctx, sock)
	}}}
	t.Cleanup(hc.CloseIdleConnections)
	m.raw = func(method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, "http://steward"+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	return m
}

func TestAlertsAPI(t *testing.T) {
	m := newMonitored(t)
	ctx := context.Background()
	m.engine.Observe(ctx, alert.Condition{Rule: "cpu", Subject: "machine", Active: true, Message: "hot"})
	m.engine.Observe(ctx, alert.Condition{Rule: "check", Subject: "db-port", Active: true, Severity: "critical", Message: "down"})
	m.engine.Observe(ctx, alert.Condition{Rule: "check", Subject: "db-port", Active: false, Message: "up"})
	open, err := m.client.Alerts(ctx, false)
	if err != nil || len(open) != 1 || open[0].Rule != "cpu" || open[0].State != steward.AlertFiring {
		t.Fatalf("open alerts = %+v, %v", open, err)
	}
	all, err := m.client.Alerts(ctx, true)
	if err != nil || len(all) != 2 {
		t.Fatalf("all alerts = %+v, %v", all, err)
	}
	acked, err := m.client.Ack(ctx, open[0].ID, "on it")
	if err != nil || acked.AckedBy == "" || acked.AckComment != "on it" {
		t.Fatalf("ack = %+v, %v", acked, err)
	}
	if _, err := m.client.Ack(ctx, open[0].ID, ""); steward.ErrorCode(err) != steward.ECONFLICT {
		t.Errorf("second ack: %v", err)
	}
	one, err := m.client.Alert(ctx, open[0].ID)
	if err != nil || len(one.Transitions) != 2 || !strings.HasPrefix(one.Transitions[1].Message, "acknowledged by") {
		t.Errorf("alert = %+v, %v", one, err)
	}
	if _, err := m.client.Alert(ctx, 999); steward.ErrorCode(err) != steward.ENOTFOUND {
		t.Errorf("alert 999: %v", err)
	}
	sl, err := m.client.AddSilence(ctx, map[string]string{"subject": "machine"}, time.Hour, "maintenance")
	if err != nil || sl.ID == 0 || sl.Comment != "maintenance" || sl.By == "" || sl.Ends.Sub(sl.Starts) != time.Hour {
		t.Fatalf("silence = %+v, %v", sl, err)
	}
	if got, _ := m.client.Alerts(ctx, false); len(got[0].Silenced) != 1 {
		t.Errorf("alert not silenced: %+v", got[0])
	}
	list, err := m.client.Silences(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("silences = %+v, %v", list, err)
	}
	if err := m.client.DeleteSilence(ctx, sl.ID); err != nil {
		t.Fatal(err)
	}
	if err := m.client.DeleteSilence(ctx, sl.ID); steward.ErrorCode(err) != steward.ENOTFOUND {
		t.Errorf("delete again: %v", err)
	}
	for _, tt := range []struct {
		method, path, body string
		status             int
	}{
		{"GET", "/v1/alerts?state=weird", "", 400},
		{"GET", "/v1/alerts?limit=-1", "", 400},
		{"GET", "/v1/alerts/abc", "", 400},
		{"POST", "/v1/alerts/0/ack", "", 400},
		{"POST", "/v1/alerts/1/ack", "{\"bogus\": 1}", 400},
		{"POST", "/v1/silences", "{}", 400},
		{"POST", "/v1/silences", `{"matchers": {"rule": "x"}}`, 400},
		{"POST", "/v1/silences", `{"matchers": {"rule": "x"}, "duration": "soon"}`, 400},
		{"POST", "/v1/silences", `{"matchers": {"rule": "x"}, "duration": "1h", "ends": "2099-01-01T00:00:00Z"}`, 400},
		{"POST", "/v1/silences", `{"matchers": {"host": "x"}, "duration": "1h"}`, 400},
		{"POST", "/v1/silences", `{"matchers": {"rule": "x"}, "ends": "` + time.Now().Add(time.Hour).UTC().Format(time.RFC3339) + `"}`, 201},
		{"POST", "/v1/silences", `not json`, 400},
		{"DELETE", "/v1/silences/x", "", 400},
		{"POST", "/v1/alerts/1/ack", "", 409},
	} {
		if status, body := m.raw(tt.method, tt.path, tt.body); status != tt.status {
			t.Errorf("%s %s %s: %d %s, want %d", tt.method, tt.path, tt.body, status, body, tt.status)
		}
	}
}

func TestMetricsAPI(t *testing.T) {
	m := newMonitored(t)
	ctx := context.Background()
	now := time.Now()
	err := m.client.PushMetrics(ctx,
		steward.MetricSample{Name: "queue_depth", Labels: map[string]string{"queue": "mail"}, Value: 3, Time: now.Add(-2 * time.Minute)},
		steward.MetricSample{Name: "queue_depth", Labels: map[string]string{"queue": "mail"}, Value: 5, Time: now.Add(-time.Minute)},
		steward.MetricSample{Name: "queue_depth", Labels: map[string]string{"queue": "sms"}, Value: 1},
	)
	if err != nil {
		t.Fatal(err)
	}
	series, err := m.client.QueryMetrics(ctx, steward.MetricQuery{Name: "queue_depth", Labels: map[string]string{"queue": "mail"}, From: now.Add(-time.Hour), To: now.Add(time.Minute), Step: time.Minute})
	if err != nil || len(series) != 1 || len(series[0].Points) != 2 || series[0].Points[1][1] != 5 {
		t.Fatalf("query = %+v, %v", series, err)
	}
	series, err = m.client.QueryMetrics(ctx, steward.MetricQuery{Name: "queue_depth"})
	if err != nil || len(series) != 2 {
		t.Fatalf("query of both = %+v, %v", series, err)
	}
	text, err := m.client.Prometheus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(text)))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	if fams["queue_depth"] == nil || len(fams["queue_depth"].Metric) != 2 || fams["steward_service_state"] == nil {
		t.Errorf("families: %v", fams["queue_depth"])
	}
	checks, err := m.client.Checks(ctx)
	if err != nil || len(checks) != 1 || checks[0].Last.Status != "CRITICAL" {
		t.Errorf("checks = %+v, %v", checks, err)
	}
	for _, tt := range []struct {
		method, path, body string
		status             int
	}{
		{"GET", "/v1/metrics/query", "", 400},
		{"GET", "/v1/metrics/query?name=x&step=0", "", 400},
		{"GET", "/v1/metrics/query?name=x&from=yesterday", "", 400},
		{"GET", "/v1/metrics/query?name=x&to=never", "", 400},
		{"GET", "/v1/metrics/query?name=x&from=24h&step=1s", "", 400},
		{"GET", "/v1/metrics/query?name=x&from=1h", "", 200},
		{"POST", "/v1/metrics", `{"samples": []}`, 400},
		{"POST", "/v1/metrics", `{"samples": [{"name": "bad name", "value": 1}]}`, 400},
		{"POST", "/v1/metrics", `{"samples": [{"name": "x", "value": "1"}]}`, 400},
		{"POST", "/v1/metrics", `{"samples": [{"name": "x", "value": 1}]} trailing`, 400},
		{"POST", "/v1/metrics", `{"samples": [` + strings.Repeat(`{"name": "x", "value": 1},`, 10000) + `{"name": "x", "value": 1}]}`, 413},
	} {
		if status, body := m.raw(tt.method, tt.path, tt.body); status != tt.status {
			t.Errorf("%s %s: %d %.200s, want %d", tt.method, tt.path, status, body, tt.status)
		}
	}
}

// TestMonitoringUnavailable: a server without the monitoring parts
// answers 503 on their endpoints and an empty list of checks.
func TestMonitoringUnavailable(t *testing.T) {
	f := newFixture(t)
	for _, p := range []string{"GET /v1/alerts", "GET /v1/alerts/1", "POST /v1/alerts/1/ack", "GET /v1/silences",
		"POST /v1/silences", "DELETE /v1/silences/1", "GET /v1/metrics/query?name=x", "POST /v1/metrics", "GET /metrics"} {
		method, path, _ := strings.Cut(p, " ")
		status, _, body := f.do(t, method, path, strings.NewReader("{}"))
		if status != 503 {
			t.Errorf("%s: %d %s, want 503", p, status, body)
		}
	}
	status, _, body := f.do(t, "GET", "/v1/checks", nil)
	if status != 200 || strings.TrimSpace(string(body)) != "[]" {
		t.Errorf("GET /v1/checks: %d %s", status, body)
	}
}
