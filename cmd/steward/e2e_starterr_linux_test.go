package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/testwait"
)

// TestTransientStartErrorsAreRetried runs the real steward: a readiness
// timeout is a failed run under the restart policy (the second run becomes
// ready), while a program removed after the start fails at its next start,
// saying why and that it is not retried.
func TestTransientStartErrorsAreRetried(t *testing.T) {
	e := newEnv(t, `
services:
  slow:
    command: [sh, -c, 'if [ -f {{dir}}/second ]; then echo READY; exec sleep 1000; fi; touch {{dir}}/second; exec sleep 1000']
    ready: {log: READY, timeout: 300ms}
    restart: {policy: on-failure, backoff: 0s, max_restarts: 3, window: 1m}
  gone:
    command: ["{{dir}}/prog"]
    restart: {policy: always, backoff: 500ms}
`)
	prog := filepath.Join(e.dir, "prog")
	if err := os.WriteFile(prog, []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	e.run()
	if err := os.Remove(prog); err != nil {
		t.Fatal(err)
	}
	testwait.NoError(t, 20*time.Second, func() error {
		st := e.ps()["slow"]
		if st.State != steward.StateRunning || st.Restarts != 1 {
			return fmt.Errorf("slow is %s with %d restarts (%s), want running after 1 restart", st.State, st.Restarts, st.Reason)
		}
		return nil
	})
	gone := e.waitState("gone", steward.StateFailed)
	if !strings.Contains(gone.Reason, prog+": no such file or directory") || !strings.HasSuffix(gone.Reason, "; not retried") {
		t.Errorf("gone: %q, want the missing program named, not retried", gone.Reason)
	}
}
