package importer

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/stewardhq/steward/internal/config"
)

// supervisordExpansion matches %(name)s, %(name)d and %(name)02d.
var supervisordExpansion = regexp.MustCompile(`%\(([A-Za-z0-9_]+)\)(-?[0-9]*)([sd])`)

// fromSupervisord reads a supervisord .conf: its [program:x] sections.
func fromSupervisord(path string, data []byte) (*File, error) {
	sections, err := parseINI(path, data, iniDialect{indentContinues: true, colon: true, inlineComments: true})
	if err != nil {
		return nil, err
	}
	f := &File{}
	host, _ := os.Hostname()
	here := filepath.Dir(path)
	var global []EnvVar
	priorities := map[*Service]int{}
	for _, sec := range sections {
		kind, name, _ := strings.Cut(sec.Name, ":")
		switch kind {
		case "supervisord":
			if env, ok := sec.get("environment"); ok {
				vars, err := supervisordEnv(env)
				if err != nil {
					return nil, fmt.Errorf("%s:%d: [supervisord] environment: %w", path, sec.Line, err)
				}
				global = vars
			}
		case "program":
			svcs, prio, err := supervisordProgram(path, sec, name, here, host)
			if err != nil {
				return nil, err
			}
			for _, s := range svcs {
				priorities[s] = prio
			}
			f.Services = append(f.Services, svcs...)
		case "group":
			programs, _ := sec.get("programs")
			f.note("[%s] (%s): steward has no groups; its programs are imported one by one", sec.Name, programs)
		case "include":
			files, _ := sec.get("files")
			f.note("[include] files = %s: import each of them too", files)
		case "eventlistener", "fcgi-program":
			f.note("[%s]: steward has no %s", sec.Name, kind)
		case "unix_http_server", "inet_http_server", "supervisorctl", "rpcinterface":
			// supervisord's own control; steward has its API.
		default:
			f.note("[%s] is not a supervisord section steward knows", sec.Name)
		}
	}
	for _, s := range f.Services {
		for _, e := range global {
			if !slices.ContainsFunc(s.Env, func(v EnvVar) bool { return v.Name == e.Name }) {
				s.Env = append(s.Env, e)
			}
		}
	}
	supervisordPriorities(f.Services, priorities)
	return f, nil
}

// supervisordProgram reads one [program:name] section: numprocs services.
func supervisordProgram(path string, sec *iniSection, name, here, host string) ([]*Service, int, error) {
	errorf := func(k iniKey, format string, args ...any) error {
		return fmt.Errorf("%s:%d: %s: %s", path, k.Line, k.Name, fmt.Sprintf(format, args...))
	}
	numprocs, start, priority := 1, 0, 999
	for _, k := range sec.Keys {
		var err error
		switch k.Name {
		case "numprocs":
			numprocs, err = strconv.Atoi(k.Value)
			if err != nil || numprocs < 1 || numprocs > 1000 {
				return nil, 0, errorf(k, "want a number from 1 to 1000, got %q", k.Value)
			}
		case "numprocs_start":
			start, err = strconv.Atoi(k.Value)
			if err != nil || start < 0 || start > 1e6 {
				return nil, 0, errorf(k, "want a whole number, got %q", k.Value)
			}
		case "priority":
			priority, err = strconv.Atoi(k.Value)
			if err != nil {
				return nil, 0, errorf(k, "want a whole number, got %q", k.Value)
			}
		}
	}
	processName := "%(program_name)s"
	if v, ok := sec.get("process_name"); ok {
		processName = v
	}
	if numprocs > 1 && !strings.Contains(processName, "%(process_num)") {
		return nil, 0, fmt.Errorf("%s:%d: [%s] has numprocs = %d, so its process_name needs %%(process_num)", path, sec.Line, sec.Name, numprocs)
	}
	var out []*Service
	for num := start; num < start+numprocs; num++ {
		vars := map[string]string{"program_name": name, "group_name": name, "process_num": strconv.Itoa(num),
			"host_node_name": host, "here": here, "numprocs": strconv.Itoa(numprocs)}
		var notes []string
		expand := func(s string) string {
			s = supervisordExpansion.ReplaceAllStringFunc(s, func(m string) string {
				g := supervisordExpansion.FindStringSubmatch(m)
				if env, ok := strings.CutPrefix(g[1], "ENV_"); ok {
					notes = append(notes, fmt.Sprintf("%s was supervisord's environment variable %s when it started: written as ${%s}", m, env, env))
					return "${" + env + "}"
				}
				v, ok := vars[g[1]]
				if !ok {
					return m
				}
				if g[3] == "d" && g[2] != "" {
					if n, err := strconv.Atoi(v); err == nil {
						if w, err := strconv.Atoi(strings.TrimPrefix(g[2], "-")); err == nil && w <= 20 {
							return fmt.Sprintf("%0*d", w, n)
						}
					}
				}
				return v
			})
			return strings.ReplaceAll(s, "%%", "%")
		}
		s := &Service{Name: expand(processName)}
		for _, k := range sec.Keys {
			v := expand(k.Value)
			if err := supervisordKey(s, k, v, here); err != nil {
				return nil, 0, errorf(k, "%v", err)
			}
		}
		if s.Command == nil {
			return nil, 0, fmt.Errorf("%s:%d: [%s] has no command", path, sec.Line, sec.Name)
		}
		s.Notes = append(notes, s.Notes...)
		out = append(out, s)
	}
	return out, priority, nil
}

// supervisordKey maps the key k, value v (expanded), of a program to s.
func supervisordKey(s *Service, k iniKey, v, here string) error {
	var err error
	switch k.Name {
	case "command":
		if strings.Contains(v, "${") {
			s.Command = shell(v)
		} else {
			s.Command = command(v)
		}
		if s.Command == nil {
			return fmt.Errorf("is empty")
		}
	case "process_name", "numprocs", "numprocs_start", "priority":
		// read by supervisordProgram
	case "directory":
		s.WorkingDir = absPath(here, v)
	case "user":
		s.User = v
	case "environment":
		vars, err := supervisordEnv(v)
		if err != nil {
			return err
		}
		for _, e := range vars {
			s.setEnv(e.Name, e.Value)
		}
	case "autostart":
		b, err := supervisordBool(v)
		if err != nil {
			return err
		}
		s.Disabled = !b
	case "autorestart":
		switch strings.ToLower(v) {
		case "unexpected":
			s.Restart.Policy = config.RestartOnFailure
		default:
			b, err := supervisordBool(v)
			if err != nil {
				return fmt.Errorf("want true, false or unexpected, got %q", v)
			}
			s.Restart.Policy = config.RestartNever
			if b {
				s.Restart.Policy = config.RestartAlways
			}
		}
	case "exitcodes":
		if strings.TrimSpace(v) != "0" {
			s.note("exitcodes = %s: steward counts only exit status 0 as a clean exit", v)
		}
	case "startsecs":
		if s.Ready.After, err = seconds(v); err != nil {
			return err
		}
	case "startretries":
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("want a whole number, got %q", v)
		}
		s.Restart.MaxRestarts = intPtr(n)
	case "stopsignal":
		if s.Stop.Signal = signal(v); s.Stop.Signal == "" {
			s.note("stopsignal = %s: steward stops with TERM, INT, HUP, QUIT, KILL, USR1 or USR2; it sends TERM", v)
		}
	case "stopwaitsecs":
		if s.Stop.Timeout, err = seconds(v); err != nil {
			return err
		}
	case "stopasgroup", "killasgroup":
		// steward always signals and kills the whole process group.
	case "stdout_logfile_maxbytes", "logfile_maxbytes":
		if s.Logs.MaxSize, err = size(v); err != nil {
			return err
		}
	case "stdout_logfile_backups", "logfile_backups":
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("want a whole number, got %q", v)
		}
		s.Logs.Keep = intPtr(n)
	case "stdout_logfile", "stderr_logfile", "logfile":
		if u := strings.ToUpper(v); u != "AUTO" && u != "NONE" {
			s.note("%s = %s: steward writes the output under its data_dir (steward logs %s)", k.Name, v, s.Name)
		}
	case "redirect_stderr", "stderr_logfile_maxbytes", "stderr_logfile_backups", "stdout_capture_maxbytes",
		"stderr_capture_maxbytes", "stdout_events_enabled", "stderr_events_enabled", "stdout_syslog", "stderr_syslog", "serverurl":
		// steward captures stdout and stderr into one log of its own.
	default:
		s.note("%s = %s: not mapped", k.Name, v)
	}
	return nil
}

// supervisordBool reads a supervisord boolean.
func supervisordBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true", "yes", "on", "1":
		return true, nil
	case "false", "no", "off", "0":
		return false, nil
	}
	return false, fmt.Errorf("want true or false, got %q", v)
}

// supervisordEnv reads KEY="val",KEY2=val2.
func supervisordEnv(v string) ([]EnvVar, error) {
	var out []EnvVar
	var parts []string
	var cur strings.Builder
	var quote byte
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			cur.WriteByte(c)
		case c == '"' || c == '\'':
			quote = c
		case c == ',':
			parts = append(parts, cur.String())
			cur.Reset()
		case c == '\n':
		default:
			cur.WriteByte(c)
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated quote")
	}
	parts = append(parts, cur.String())
	for _, p := range parts {
		if strings.TrimSpace(p) == "" {
			continue
		}
		k, val, ok := strings.Cut(p, "=")
		k = strings.TrimSpace(k)
		if !ok || !validEnvName(k) {
			return nil, fmt.Errorf("want KEY=value, got %q", clip(p))
		}
		out = append(out, EnvVar{k, val})
	}
	return out, nil
}

// supervisordPriorities turns supervisord's start order by priority into
// dependencies: each service starts once those of the next lower priority
// have started. (supervisord starts lower priorities first and stops them
// last, without waiting; steward stops dependents first too.)
func supervisordPriorities(svcs []*Service, prio map[*Service]int) {
	var levels []int
	for _, s := range svcs {
		if !slices.Contains(levels, prio[s]) {
			levels = append(levels, prio[s])
		}
	}
	if len(levels) < 2 {
		return
	}
	slices.Sort(levels)
	for i := 1; i < len(levels); i++ {
		for _, s := range svcs {
			if prio[s] != levels[i] {
				continue
			}
			for _, d := range svcs {
				if prio[d] == levels[i-1] && !d.Disabled {
					s.DependsOn = append(s.DependsOn, Dep{Name: d.Name, Condition: config.ConditionStarted})
				}
			}
			s.note("priority %d: starts once the programs of priority %d have started", levels[i], levels[i-1])
		}
	}
}
