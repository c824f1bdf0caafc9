//go:build unix

package daemon

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/testwait"
)

// TestPeriodicCheckpoints: steward signs a checkpoint as it starts; a
// reload that sets audit.checkpoint.every starts the periodic ones, and
// the shutdown signs one more.
func TestPeriodicCheckpoints(t *testing.T) {
	d := newTestDaemon(t, "services: {}\n")
	stop := runTestDaemon(t, d)
	path := filepath.Join(d.Current().DataDir, "audit.chk")
	lines := func() int {
		b, _ := os.ReadFile(path)
		return strings.Count(string(b), "\n")
	}
	testwait.For(t, 10*time.Second, "the checkpoint at start", func() bool { return lines() == 1 })
	if _, err := d.Apply(context.Background(), []byte("data_dir: .\naudit: {checkpoint: {every: 1s}}\n"), "test"); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 20*time.Second, "two periodic checkpoints", func() bool { return lines() >= 3 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if n := lines(); n < 4 {
		t.Errorf("%d checkpoints after the stop, want at least 4 (start, two periods, stop)", n)
	}
}
