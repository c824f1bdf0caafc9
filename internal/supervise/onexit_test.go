package supervise

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/testwait"
)

// TestOnExitIgnore: the service is left failed (or exited), not restarted.
func TestOnExitIgnore(t *testing.T) {
	f := startFakes(t, "services:\n  a: {command: [a], on_exit: ignore, restart: {policy: always}}\n")
	if err := f.sup.Start(f.ctx(), []string{"a"}); err != nil {
		t.Fatal(err)
	}
	f.proc("a", 1).Exit(1)
	st := f.waitState("a", steward.StateFailed)
	if !strings.HasSuffix(st.Reason, "on_exit: ignore") || f.procs.count("a") != 1 {
		t.Errorf("reason %q, %d starts; want on_exit: ignore and no restart", st.Reason, f.procs.count("a"))
	}
}

// TestOnExitStopAll: every other service stops, dependents first, and
// steward keeps running.
func TestOnExitStopAll(t *testing.T) {
	f := startFakes(t, `
services:
  job: {command: [job], on_exit: stop-all}
  db: {command: [db]}
  web: {command: [web], depends_on: [db]}
`)
	if err := f.sup.Start(f.ctx(), nil); err != nil {
		t.Fatal(err)
	}
	f.proc("job", 1).Exit(0)
	if st := f.waitState("job", steward.StateExited); !strings.Contains(st.Reason, "on_exit: stop-all") {
		t.Errorf("job reason = %q", st.Reason)
	}
	f.waitState("db", steward.StateStopped)
	f.waitState("web", steward.StateStopped)
	web := f.events.find("web", steward.StateStopping, steward.StateStopped, 0)
	db := f.events.find("db", steward.StateRunning, steward.StateStopping, 0)
	if web == 0 || db == 0 || db < web {
		t.Errorf("web stopped at event %d, db began stopping at %d: want web first", web, db)
	}
}

// TestOnExitExit: steward is told to exit with the service's status, or
// with exit_code.
func TestOnExitExit(t *testing.T) {
	for _, tt := range []struct {
		name, extra string
		code, want  int
	}{
		{"status", "", 4, 4},
		{"exit_code", ", exit_code: 9", 4, 9},
		{"clean", "", 0, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var got []string
			f := startFakesWith(t, "services:\n  a: {command: [a], on_exit: exit"+tt.extra+"}\n", func(o *Options) {
				o.Exit = func(svc string, code int) {
					mu.Lock()
					defer mu.Unlock()
					got = append(got, fmt.Sprintf("%s %d", svc, code))
				}
			})
			if err := f.sup.Start(f.ctx(), nil); err != nil {
				t.Fatal(err)
			}
			f.proc("a", 1).Exit(tt.code)
			want := fmt.Sprintf("a %d", tt.want)
			testwait.NoError(t, 10*time.Second, func() error {
				mu.Lock()
				defer mu.Unlock()
				if len(got) != 1 || got[0] != want {
					return fmt.Errorf("Exit calls = %q, want [%s]", got, want)
				}
				return nil
			})
			if f.procs.count("a") != 1 {
				t.Errorf("%d starts, want no restart", f.procs.count("a"))
			}
		})
	}
}
