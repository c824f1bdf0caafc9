package supervise

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stewardhq/steward"
)

// TestReadinessTimeoutRestartsProcess: a real process that never prints
// its ready line is killed at ready.timeout and started again under its
// policy, each time as a new process, until the restart intensity is
// exceeded.
func TestReadinessTimeoutRestartsProcess(t *testing.T) {
	h := start(t, `
services:
  a:
    command: ["{{prog}}"]
    ready: {log: never, timeout: 200ms}
    restart: {policy: on-failure, backoff: 0s, max_restarts: 2, window: 1m}
`)
	if err := h.sup.Start(ctx(t), nil); err == nil {
		t.Fatal("start succeeded, want not ready")
	}
	st := h.waitState("a", steward.StateFailed)
	if want := "not ready: not ready within 200ms; restart intensity exceeded: 2 restarts within 1m0s"; st.Reason != want {
		t.Errorf("reason = %q, want %q", st.Reason, want)
	}
	if st.Restarts != 2 {
		t.Errorf("restarts = %d, want 2", st.Restarts)
	}
	pids := map[int]bool{}
	for _, ev := range h.events("a") {
		if ev.To == steward.StateStarting && ev.PID > 0 {
			pids[ev.PID] = true
		}
	}
	if len(pids) != 3 {
		t.Errorf("%d processes started, want 3: %v", len(pids), pids)
	}
}

// TestFinalStartErrorsOnLinux: what retrying cannot cure fails the service
// at once, whatever its policy, with the cause.
func TestFinalStartErrorsOnLinux(t *testing.T) {
	tests := []struct{ name, svc, cause string }{
		{"missing working_dir", `command: ["{{prog}}"], working_dir: /nonexistent/dir`, "working_dir: stat /nonexistent/dir: no such file or directory"},
		{"not executable", `command: ["{{dir}}/plain"]`, "permission denied"},
		{"unknown user", `command: ["{{prog}}"], user: no-such-user-here`, "unknown user no-such-user-here"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := start(t, "services:\n  a: {"+tt.svc+", restart: {policy: always, backoff: 0s}}\n")
			if err := os.WriteFile(filepath.Join(h.dir, "plain"), []byte("not a program\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := h.sup.Start(ctx(t), nil); err == nil {
				t.Fatal("start succeeded")
			}
			st := h.waitState("a", steward.StateFailed)
			if !strings.HasPrefix(st.Reason, "start: ") || !strings.Contains(st.Reason, tt.cause) || !strings.HasSuffix(st.Reason, "; not retried") {
				t.Errorf("reason = %q, want the cause %q and not retried", st.Reason, tt.cause)
			}
			if st.Restarts != 0 {
				t.Errorf("restarts = %d, want 0", st.Restarts)
			}
		})
	}
}
