package metrics

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/config"
)

// TestCollectLeavesNoOrphan runs a collector that leaves a child running
// and writes to stderr: its samples come from stdout alone, and once
// Collect returns the child is dead.
func TestCollectLeavesNoOrphan(t *testing.T) {
	pf := filepath.Join(t.TempDir(), "pid")
	c := config.Collector{Name: "bg", Timeout: 5 * time.Second, Command: []string{"sh", "-c",
		"sleep 60 & echo $! > " + pf + "; echo 'not a sample' >&2; echo 'jobs 3'"}}
	samples, err := Collect(ctx, "metricstest", c)
	if err != nil || len(samples) != 1 || samples[0].Name != "jobs" || samples[0].Value != 3 {
		t.Errorf("Collect: got %+v, %v, want jobs 3 and no error", samples, err)
	}
	b, err := os.ReadFile(pf)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return // gone, and reaped
	}
	if i := bytes.LastIndexByte(stat, ')'); i < 0 || !bytes.HasPrefix(stat[i+1:], []byte(" Z")) {
		if p, err := os.FindProcess(pid); err == nil {
			p.Kill() // do not leave it to the next tests
		}
		t.Errorf("the collector's child %d is alive after Collect returned", pid)
	}
}
