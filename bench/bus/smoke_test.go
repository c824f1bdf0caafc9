//go:build linux

package main

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestSmoke runs each measure once at a small size and checks that it did
// its work (the stream holds every message, every request was answered,
// steward ran with the bus); it measures nothing.
func TestSmoke(t *testing.T) {
	dir := t.TempDir()
	for _, tcp := range []bool{false, true} {
		if _, err := PublishEmbedded(filepath.Join(dir, fmt.Sprint("e", tcp)), 500, 64, tcp); err != nil {
			t.Errorf("embedded (tcp %v): %v", tcp, err)
		}
	}
	if bin, err := exec.LookPath("nats-server"); err != nil {
		t.Log("no nats-server on PATH: the standalone publish is not tried")
	} else if _, err := PublishStandalone(bin, filepath.Join(dir, "s"), 500, 64); err != nil {
		t.Errorf("standalone: %v", err)
	}
	for _, tcp := range []bool{false, true} {
		if l, err := Latencies(filepath.Join(dir, "r"+map[bool]string{false: "p", true: "t"}[tcp]), 50, tcp); err != nil || len(l) != 50 {
			t.Errorf("requests (tcp %v): %d, %v", tcp, len(l), err)
		}
	}
	bin := filepath.Join(dir, "steward")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/stewardhq/steward/cmd/steward").CombinedOutput(); err != nil {
		t.Fatalf("build steward: %v\n%s", err, out)
	}
	m, err := RSS(bin, filepath.Join(dir, "rss"), 3, true, time.Millisecond)
	if err != nil || m.RSS == 0 {
		t.Errorf("rss: %+v, %v", m, err)
	}
	if lat, err := CrashLatencies(bin, filepath.Join(dir, "crash"), 5, true); err != nil || len(lat) != 5 || slices.Min(lat) <= 0 {
		t.Errorf("crash latencies: %v, %v", lat, err)
	}
	if h, n, err := Bridge(bin, filepath.Join(dir, "bridge"), 20); err != nil || h <= 0 || n <= 0 {
		t.Errorf("bridge: %v %v, %v", h, n, err)
	}
}
