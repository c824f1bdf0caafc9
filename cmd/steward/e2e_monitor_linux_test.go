package main

import (
	"context"
	"encoding/json"
	"fmt"
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
	"github.com/stewardhq/steward/internal/testwait"
)

// alerts returns the alerts as `steward alerts --all -o json` reports them.
func (e *env) alerts() []steward.Alert {
	e.t.Helper()
	code, out, stderr := e.steward("alerts", "--all", "-o", "json")
	if code != 0 {
		e.t.Fatalf("alerts: exit %d: %s", code, stderr)
	}
	var list []steward.Alert
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		e.t.Fatalf("alerts -o json: %v\n%s", err, out)
	}
	return list
}

func TestMonitoringEndToEnd(t *testing.T) {
	e := newEnv(t, `
services:
  crashy:
    command: ["{{prog}}", "-exit", "1", "-after", "20ms"]
    restart: {backoff: 0s, max_restarts: 5, window: 1m}
  sick:
    command: ["{{prog}}"]
    health: {exec: ["{{prog}}", "-exit", "2"], interval: 100ms, timeout: 1s, retries: 2, on_unhealthy: alert}
  machine:
    kind: sysmon
    every: 200ms
`)
	e.run()
	e.waitState("crashy", steward.StateFailed)
	e.waitState("machine", steward.StateRunning)
	testwait.NoError(t, 20*time.Second, func() error {
		if st := e.ps()["sick"]; st.Health != steward.HealthUnhealthy {
			return fmt.Errorf("sick is %s, want unhealthy", st.Health)
		}
		return nil
	})
	if st := e.ps()["sick"]; st.State != steward.StateRunning || st.Restarts != 0 {
		t.Errorf("on_unhealthy: alert restarted the service: %+v", st)
	}

	// A crash loop into failed is one incident: one alert for the failure,
	// however many crashes led to it; the unhealthy service has its own.
	var failed, unhealthy int
	testwait.NoError(t, 20*time.Second, func() error {
		failed, unhealthy = 0, 0
		for _, a := range e.alerts() {
			switch {
			case a.Subject == "crashy" && a.Rule == "failed":
				failed++
			case a.Subject == "sick" && a.Rule == "unhealthy":
				unhealthy++
			}
		}
		if failed != 1 || unhealthy != 1 {
			return fmt.Errorf("alerts: %d for crashy's failure, %d for sick's health, want 1 and 1", failed, unhealthy)
		}
		return nil
	})

	// Prometheus exposition over the socket, parsed by the official parser.
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", filepath.Join(e.dir, "steward.sock"))
	}}}
	resp, err := client.Get("http://steward/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, body)
	}
	var names []string
	for name := range families {
		names = append(names, name)
	}
	for _, want := range []string{"steward_info"} {
		if _, ok := families[want]; !ok {
			t.Errorf("/metrics lacks %s; has %v", want, names)
		}
	}
	var perService bool
	for name, f := range families {
		if !strings.HasPrefix(name, "steward_service_") {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				perService = perService || l.GetValue() == "sick"
			}
		}
	}
	if !perService {
		t.Errorf("/metrics has no per-service series for sick: %v", names)
	}
}
