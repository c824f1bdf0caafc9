package supervise

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/proc"
	"github.com/stewardhq/steward/internal/testwait"
)

// TestKernelMemoryLimitOOM: a real process allocating past its
// kernel-enforced memory limit is OOM-killed; its exit record says so, Why
// names the limit, and the restart policy applies.
func TestKernelMemoryLimitOOM(t *testing.T) {
	if what, ok := proc.LimitControllers(); !ok || !strings.Contains(what, "memory") {
		t.Skipf("no memory controller for limits here: %s", what)
	}
	h := start(t, `
services:
  hog:
    command: ["{{prog}}", "-alloc", "300", "-exit", "0"]
    limits: {memory: 64MiB, enforce: kernel}
    restart: {policy: on-failure, backoff: 0s, max_restarts: 1, window: 1m}
`)
	if err := h.sup.Start(ctx(t), nil); err != nil {
		t.Fatal(err)
	}
	h.waitState("hog", steward.StateFailed)
	var w steward.Why
	testwait.NoError(t, 10*time.Second, func() error {
		var err error
		if w, err = h.sup.Why("hog"); err != nil {
			return err
		}
		if w.LastExit == nil || w.LastExit.OOM != steward.OOMYes {
			return fmt.Errorf("last exit %+v, want an OOM kill", w.LastExit)
		}
		return nil
	})
	if want := "the last: killed by the kernel's OOM killer at the 64 MiB limit after "; !strings.Contains(w.Summary, want) ||
		!strings.Contains(w.Summary, "(restart intensity 1 in 1m0s)") {
		t.Errorf("summary %q, want %q after the restart intensity", w.Summary, want)
	}
	if e := w.LastExit; e.Signal != "SIGKILL" || !strings.Contains(e.OOMDetail, "at the memory limit of 67108864 bytes") {
		t.Errorf("last exit signal %q, detail %q", e.Signal, e.OOMDetail)
	}
	if st, _ := h.sup.Get("hog"); st.Restarts != 1 {
		t.Errorf("restarts = %d, want 1", st.Restarts)
	}
}
