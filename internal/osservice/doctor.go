package osservice

import (
	"encoding/xml"
	"fmt"
	"slices"
	"strings"
)

// A Finding is one check of steward doctor: what was checked, how it went,
// and how to fix it when it is not ok.
type Finding struct {
	Status string `json:"status"` // FindingOK, FindingWarn or FindingFail
	Check  string `json:"check"`
	Fix    string `json:"fix,omitempty"`
}

// The statuses of a Finding.
const (
	FindingOK   = "ok"
	FindingWarn = "warn" // works, but not as steward would set it up
	FindingFail = "fail" // steward will not start at boot, or not work
)

func okFinding(format string, args ...any) Finding {
	return Finding{Status: FindingOK, Check: fmt.Sprintf(format, args...)}
}

func failFinding(fix, format string, args ...any) Finding {
	return Finding{Status: FindingFail, Check: fmt.Sprintf(format, args...), Fix: fix}
}

// CheckInstall checks that steward is installed as the OS service
// spec.Name, that the service starts at boot, and that it runs spec's
// executable with spec's config file. root is where the file system
// starts, "/" but for tests, on Linux and macOS, where the service is a
// file; Windows asks the Service Control Manager.
func CheckInstall(spec Spec, root string) []Finding { return checkInstall(spec, root) }

// install is the fix for a missing or outdated install.
func install(spec Spec) string {
	return "as an administrator: steward service install -c " + spec.ConfigFile
}

// reinstall is the fix for an install that runs another binary or config.
func reinstall(spec Spec) string {
	return "as an administrator: steward service uninstall && steward service install -c " + spec.ConfigFile
}

// checkSystemdUnit checks the systemd unit at path, the text unit, and
// whether it is enabled (its multi-user.target.wants link).
func checkSystemdUnit(path string, unit []byte, enabled bool, spec Spec) []Finding {
	out := []Finding{okFinding("systemd unit %s is installed", path)}
	if enabled {
		out = append(out, okFinding("%s.service is enabled: it starts at boot", spec.Name))
	} else {
		out = append(out, failFinding("as root: systemctl enable "+spec.Name, "%s.service is not enabled: it does not start at boot", spec.Name))
	}
	words := append([]string{spec.Executable}, spec.Args()...)
	for i, w := range words {
		words[i] = systemdQuote(w)
	}
	want := strings.Join(words, " ")
	var execStart []string
	for line := range strings.Lines(string(unit)) {
		if v, found := strings.CutPrefix(strings.TrimSpace(line), "ExecStart="); found {
			execStart = append(execStart, v)
		}
	}
	switch {
	case len(execStart) == 0:
		out = append(out, failFinding(reinstall(spec), "%s has no ExecStart", path))
	case len(execStart) > 1 || execStart[0] != want:
		out = append(out, failFinding(reinstall(spec), "%s runs %s, not %s", path, strings.Join(execStart, "; "), want))
	default:
		out = append(out, okFinding("the unit runs %s with %s", spec.Executable, spec.ConfigFile))
	}
	return out
}

// plistItem is an element of a property list's top dict: a key or a value.
type plistItem struct {
	XMLName xml.Name
	Text    string   `xml:",chardata"`
	Strings []string `xml:"string"` // an array's
}

// checkLaunchdPlist checks the launchd job at path, the property list data.
func checkLaunchdPlist(path string, data []byte, spec Spec) []Finding {
	var doc struct {
		Dict struct {
			Items []plistItem `xml:",any"`
		} `xml:"dict"`
	}
	if err := xml.Unmarshal(data, &doc); err != nil {
		return []Finding{failFinding(reinstall(spec), "%s is not a property list: %v", path, err)}
	}
	value := func(key string) *plistItem {
		items := doc.Dict.Items
		for i, it := range items {
			if it.XMLName.Local == "key" && strings.TrimSpace(it.Text) == key && i+1 < len(items) {
				return &items[i+1]
			}
		}
		return nil
	}
	out := []Finding{okFinding("launchd job %s is installed", path)}
	if v := value("RunAtLoad"); v != nil && v.XMLName.Local == "true" {
		out = append(out, okFinding("RunAtLoad is true: it starts at boot"))
	} else {
		out = append(out, failFinding(reinstall(spec), "%s lacks RunAtLoad true: it does not start at boot", path))
	}
	want := append([]string{spec.Executable}, spec.Args()...)
	switch v := value("ProgramArguments"); {
	case v == nil || v.XMLName.Local != "array":
		out = append(out, failFinding(reinstall(spec), "%s has no ProgramArguments", path))
	case !slices.Equal(v.Strings, want):
		out = append(out, failFinding(reinstall(spec), "%s runs %q, not %q", path, v.Strings, want))
	default:
		out = append(out, okFinding("the job runs %s with %s", spec.Executable, spec.ConfigFile))
	}
	return out
}

// startAutomatic is the SCM's SERVICE_AUTO_START.
const startAutomatic = 2

// checkWindowsService checks the Windows service's start type and its
// command line, which should be want.
func checkWindowsService(startType uint32, commandLine, want string, spec Spec) []Finding {
	out := []Finding{okFinding("Windows service %s is installed", spec.Name)}
	if startType == startAutomatic {
		out = append(out, okFinding("its start type is automatic: it starts at boot"))
	} else {
		out = append(out, failFinding("as an administrator: sc.exe config "+spec.Name+" start= auto",
			"the start type of %s is not automatic: it does not start at boot", spec.Name))
	}
	if strings.EqualFold(commandLine, want) {
		out = append(out, okFinding("the service runs %s with %s", spec.Executable, spec.ConfigFile))
	} else {
		out = append(out, failFinding(reinstall(spec), "the service runs %s, not %s", commandLine, want))
	}
	return out
}
