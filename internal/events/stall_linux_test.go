package events

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/supervise"
	"github.com/stewardhq/steward/internal/testwait"
)

// TestSupervisorRestartsWhileStoreLocked is the end-to-end form of the
// regression: a real crashing service under a real supervisor keeps being
// restarted while another connection holds the store's write lock, and
// once the lock is released its story is stored, each event going from
// the state the one before went to.
func TestSupervisorRestartsWhileStoreLocked(t *testing.T) {
	r, s, path := openRecorder(t) // no leak check: process spawning keeps threads of its own
	dir := filepath.Dir(path)
	cfg, err := config.Parse(filepath.Join(dir, "steward.yaml"), []byte(`
services:
  crasher:
    command: [sh, -c, "exit 1"]
    restart: {policy: always, backoff: 0s, max_backoff: 0s, max_restarts: 1000, window: 1h}
`), config.Registry{})
	if err != nil {
		t.Fatal(err)
	}
	release := holdWriteLock(t, path)
	sup, err := supervise.New(cfg, supervise.Options{Events: r, LogDir: filepath.Join(dir, "logs"), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer sup.Close()
	sup.StartAll()
	testwait.For(t, 20*time.Second, "crasher restarted 20 times while the store was locked", func() bool {
		st, _ := sup.Get("crasher")
		return st.Restarts >= 20
	})
	if stored, err := s.Events(context.Background(), store.EventFilter{}); err != nil || len(stored) != 0 {
		t.Fatalf("stored while locked: %d events, %v; want none", len(stored), err)
	}
	release()
	sup.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	evs, err := r.List(ctx, store.EventFilter{Service: "crasher", Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) < 20 {
		t.Errorf("%d events of crasher stored, want at least one per restart", len(evs))
	}
	for i := 1; i < len(evs); i++ {
		if evs[i].From != evs[i-1].To {
			t.Fatalf("event %d goes from %s, the one before went to %s", i, evs[i].From, evs[i-1].To)
		}
	}
}
