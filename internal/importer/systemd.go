package importer

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stewardhq/steward/internal/config"
)

// systemdSpecifier matches a %x specifier of a unit file.
var systemdSpecifier = regexp.MustCompile(`%.`)

// systemdDep is a [Unit] key naming units a service needs, and the
// condition it maps to; restart: the unit is restarted when the one it
// names is (BindsTo).
type systemdDep struct {
	key     string
	cond    config.Condition
	restart bool
}

// systemdDeps are the [Unit] keys naming units a service needs, and the
// condition each maps to.
var systemdDeps = []systemdDep{
	{"Requires", config.ConditionReady, false},
	{"BindsTo", config.ConditionReady, true},
	{"Requisite", config.ConditionReady, false},
	{"Wants", config.ConditionStarted, false},
	{"After", config.ConditionStarted, false},
}

// fromSystemd reads a systemd .service unit into one service; its
// dependencies name other units by their service names, which Import's
// finish keeps only when they are imported too.
func fromSystemd(path string, data []byte) (*File, error) {
	sections, err := parseINI(path, data, iniDialect{})
	if err != nil {
		return nil, err
	}
	unit := filepath.Base(path)
	prefix, instance, _ := strings.Cut(strings.TrimSuffix(unit, ".service"), "@")
	s := &Service{Name: prefix}
	if instance != "" {
		s.Name = prefix + "-" + instance
	}
	var notes []string
	expand := func(v string) string {
		return systemdSpecifier.ReplaceAllStringFunc(v, func(m string) string {
			switch m[1] {
			case 'i', 'I':
				if instance != "" {
					return instance
				}
			case 'n':
				return unit
			case 'N':
				return strings.TrimSuffix(unit, ".service")
			case 'p', 'P':
				return prefix
			case '%':
				return "%"
			}
			notes = append(notes, fmt.Sprintf("specifier %s is systemd's, left as written", m))
			return m
		})
	}
	f := &File{Services: []*Service{s}}
	var service *iniSection
	for _, sec := range sections {
		switch sec.Name {
		case "Service":
			service = sec
		case "Unit":
			if err := systemdUnit(s, sec, expand); err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
		case "Install":
			// steward starts every service it has that is not disabled.
		default:
			s.note("[%s] not mapped", sec.Name)
		}
	}
	if service == nil {
		return nil, fmt.Errorf("%s: no [Service] section", path)
	}
	if err := systemdService(s, service, expand); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	slices.Sort(notes)
	s.Notes = append(s.Notes, slices.Compact(notes)...)
	return f, nil
}

// systemdUnit maps the [Unit] section.
func systemdUnit(s *Service, sec *iniSection, expand func(string) string) error {
	for _, k := range sec.Keys {
		v := expand(k.Value)
		switch k.Name {
		case "Description":
			s.Notes = append([]string{v}, s.Notes...)
		case "StartLimitBurst", "StartLimitIntervalSec":
			if err := systemdRestartLimit(s, k, v); err != nil {
				return err
			}
		case "Documentation", "DefaultDependencies":
		default:
			i := slices.IndexFunc(systemdDeps, func(d systemdDep) bool { return d.key == k.Name })
			if i < 0 {
				s.note("%s=%s not mapped", k.Name, v)
				continue
			}
			for _, u := range strings.Fields(v) {
				name, ok := strings.CutSuffix(u, ".service")
				if !ok {
					if !slices.Contains([]string{"network.target", "network-online.target", "multi-user.target", "local-fs.target", "remote-fs.target", "syslog.target", "basic.target"}, u) {
						s.note("%s=%s: steward has no units but services", k.Name, u)
					}
					continue
				}
				name = strings.ReplaceAll(name, "@", "-")
				d := systemdDeps[i]
				j := slices.IndexFunc(s.DependsOn, func(x Dep) bool { return x.Name == name })
				switch {
				case j < 0:
					s.DependsOn = append(s.DependsOn, Dep{Name: name, Condition: d.cond, Restart: d.restart})
				case d.cond == config.ConditionReady:
					s.DependsOn[j].Condition = d.cond
					s.DependsOn[j].Restart = s.DependsOn[j].Restart || d.restart
				}
			}
		}
	}
	return nil
}

// systemdRestartLimit maps StartLimitBurst and StartLimitIntervalSec.
func systemdRestartLimit(s *Service, k iniKey, v string) error {
	if k.Name == "StartLimitBurst" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("line %d: StartLimitBurst=%s is not a whole number", k.Line, v)
		}
		s.Restart.MaxRestarts = intPtr(n)
		return nil
	}
	d, err := duration(v, time.Second)
	if err != nil {
		return fmt.Errorf("line %d: %s: %w", k.Line, k.Name, err)
	}
	if d > 0 {
		s.Restart.Window = d
	}
	return nil
}

// systemdService maps the [Service] section.
func systemdService(s *Service, sec *iniSection, expand func(string) string) error {
	typ := "simple"
	restart := "no"
	var execStart []string
	var envFiles []string
	for _, k := range sec.Keys {
		v := expand(k.Value)
		errorf := func(format string, args ...any) error {
			return fmt.Errorf("line %d: %s: %s", k.Line, k.Name, fmt.Sprintf(format, args...))
		}
		dur := func() (time.Duration, error) {
			t, err := duration(v, time.Second)
			if err != nil {
				return 0, errorf("%v", err)
			}
			return t, nil
		}
		switch k.Name {
		case "Type":
			typ = v
		case "ExecStart":
			if v == "" {
				execStart = nil
			} else {
				execStart = append(execStart, v)
			}
		case "WorkingDirectory":
			v = strings.TrimPrefix(v, "-")
			if v == "~" || !filepath.IsAbs(v) {
				s.note("WorkingDirectory=%s not mapped: steward needs an absolute path", v)
			} else {
				s.WorkingDir = filepath.Clean(v)
			}
		case "User":
			s.User = v
		case "Group":
			s.Group = v
		case "Environment":
			words, err := config.SplitCommand(v)
			if err != nil {
				return errorf("%v", err)
			}
			for _, w := range words {
				name, val, ok := strings.Cut(w, "=")
				if !ok || !validEnvName(name) {
					return errorf("want NAME=value, got %q", clip(w))
				}
				s.setEnv(name, val)
			}
		case "EnvironmentFile":
			if v == "" {
				envFiles = nil
			} else {
				envFiles = append(envFiles, v)
			}
		case "Restart":
			restart = v
		case "RestartSec":
			t, err := dur()
			if err != nil {
				return err
			}
			s.Restart.Backoff = t
		case "StartLimitBurst", "StartLimitIntervalSec":
			if err := systemdRestartLimit(s, k, v); err != nil {
				return err
			}
		case "TimeoutStopSec", "TimeoutStartSec", "TimeoutSec", "WatchdogSec":
			t, err := dur()
			if err != nil {
				return err
			}
			if k.Name != "TimeoutStartSec" && k.Name != "WatchdogSec" {
				s.Stop.Timeout = t
			}
			if k.Name == "TimeoutStartSec" || k.Name == "TimeoutSec" {
				s.Ready.Timeout = t
			}
			if k.Name == "WatchdogSec" {
				s.Ready.Watchdog = t
			}
		case "KillSignal":
			if s.Stop.Signal = signal(v); s.Stop.Signal == "" {
				s.note("KillSignal=%s: steward stops with TERM, INT, HUP, QUIT, KILL, USR1 or USR2; it sends TERM", v)
			}
		case "KillMode":
			if v != "control-group" && v != "mixed" {
				s.note("KillMode=%s: steward kills the whole process tree", v)
			}
		case "MemoryMax", "MemoryLimit":
			n, err := size(v)
			if err != nil {
				s.note("%s=%s not mapped", k.Name, v)
				continue
			}
			s.Memory = n
			s.note("%s=%s: limits.memory restarts the service when its process tree uses more", k.Name, v)
		case "RemainAfterExit":
		default:
			s.note("%s=%s not mapped", k.Name, v)
		}
	}
	if len(execStart) == 0 {
		return fmt.Errorf("[Service] has no ExecStart")
	}
	if len(execStart) > 1 {
		s.note("%d ExecStart lines: run one after the other by sh", len(execStart))
		var parts []string
		for _, e := range execStart {
			parts = append(parts, strings.TrimLeft(e, "-@+!:"))
		}
		s.Command = shell(strings.Join(parts, " && "))
	} else {
		line := execStart[0]
		if p := strings.TrimLeft(line, "-@+!:"); p != line {
			if strings.ContainsAny(line[:len(line)-len(p)], "@+!") {
				s.note("ExecStart prefix %q not mapped", line[:len(line)-len(p)])
			}
			line = p
		}
		if needsShell(line) {
			s.Command = shell(line)
		} else {
			s.Command = command(line)
		}
	}
	if s.Command == nil {
		return fmt.Errorf("[Service] has an empty ExecStart")
	}
	for i, e := range envFiles {
		optional := strings.HasPrefix(e, "-")
		e = strings.TrimPrefix(e, "-")
		switch {
		case i > 0 || !filepath.IsAbs(e):
			s.note("EnvironmentFile=%s not mapped: steward takes one env_file, an absolute path", e)
		default:
			s.EnvFile = filepath.Clean(e)
			if optional {
				s.note("EnvironmentFile=-%s was optional; steward's env_file must exist", e)
			}
		}
	}
	switch typ {
	case "simple", "exec":
	case "notify", "notify-reload":
		s.Ready.Notify = true
	case "oneshot":
		if restart == "no" {
			s.Restart.Policy = config.RestartNever
		}
	case "forking":
		s.note("Type=forking: steward supervises a process that stays in the foreground; start it so (e.g. its --foreground or --no-daemon flag)")
	default:
		s.note("Type=%s: run as Type=simple", typ)
	}
	if !s.Ready.Notify {
		s.Ready.Timeout = 0
	}
	switch restart {
	case "no":
		s.Restart.Policy = config.RestartNever
	case "always":
		s.Restart.Policy = config.RestartAlways
	case "on-failure", "on-abnormal", "on-abort", "on-watchdog":
		s.Restart.Policy = config.RestartOnFailure
		if restart != "on-failure" {
			s.note("Restart=%s: restarts on any failure", restart)
		}
	case "on-success":
		s.Restart.Policy = config.RestartAlways
		s.note("Restart=on-success: steward has no such policy; restarts always")
	default:
		return fmt.Errorf("the policy Restart=%s is not one of systemd", restart)
	}
	if typ == "oneshot" && s.Restart.Policy == config.RestartAlways {
		s.Restart.Policy = config.RestartOnFailure
	}
	return nil
}
