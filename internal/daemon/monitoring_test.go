package daemon

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stewardhq/steward/internal/events"
	"github.com/stewardhq/steward/internal/kinds"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/testwait"
)

// TestMonitoringApplyAfterStop: a reload applying monitoring races the
// daemon's stop; once stop has begun, apply starts nothing (no collector
// outlives stop) and changes nothing. Run it with -race.
func TestMonitoringApplyAfterStop(t *testing.T) {
	testwait.NoLeak(t)
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, filepath.Join(dir, "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	plain := testConfig(t, dir, "services: {}\n")
	collecting := testConfig(t, dir, "metrics:\n  collectors:\n    c: {command: [\"sleep\", \"1000\"], every: 1h}\nservices: {}\n")
	m, err := newMonitoring(ctx, plain, kinds.Registry{}, st, events.NewRecorder(st), slog.New(slog.DiscardHandler), "test", "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for range 50 {
			m.apply(collecting)
		}
	})
	m.stop()
	wg.Wait()

	last := testConfig(t, dir, "metrics:\n  collectors:\n    late: {command: [\"sleep\", \"1000\"], every: 1h}\nservices: {}\n")
	m.apply(last)
	m.mu.Lock()
	cfg := m.cfg
	m.mu.Unlock()
	if cfg == last {
		t.Error("apply after stop changed the config")
	}
}
