package osservice

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal([]byte(got), want) {
		t.Errorf("%s differs (run go test -update after checking):\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

// testSpec is steward installed as `steward service install` would on a
// Unix system.
func testSpec() Spec {
	return Spec{
		Name:        "steward",
		DisplayName: "steward",
		Description: "steward hosts, supervises and monitors services",
		Executable:  "/usr/local/bin/steward",
		ConfigFile:  "/etc/steward/steward.yaml",
		LogFile:     "/usr/local/var/steward/steward.log",
		StopTimeout: 95*time.Second + 500*time.Millisecond,
	}
}

func TestSystemdUnitGolden(t *testing.T) {
	unit, err := SystemdUnit(testSpec())
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "steward.service", unit)
}

func TestLaunchdPlistGolden(t *testing.T) {
	spec := testSpec()
	spec.ConfigFile = "/usr/local/etc/steward/R&D <test>.yaml" // escaped in XML
	plist, err := LaunchdPlist(spec)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "steward.plist", plist)
}

func TestLaunchdPlistWithoutLogFile(t *testing.T) {
	spec := testSpec()
	spec.LogFile = ""
	plist, err := LaunchdPlist(spec)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plist, "StandardOutPath") {
		t.Errorf("plist without a log file names one:\n%s", plist)
	}
}

func TestSystemdExecStartQuoting(t *testing.T) {
	spec := testSpec()
	spec.Executable = "/opt/my tools/steward"
	spec.ConfigFile = `/etc/steward/100% "$HOME".yaml`
	unit, err := SystemdUnit(spec)
	if err != nil {
		t.Fatal(err)
	}
	want := `ExecStart="/opt/my tools/steward" run -c "/etc/steward/100%% \"$$HOME\".yaml" --service-manager` + "\n"
	if !strings.Contains(unit, want) {
		t.Errorf("unit lacks %q:\n%s", want, unit)
	}
}

func TestSystemdQuote(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"/usr/bin/steward", "/usr/bin/steward"},
		{"--service-manager", "--service-manager"},
		{"", `""`},
		{"a b", `"a b"`},
		{`a\b`, `"a\\b"`},
		{`say "hi"`, `"say \"hi\""`},
		{"it's", `"it's"`},
		{"x;y", `"x;y"`},
		{"50%", "50%%"},
		{"$HOME", "$$HOME"},
		{"tab\there", "\"tab\there\""},
	} {
		if got := systemdQuote(tt.in); got != tt.want {
			t.Errorf("systemdQuote(%q): got %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestUnitsRefuseBadSpecs(t *testing.T) {
	for _, tt := range []struct {
		name    string
		change  func(*Spec)
		wantErr string
	}{
		{"no name", func(s *Spec) { s.Name = "" }, "service spec: no name"},
		{"relative executable", func(s *Spec) { s.Executable = "steward" }, `executable "steward" is not an absolute path`},
		{"relative config", func(s *Spec) { s.ConfigFile = "steward.yaml" }, `config file "steward.yaml" is not an absolute path`},
		{"no stop timeout", func(s *Spec) { s.StopTimeout = 0 }, "stop timeout 0s is not positive"},
		{"template action", func(s *Spec) { s.ConfigFile = "/etc/{{Name}}.yaml" }, `contains "{{"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			spec := testSpec()
			tt.change(&spec)
			for kind, render := range map[string]func(Spec) (string, error){"unit": SystemdUnit, "plist": LaunchdPlist} {
				_, err := render(spec)
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("%s: got error %v, want one containing %q", kind, err, tt.wantErr)
				}
			}
		})
	}
	spec := testSpec()
	spec.Description = "two\nlines"
	if _, err := SystemdUnit(spec); err == nil || !strings.Contains(err.Error(), "line break") {
		t.Errorf("description with a line break: got %v", err)
	}
}

func TestSpecArgs(t *testing.T) {
	got := strings.Join(testSpec().Args(), " ")
	if want := "run -c /etc/steward/steward.yaml --service-manager"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestIsAbs(t *testing.T) {
	for _, tt := range []struct {
		path string
		want bool
	}{
		{"/usr/bin/steward", true},
		{`C:\Program Files\steward\steward.exe`, true},
		{"c:/steward/steward.exe", true},
		{"steward", false},
		{`C:steward.exe`, false},
		{"", false},
	} {
		if got := isAbs(tt.path); got != tt.want {
			t.Errorf("isAbs(%q): got %v, want %v", tt.path, got, tt.want)
		}
	}
}
