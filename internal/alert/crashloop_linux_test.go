package alert_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/alert"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/events"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/supervise"
	"github.com/stewardhq/steward/internal/testwait"
)

// TestCrashLoopThroughSupervisor: a real service that crashes 100 times
// under a real supervisor yields one firing alert; when it then gives up,
// that alert is escalated to a critical failed one: one root cause, one
// alert.
func TestCrashLoopThroughSupervisor(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, filepath.Join(dir, "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rec := events.NewRecorder(st)
	eng, err := alert.New(ctx, alert.Options{Store: st, Events: rec, Config: config.Alerts{Repeat: time.Hour, FlapWindow: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(filepath.Join(dir, "steward.yaml"), []byte(`
services:
  crasher:
    command: [sh, -c, "exit 1"]
    restart: {policy: always, backoff: 0s, max_backoff: 0s, max_restarts: 100, window: 1h}
`), config.Registry{})
	if err != nil {
		t.Fatal(err)
	}
	sup, err := supervise.New(cfg, supervise.Options{Events: rec, LogDir: filepath.Join(dir, "logs"), Monitor: eng})
	if err != nil {
		t.Fatal(err)
	}
	defer sup.Close()
	sup.StartAll()
	testwait.For(t, 30*time.Second, "crasher to fail after 100 restarts", func() bool {
		s, _ := sup.Get("crasher")
		return s.State == steward.StateFailed
	})
	if s, _ := sup.Get("crasher"); s.Restarts != 100 {
		t.Fatalf("restarts = %d, want 100", s.Restarts)
	}
	var list []steward.Alert
	testwait.NoError(t, 30*time.Second, func() error {
		var err error
		if list, err = eng.Alerts(ctx, store.AlertFilter{}); err != nil {
			return err
		}
		if len(list) != 1 || list[0].Rule != alert.RuleFailed {
			return fmt.Errorf("alerts = %+v, want one, failed", list)
		}
		return nil
	})
	if f := list[0]; f.State != steward.AlertFiring || f.Severity != steward.SeverityCritical || f.Subject != "crasher" {
		t.Errorf("alerts = %+v", list)
	}
	evs, _ := rec.List(ctx, store.EventFilter{Limit: 10000})
	n := 0
	for _, ev := range evs {
		if ev.Type == steward.EventAlert {
			n++
		}
	}
	if n != 2 { // restarting fired, escalated to failed
		t.Errorf("alert events = %d, want 2", n)
	}
}
