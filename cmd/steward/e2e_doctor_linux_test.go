package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stewardhq/steward/internal/osservice"
)

// doctor runs steward doctor in this process, its service files under
// root, and returns its exit code and output.
func doctor(t *testing.T, root string, args ...string) (int, string) {
	t.Helper()
	old := doctorRoot
	doctorRoot = root
	defer func() { doctorRoot = old }()
	var stdout, stderr bytes.Buffer
	code := execute(append(args, "doctor"), &stdout, &stderr)
	return code, stdout.String() + stderr.String()
}

// statusColumn returns the first word of each line of out.
func statusColumn(out string) string {
	var s []string
	for line := range strings.Lines(out) {
		s = append(s, strings.Fields(line)[0])
	}
	return strings.Join(s, " ")
}

// TestDoctor: steward doctor checks the systemd unit under a fake root as
// steward service install leaves it, the config, the data dir and the API
// of a steward that runs; each broken piece fails with its fix.
func TestDoctor(t *testing.T) {
	e := newEnv(t, "services: {}\n")
	root := t.TempDir()
	dir := filepath.Join(root, "etc", "systemd", "system")
	spec, err := serviceSpec(e.config)
	if err != nil {
		t.Fatal(err)
	}
	spec.StopTimeout = stopTimeoutFloor
	unit, err := osservice.SystemdUnit(spec)
	if err != nil {
		t.Fatal(err)
	}
	wants := filepath.Join(dir, "multi-user.target.wants", "steward.service")
	if err := os.MkdirAll(filepath.Dir(wants), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "steward.service"), []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../steward.service", wants); err != nil {
		t.Fatal(err)
	}

	code, out := doctor(t, root, "-c", e.config)
	if code != 0 || statusColumn(out) != "ok ok ok ok ok warn" || !strings.Contains(out, "steward does not run") ||
		!strings.Contains(out, "  (steward service start)") {
		t.Errorf("installed, not running: exit %d:\n%s", code, out)
	}

	e.run()
	code, out = doctor(t, root, "-c", e.config, "-o", "json")
	var findings []osservice.Finding
	if err := json.Unmarshal([]byte(out), &findings); err != nil {
		t.Fatalf("-o json: %v\n%s", err, out)
	}
	if code != 0 || len(findings) != 6 || !strings.Contains(findings[5].Check, "answers: steward") {
		t.Errorf("running: exit %d:\n%s", code, out)
	}
	for _, f := range findings {
		if f.Status != osservice.FindingOK {
			t.Errorf("running: %+v", f)
		}
	}

	if err := os.Remove(wants); err != nil {
		t.Fatal(err)
	}
	code, out = doctor(t, root, "-c", e.config)
	if code != exitFailure || statusColumn(out) != "ok fail ok ok ok ok" || !strings.Contains(out, "(as root: systemctl enable steward)") {
		t.Errorf("not enabled: exit %d:\n%s", code, out)
	}

	e.write("services: {a: {cmd: x}}\n")
	code, out = doctor(t, root, "-c", e.config)
	if code != exitFailure || statusColumn(out) != "ok fail ok fail" || !strings.Contains(out, `has no command (and 1 more)`) ||
		!strings.Contains(out, "(steward validate -c "+e.config+")") {
		t.Errorf("bad config: exit %d:\n%s", code, out)
	}

	e.write("services: {a: {command: /nonexistent/prog}}\n")
	code, out = doctor(t, root, "-c", e.config)
	if code != exitFailure || statusColumn(out) != "ok fail ok fail" || !strings.Contains(out, "/nonexistent/prog") {
		t.Errorf("config that validate rejects: exit %d:\n%s", code, out)
	}
	code, out = doctor(t, root, "-c", filepath.Join(e.dir, "nosuch.yaml"))
	if code != exitFailure || !strings.Contains(out, "fail  config "+filepath.Join(e.dir, "nosuch.yaml")+": load config:") {
		t.Errorf("no config: exit %d:\n%s", code, out)
	}

	if code, out := doctor(t, root, "-c", e.config, "-o", "yaml"); code != exitUsage {
		t.Errorf("-o yaml: exit %d:\n%s", code, out)
	}

	// The binary looks at the machine's own systemd directory.
	if _, err := os.Stat("/etc/systemd/system/steward.service"); os.IsNotExist(err) {
		code, out, _ := e.steward("doctor")
		if code != exitFailure || !strings.HasPrefix(out, "fail  no systemd unit /etc/systemd/system/steward.service") {
			t.Errorf("binary: exit %d:\n%s", code, out)
		}
	}
}

func TestDoctorDataDir(t *testing.T) {
	dir := t.TempDir()
	if f := doctorDataDir(dir); f.Status != osservice.FindingOK || !strings.Contains(f.Check, "is writable") {
		t.Errorf("writable: %+v", f)
	}
	if f := doctorDataDir(filepath.Join(dir, "a", "b")); f.Status != osservice.FindingOK || !strings.Contains(f.Check, "can create it in "+dir) {
		t.Errorf("missing: %+v", f)
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if f := doctorDataDir(filepath.Join(file, "data")); f.Status != osservice.FindingFail || !strings.Contains(f.Check, "is not writable") {
		t.Errorf("under a file: %+v", f)
	}
	if os.Geteuid() == 0 {
		t.Skip("root writes anywhere")
	}
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o700) })
	if f := doctorDataDir(dir); f.Status != osservice.FindingFail || f.Fix == "" {
		t.Errorf("read-only: %+v", f)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("doctor left %v", entries)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

func TestPrintFindingsWriteError(t *testing.T) {
	if err := printFindings(failingWriter{}, []osservice.Finding{{Status: "ok", Check: "x"}}); err == nil {
		t.Error("no error")
	}
}
