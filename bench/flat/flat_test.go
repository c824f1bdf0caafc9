//go:build linux

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// TestSmoke runs the benchmark for 2,000 restarts so that it never rots. It
// asserts nothing about memory or speed: only that it runs and reports a
// reading after the first 1,000 restarts, one after the last, and the growth.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds steward and runs 2,000 restarts")
	}
	bin := filepath.Join(t.TempDir(), "steward")
	build := exec.Command("go", "build", "-o", bin, "github.com/stewardhq/steward/cmd/steward")
	// As scripts/test.sh cross-compiles steward: its build cache serves.
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	var out bytes.Buffer
	if err := run(&out, bin, 1000, 2000); err != nil {
		t.Fatalf("run: %v\noutput:\n%s", err, out.Bytes())
	}
	readings := regexp.MustCompile(`(?m)^after +(\d+) restarts .*: VmRSS [\d.]+ MB \(RssAnon [\d.]+ MB, RssFile [\d.]+ MB\)$`).FindAllSubmatch(out.Bytes(), -1)
	if len(readings) < 2 {
		t.Fatalf("got %d readings, want at least 2; output:\n%s", len(readings), out.Bytes())
	}
	firstN, _ := strconv.Atoi(string(readings[0][1]))
	lastN, _ := strconv.Atoi(string(readings[len(readings)-1][1]))
	if firstN < 1000 || lastN < 2000 {
		t.Errorf("got readings after %d and %d restarts, want after ≥ 1000 and ≥ 2000; output:\n%s", firstN, lastN, out.Bytes())
	}
	if !regexp.MustCompile(`(?m)^growth from 1000 to \d+ restarts: VmRSS [-+][\d.]+ MB`).Match(out.Bytes()) {
		t.Errorf("no growth line; output:\n%s", out.Bytes())
	}
}
