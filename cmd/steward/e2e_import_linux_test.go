package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportThenValidate: a file of each format, naming programs this
// machine has, imports into a file that `steward validate` (which checks
// commands, directories and users on the machine) accepts; a bad file
// writes nothing; -o does not replace an existing file without --force.
func TestImportThenValidate(t *testing.T) {
	td, err := filepath.Abs("../../internal/importer/testdata")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, text := range map[string]string{
		"supervisord.conf": "[program:a]\ncommand=/bin/sh -c 'sleep 1'\ndirectory=/tmp\npriority=1\n[program:b]\ncommand=sleep 5\nautorestart=true\n",
		"compose.yaml":     "services:\n  db: {image: pg, command: [sleep, '5'], healthcheck: {test: [CMD, 'true']}}\n  api: {command: sleep 5, depends_on: {db: {condition: service_healthy}}}\n",
		"ecosystem.json":   `{"apps": [{"name": "w", "script": "sleep", "args": "5", "interpreter": "none", "instances": 2}]}`,
		"Procfile":         "web: sleep $PORT\nworker: sleep 5\n",
		"db.service":       "[Service]\nExecStart=/bin/sleep 5\nRestart=always\n",
		"api.service":      "[Unit]\nRequires=db.service\n[Service]\nType=notify\nExecStart=/bin/sleep 5\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for i, args := range [][]string{
		{filepath.Join(dir, "supervisord.conf")},
		{filepath.Join(dir, "compose.yaml")},
		{filepath.Join(dir, "ecosystem.json")},
		{filepath.Join(dir, "Procfile")},
		{"--from", "systemd", filepath.Join(dir, "api.service"), filepath.Join(dir, "db.service")},
	} {
		out := filepath.Join(dir, "steward"+string(rune('a'+i))+".yaml")
		code, _, stderr := runBin(t, append([]string{"import", "-o", out}, args...)...)
		if code != 0 {
			t.Fatalf("import %v: exit %d: %s", args, code, stderr)
		}
		if code, stdout, stderr := runBin(t, "validate", "-c", out); code != 0 || !strings.Contains(stdout, "ok") {
			t.Errorf("validate of the import of %v: exit %d: %s%s", args, code, stdout, stderr)
		}
		if code, _, stderr := runBin(t, append([]string{"import", "-o", out}, args...)...); code != 1 || !strings.Contains(stderr, "--force") {
			t.Errorf("import over an existing file: exit %d: %s", code, stderr)
		}
		if code, _, stderr := runBin(t, append([]string{"import", "--force", "-o", out}, args...)...); code != 0 {
			t.Errorf("import --force: exit %d: %s", code, stderr)
		}
	}
	bad := filepath.Join(dir, "bad.conf")
	if err := os.WriteFile(bad, []byte("[program:a\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "bad.yaml")
	if code, _, stderr := runBin(t, "import", "--from", "supervisord", "-o", out, bad); code != 1 || !strings.Contains(stderr, "bad.conf:1:") {
		t.Errorf("import of a bad file: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("import of a bad file wrote %s", out)
	}
	for _, args := range [][]string{{"import"}, {"import", "--from", "nomad", bad}, {"import", "-o", "json", bad}} {
		if code, _, stderr := runBin(t, args...); code != 2 {
			t.Errorf("steward %v: exit %d, want 2: %s", args, code, stderr)
		}
	}
	if code, stdout, _ := runBin(t, "import", filepath.Join(td, "procfile", "Procfile")); code != 0 || !strings.Contains(stdout, "services:") {
		t.Errorf("import to stdout: exit %d: %s", code, stdout)
	}
}

// runBin runs the steward binary with args and returns its exit code,
// stdout and stderr.
func runBin(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := command(args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out.String(), errOut.String()
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, out.String(), errOut.String()
}
