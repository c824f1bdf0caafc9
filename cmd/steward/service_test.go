package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/osservice"
)

// haveSystemd reports whether systemd runs on this machine.
func haveSystemd() bool {
	_, err := os.Stat("/run/systemd/system")
	return err == nil
}

func TestServiceCommandsNeedSystemd(t *testing.T) {
	if haveSystemd() {
		t.Skip("systemd runs here: nothing to refuse")
	}
	cfg := filepath.Join(t.TempDir(), "steward.yaml")
	if err := os.WriteFile(cfg, []byte("services: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"install", "uninstall", "start", "stop", "restart", "status"} {
		code, _, stderr := run("service", verb, "-c", cfg)
		if code != exitFailure || !strings.Contains(stderr, "steward service needs systemd, which is not running on this machine") {
			t.Errorf("service %s: exit %d, stderr %q", verb, code, stderr)
		}
	}
}

func TestServiceInstallChecksTheConfig(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "steward.yaml")
	if err := os.WriteFile(cfg, []byte("services:\n  web:\n    comand: [x]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := run("service", "install", "-c", cfg)
	if code != exitFailure || !strings.Contains(stderr, cfg+":3:") {
		t.Errorf("exit %d, stderr %q; want the config error with its position", code, stderr)
	}
	code, _, stderr = run("service", "install", "-c", filepath.Join(t.TempDir(), "missing.yaml"))
	if code != exitFailure || !strings.Contains(stderr, "missing.yaml") {
		t.Errorf("missing config: exit %d, stderr %q", code, stderr)
	}
}

func TestServiceUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"service", "start", "extra"},
		{"service", "status", "-o", "yaml"},
		{"os-service", "status"},
		{"os-service", "start", "a", "b"},
		{"os-service", "list", "-o", "yaml"},
	} {
		if code, _, stderr := run(args...); code != exitUsage {
			t.Errorf("%q: exit %d, stderr %q; want %d", args, code, stderr, exitUsage)
		}
	}
}

func TestOSServiceWithoutSystemd(t *testing.T) {
	if haveSystemd() {
		t.Skip("systemd runs here")
	}
	for _, args := range [][]string{{"os-service", "list"}, {"os-service", "status", "sshd"}, {"os-service", "restart", "sshd"}} {
		code, _, stderr := run(args...)
		if code != exitFailure || !strings.Contains(stderr, "systemd is not running on this machine") {
			t.Errorf("%q: exit %d, stderr %q", args, code, stderr)
		}
	}
}

func TestStatusExit(t *testing.T) {
	for st, want := range map[osservice.Status]int{
		osservice.StatusRunning:      exitOK,
		osservice.StatusStopped:      exitServiceStopped,
		osservice.StatusNotInstalled: exitServiceNotInstalled,
	} {
		code := exitOK
		var ee exitError
		if err := statusExit(st); errors.As(err, &ee) {
			code = ee.code
		}
		if code != want {
			t.Errorf("%s: exit %d, want %d", st, code, want)
		}
	}
}

func TestServiceSpecIsAbsolute(t *testing.T) {
	t.Chdir(t.TempDir())
	spec, err := serviceSpec("steward.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(spec.ConfigFile) || !filepath.IsAbs(spec.Executable) || spec.Name != "steward" {
		t.Errorf("spec %+v", spec)
	}
}

func osServices() []steward.OSService {
	return []steward.OSService{
		{Name: "cron.service", Description: "Regular background jobs", State: osservice.StateFailed, Detail: "failed/failed"},
		{Name: "sshd.service", Description: "OpenSSH server", State: osservice.StateRunning, Detail: "active/running", PID: 812},
		{Name: "idle", State: osservice.StateStopped},
	}
}

func TestOSServiceOutputGolden(t *testing.T) {
	var b bytes.Buffer
	if err := printOSServices(&b, osServices(), false); err != nil {
		t.Fatal(err)
	}
	b.WriteString("---\n")
	s := osServices()[1]
	s.Startup = "enabled"
	if err := printOSService(&b, s, false); err != nil {
		t.Fatal(err)
	}
	b.WriteString("---\n")
	if err := printOSService(&b, osServices()[2], false); err != nil {
		t.Fatal(err)
	}
	golden(t, "os-service.golden", b.Bytes())

	b.Reset()
	if err := printOSServices(&b, osServices()[1:2], true); err != nil {
		t.Fatal(err)
	}
	if err := printOSServices(&b, nil, true); err != nil {
		t.Fatal(err)
	}
	if err := printOSService(&b, osServices()[0], true); err != nil {
		t.Fatal(err)
	}
	golden(t, "os-service.json.golden", b.Bytes())
}

func TestServiceUnitPrintsWhatInstallWrites(t *testing.T) {
	code, stdout, stderr := run("service", "unit", "--executable", "/usr/bin/steward", "-c", "/etc/steward/steward.yaml")
	switch runtime.GOOS {
	case "linux":
		if code != exitOK || !strings.Contains(stdout, "\nExecStart=/usr/bin/steward run -c /etc/steward/steward.yaml --service-manager\n") ||
			!strings.Contains(stdout, "\nTimeoutStopSec=90\n") {
			t.Errorf("exit %d, stdout %q, stderr %q; want the systemd unit", code, stdout, stderr)
		}
	case "darwin":
		if code != exitOK || !strings.Contains(stdout, "<string>/usr/bin/steward</string>") {
			t.Errorf("exit %d, stdout %q, stderr %q; want the launchd plist", code, stdout, stderr)
		}
	default:
		if code != exitFailure || !strings.Contains(stderr, "has no unit file") {
			t.Errorf("exit %d, stderr %q; want a refusal", code, stderr)
		}
		return
	}
	if code, _, stderr := run("service", "unit", "--executable", "bin/steward"); code != exitFailure || !strings.Contains(stderr, `"bin/steward" is not an absolute path`) {
		t.Errorf("relative executable: exit %d, stderr %q", code, stderr)
	}
}
