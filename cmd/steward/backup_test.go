package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
)

func TestBackupsGolden(t *testing.T) {
	at := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	list := []steward.Backup{
		{ID: "nightly-20261206T030000Z-7", Job: "nightly", Time: at, Format: "tar.zst", Archive: "/backups/nightly-20261206T030000Z-7.tar.zst",
			Size: 5120, SHA256: strings.Repeat("ab", 32), Files: 12, Bytes: 40960},
		{ID: "offsite-20261205T030000Z-3", Job: "offsite", Time: at.Add(-24 * time.Hour), Format: "zip", Encrypted: true,
			Archive: "/backups/offsite-20261205T030000Z-3.zip.age", Size: 9000, SHA256: strings.Repeat("cd", 32), Files: 3, Bytes: 8000,
			Skipped: []steward.BackupSkip{{Path: "/srv/run/app.sock", Why: "a socket"}}},
	}
	for _, tt := range []struct {
		file   string
		asJSON bool
	}{{"backups.golden", false}, {"backups.json.golden", true}} {
		var buf bytes.Buffer
		if err := printBackups(&buf, list, tt.asJSON); err != nil {
			t.Fatal(err)
		}
		golden(t, tt.file, buf.Bytes())
	}
	var show bytes.Buffer
	printBackup(&show, list[1])
	golden(t, "backup-show.golden", show.Bytes())
	var buf bytes.Buffer
	if err := printBackups(&buf, nil, true); err != nil || strings.TrimSpace(buf.String()) != "[]" {
		t.Errorf("no backups as JSON = %q, %v; want []", buf.String(), err)
	}
}

func TestPrintCheckForget(t *testing.T) {
	for _, tt := range []struct {
		c    steward.BackupCheck
		want string
	}{
		{steward.BackupCheck{ID: "a-1", OK: true, Content: true, Files: 2, Bytes: 10}, "backup a-1: ok, 2 files, 10 bytes\n"},
		{steward.BackupCheck{ID: "a-1", OK: true}, "backup a-1: ok, archive digest only (encrypted: give --identity to read the files)\n"},
		{steward.BackupCheck{ID: "a-1", Problems: []string{"srv/x: SHA-256 differs from the manifest"}},
			"backup a-1: 1 problem\n  srv/x: SHA-256 differs from the manifest\n"},
		{steward.BackupCheck{ID: "a-1", Problems: []string{"x: missing", "y: missing"}}, "backup a-1: 2 problems\n  x: missing\n  y: missing\n"},
	} {
		var buf bytes.Buffer
		printCheck(&buf, tt.c)
		if buf.String() != tt.want {
			t.Errorf("printCheck(%+v) = %q, want %q", tt.c, buf.String(), tt.want)
		}
	}
	ds := []steward.BackupDecision{{ID: "a-2", Keep: true, Reasons: []string{"last 1 of 1", "daily 2026-12-06 (1 of 7)"}}, {ID: "a-1"}}
	for _, tt := range []struct {
		f    steward.BackupForget
		want string
	}{
		{steward.BackupForget{Job: "a", DryRun: true, Decisions: ds}, "keep a-2: last 1 of 1, daily 2026-12-06 (1 of 7)\nwould remove a-1\n"},
		{steward.BackupForget{Job: "a", Decisions: ds}, "keep a-2: last 1 of 1, daily 2026-12-06 (1 of 7)\nremoved a-1\n"},
		{steward.BackupForget{Job: "a"}, "job a has no backups\n"},
	} {
		var buf bytes.Buffer
		printForget(&buf, tt.f)
		if buf.String() != tt.want {
			t.Errorf("printForget(%+v) = %q, want %q", tt.f, buf.String(), tt.want)
		}
	}
}

func TestBackupUsage(t *testing.T) {
	for _, tt := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"backups", "a", "b"}, exitUsage, "accepts at most 1 arg"},
		{[]string{"backup", "verify"}, exitUsage, "accepts 1 arg"},
		{[]string{"backup", "show"}, exitUsage, "accepts 1 arg"},
		{[]string{"backup", "restore", "x"}, exitUsage, "--to DIR is required"},
		{[]string{"backup", "forget"}, exitUsage, "accepts 1 arg"},
		{[]string{"backup", "nope"}, exitUsage, "nope"},
		{[]string{"backup", "verify", "x", "--identity", "/nonexistent/key.txt"}, exitFailure, "identity:"},
		{[]string{"backup", "restore", "x", "--to", "/tmp/r", "--identity", "/nonexistent/key.txt"}, exitFailure, "identity:"},
	} {
		code, _, stderr := run(append([]string{"--socket", "/nonexistent.sock"}, tt.args...)...)
		if code != tt.code || !strings.Contains(stderr, tt.stderr) {
			t.Errorf("steward %q: exit %d, stderr %q; want %d with %q", tt.args, code, stderr, tt.code, tt.stderr)
		}
	}
}
