package daemon

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/events"
	"github.com/stewardhq/steward/internal/kinds"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/supervise"
	"github.com/stewardhq/steward/internal/testwait"
)

// fakeRuntime is the runtime of a kind the daemon knows nothing of; it
// exports one metric.
type fakeRuntime struct{ host kinds.Host }

var fakeDesc = prometheus.NewDesc("steward_fake_kind_runners", "Test.", nil, nil)

func (f *fakeRuntime) NewRunner(*config.Service) (supervise.Runner, error) {
	return nil, errors.New("not in this test")
}
func (f *fakeRuntime) Describe(ch chan<- *prometheus.Desc) { ch <- fakeDesc }
func (f *fakeRuntime) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(fakeDesc, prometheus.GaugeValue, 1)
}

// TestKindsAreBuiltGenerically: the daemon builds the runtime of any kind
// of its registry over the shared parts, gives its runners to the
// supervisor by name, and exports its metrics when it has some.
func TestKindsAreBuiltGenerically(t *testing.T) {
	testwait.NoLeak(t)
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, filepath.Join(dir, "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg, err := config.Parse(filepath.Join(dir, "steward.yaml"), []byte("services:\n  f: {kind: fake}\n"),
		config.Registry{Kinds: map[string]config.KindSchema{"fake": {}}})
	if err != nil {
		t.Fatal(err)
	}
	rt := &fakeRuntime{}
	reg := kinds.Registry{"fake": {New: func(h kinds.Host) (kinds.Runtime, error) {
		rt.host = h
		return rt, nil
	}}}
	m, err := newMonitoring(ctx, cfg, reg, st, events.NewRecorder(st), slog.New(slog.DiscardHandler), "test", "test",
		func(steward.Alert, steward.AlertTransition) {})
	if err != nil {
		t.Fatal(err)
	}
	defer m.stop()
	if rt.host.Store != st || rt.host.Alerts == nil || rt.host.History == nil || rt.host.Events == nil || rt.host.Output == nil {
		t.Errorf("host = %+v, want every part set", rt.host)
	}
	if _, ok := m.kinds["fake"]; !ok || len(m.kinds) != 1 {
		t.Errorf("kinds = %v, want fake only", m.kinds)
	}
	if _, err := m.kinds["fake"](cfg.Services["f"]); err == nil || err.Error() != "not in this test" {
		t.Errorf("runner of fake = %v, want the runtime's", err)
	}
	rec := httptest.NewRecorder()
	m.export.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if !strings.Contains(rec.Body.String(), "steward_fake_kind_runners 1") {
		t.Errorf("metrics lack the kind's:\n%s", rec.Body.String())
	}

	// A kind whose runtime cannot be built stops the daemon's start.
	bad := kinds.Registry{"fake": {New: func(kinds.Host) (kinds.Runtime, error) { return nil, errors.New("no way") }}}
	if _, err := newMonitoring(ctx, cfg, bad, st, events.NewRecorder(st), slog.New(slog.DiscardHandler), "test", "test", nil); err == nil ||
		!strings.Contains(err.Error(), "kind fake: no way") {
		t.Errorf("newMonitoring with a broken kind = %v", err)
	}
}
