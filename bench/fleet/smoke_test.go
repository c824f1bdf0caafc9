//go:build linux

package main

import (
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestSmoke runs the fleet at a small size and checks that every phase
// produced a figure; it measures nothing.
func TestSmoke(t *testing.T) {
	if _, err := exec.LookPath("nats-server"); err != nil && !exists("/usr/sbin/nats-server") {
		t.Skip("nats-server is not installed (apt-get install nats-server; scripts/test.sh does)")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "steward")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/stewardhq/steward/cmd/steward").CombinedOutput(); err != nil {
		t.Fatalf("build steward: %v\n%s", err, out)
	}
	r, err := Measure(Options{Bin: bin, Nodes: 3, Services: 2, Servers: 2, Runs: 2, Window: time.Second}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if r.Start <= 0 || len(r.Fleet) != 2 || len(r.Node) != 2 || r.StewardsRSS <= 0 || r.ServersRSS <= 0 || r.Down <= 0 || r.Deregister <= 0 {
		t.Errorf("result %+v", r)
	}
	t.Log(r)
}
