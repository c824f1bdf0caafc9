package osservice

import (
	"strings"
	"testing"
)

// statuses returns the statuses of findings, "ok ok fail".
func statuses(findings []Finding) string {
	var s []string
	for _, f := range findings {
		s = append(s, f.Status)
		if f.Status != FindingOK && f.Fix == "" {
			s = append(s, "(no fix)")
		}
	}
	return strings.Join(s, " ")
}

func TestCheckSystemdUnit(t *testing.T) {
	spec := testSpec()
	unit, err := SystemdUnit(spec)
	if err != nil {
		t.Fatal(err)
	}
	other := spec
	other.ConfigFile = "/etc/other.yaml"
	otherUnit, _ := SystemdUnit(other)
	for _, c := range []struct {
		name, unit string
		enabled    bool
		want, in   string
	}{
		{"installed", unit, true, "ok ok ok", "runs /usr/local/bin/steward with /etc/steward/steward.yaml"},
		{"not enabled", unit, false, "ok fail ok", "systemctl enable steward"},
		{"other config", otherUnit, true, "ok ok fail", "/etc/other.yaml"},
		{"no ExecStart", "[Service]\n", true, "ok ok fail", "has no ExecStart"},
		{"two ExecStart", unit + "ExecStart=/bin/true\n", true, "ok ok fail", "/bin/true"},
	} {
		got := checkSystemdUnit("/etc/systemd/system/steward.service", []byte(c.unit), c.enabled, spec)
		if statuses(got) != c.want || !strings.Contains(text(got), c.in) {
			t.Errorf("%s: got %+v, want %s with %q", c.name, got, c.want, c.in)
		}
	}
}

// text is every check and fix of findings.
func text(findings []Finding) string {
	var b strings.Builder
	for _, f := range findings {
		b.WriteString(f.Check + " (" + f.Fix + ")\n")
	}
	return b.String()
}

func TestCheckLaunchdPlist(t *testing.T) {
	spec := testSpec()
	plist, err := LaunchdPlist(spec)
	if err != nil {
		t.Fatal(err)
	}
	other := spec
	other.Executable = "/opt/old/steward"
	otherPlist, _ := LaunchdPlist(other)
	for _, c := range []struct {
		name, plist, want, in string
	}{
		{"installed", plist, "ok ok ok", "RunAtLoad is true"},
		{"no RunAtLoad", strings.Replace(plist, "<key>RunAtLoad</key>\n\t<true/>", "", 1), "ok fail ok", "lacks RunAtLoad"},
		{"RunAtLoad false", strings.Replace(plist, "<key>RunAtLoad</key>\n\t<true/>", "<key>RunAtLoad</key><false/>", 1), "ok fail ok", "lacks RunAtLoad"},
		{"other binary", otherPlist, "ok ok fail", "/opt/old/steward"},
		{"no arguments", strings.Replace(plist, "<key>ProgramArguments</key>", "<key>Program</key>", 1), "ok ok fail", "no ProgramArguments"},
		{"not a plist", "<plist><dict>", "fail", "not a property list"},
	} {
		got := checkLaunchdPlist("/Library/LaunchDaemons/steward.plist", []byte(c.plist), spec)
		if statuses(got) != c.want || !strings.Contains(text(got), c.in) {
			t.Errorf("%s: got %+v, want %s with %q", c.name, got, c.want, c.in)
		}
	}
}

func TestCheckWindowsService(t *testing.T) {
	spec := testSpec()
	want := `C:\steward.exe run -c C:\steward.yaml --service-manager`
	for _, c := range []struct {
		name      string
		startType uint32
		cmdLine   string
		want, in  string
	}{
		{"installed", startAutomatic, want, "ok ok ok", "start type is automatic"},
		{"case differs", startAutomatic, strings.ToUpper(want), "ok ok ok", "runs"},
		{"manual start", 3, want, "ok fail ok", "start= auto"},
		{"other binary", startAutomatic, `C:\old.exe run`, "ok ok fail", `C:\old.exe`},
	} {
		got := checkWindowsService(c.startType, c.cmdLine, want, spec)
		if statuses(got) != c.want || !strings.Contains(text(got), c.in) {
			t.Errorf("%s: got %+v, want %s with %q", c.name, got, c.want, c.in)
		}
	}
}

// FuzzCheckUnits: whatever the unit file or the property list holds, the
// checks end with findings, the first that it is installed or not valid.
func FuzzCheckUnits(f *testing.F) {
	spec := testSpec()
	unit, _ := SystemdUnit(spec)
	plist, _ := LaunchdPlist(spec)
	f.Add(unit)
	f.Add(plist)
	f.Add("<plist><dict><key>RunAtLoad</key></dict></plist>")
	f.Add("ExecStart=\nExecStart=/bin/x")
	f.Fuzz(func(t *testing.T, data string) {
		for _, got := range [][]Finding{
			checkSystemdUnit("u", []byte(data), true, spec),
			checkLaunchdPlist("p", []byte(data), spec),
		} {
			if len(got) == 0 || got[0].Check == "" {
				t.Fatalf("findings %+v", got)
			}
			for _, f := range got {
				if f.Status != FindingOK && f.Fix == "" {
					t.Fatalf("no fix: %+v", f)
				}
			}
		}
	})
}
