package daemon

import (
	"testing"
	"time"
)

// TestLifecycleTimeouts: the shutdown takes each layer's slowest stop; a
// reload the stops of what it removes and changes, then the readiness of
// what it changes and adds, layer by layer.
func TestLifecycleTimeouts(t *testing.T) {
	dir := t.TempDir()
	old := testConfig(t, dir, `services:
  a: {command: [x], stop: {timeout: 2s}, ready: {timeout: 3s}}
  b: {command: [x], depends_on: [a], stop: {timeout: 5s}, ready: {timeout: 1s}}
  c: {command: [x], stop: {timeout: 1s}}
`)
	cfg := testConfig(t, dir, `services:
  a: {command: [x], stop: {timeout: 2s}, ready: {timeout: 3s}}
  b: {command: [x], depends_on: [a], env: {V: "2"}, stop: {timeout: 5s}, ready: {timeout: 1s}}
  d: {command: [x], stop: {timeout: 9s}, ready: {timeout: 4s}}
`)
	for _, tt := range []struct {
		what      string
		got, want time.Duration
	}{
		{"shutdown of old", ShutdownTimeout(old), 2*time.Second + 5*time.Second + lifecycleMargin},
		{"shutdown of cfg", ShutdownTimeout(cfg), 9*time.Second + 5*time.Second + lifecycleMargin},
		// Stops: c, then b; readiness: d, then b.
		{"apply old to cfg", applyTimeout(old, cfg), (1+5)*time.Second + (4+1)*time.Second + lifecycleMargin},
		{"apply cfg to cfg", applyTimeout(cfg, cfg), lifecycleMargin},
	} {
		if tt.got != tt.want {
			t.Errorf("%s: %v, want %v", tt.what, tt.got, tt.want)
		}
	}
}
