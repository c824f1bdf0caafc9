//go:build linux

package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestSmoke runs the dispatch phase at a small size and checks that every
// run and step was counted; it measures nothing.
func TestSmoke(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "steward")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/stewardhq/steward/cmd/steward").CombinedOutput(); err != nil {
		t.Fatalf("build steward: %v\n%s", err, out)
	}
	d, err := Dispatch(context.Background(), bin, filepath.Join(dir, "dispatch"), 20, 3)
	if err != nil {
		t.Fatal(err)
	}
	if d.Flows != 20 || d.Steps != 3 || d.Wall <= 0 || d.Bare <= 0 || d.StepTime <= 0 || d.Load[1] == "" {
		t.Errorf("dispatch result %+v", d)
	}
	t.Log(d)
}
