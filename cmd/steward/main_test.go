package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestUsageExitCodes: every error in how steward is called exits 2
// (unknown subcommands at any level, unknown flags, missing or extra
// arguments); a command that runs and fails exits 1.
func TestUsageExitCodes(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none.yaml")
	for _, tt := range []struct {
		args   []string
		want   int
		stderr string
	}{
		{[]string{"bogus"}, exitUsage, `unknown command "bogus"`},
		{[]string{"stpo"}, exitUsage, "stop"},
		{[]string{"silence", "bogus"}, exitUsage, `unknown command "bogus" for "steward silence"`},
		{[]string{"service", "stpo"}, exitUsage, "did you mean stop?"},
		{[]string{"silence"}, exitUsage, "silence: want a subcommand: add, list, rm"},
		{[]string{"os-service"}, exitUsage, "want a subcommand"},
		{[]string{"--bogus"}, exitUsage, "unknown flag"},
		{[]string{"ps", "--bogus"}, exitUsage, "unknown flag"},
		{[]string{"logs"}, exitUsage, "accepts 1 arg"},
		{[]string{"ps", "extra"}, exitUsage, "takes no arguments"},
		{[]string{"validate", "-c", missing}, exitFailure, "none.yaml"},
		{[]string{"help"}, exitOK, ""},
		{[]string{"--version"}, exitOK, ""},
	} {
		code, _, stderr := run(tt.args...)
		if code != tt.want || !strings.Contains(stderr, tt.stderr) {
			t.Errorf("steward %q: exit %d, stderr %q; want %d, stderr with %q", tt.args, code, stderr, tt.want, tt.stderr)
		}
	}
}
