// Package importer turns the configuration of another supervisor — a
// supervisord .conf, a PM2 ecosystem file, a docker compose file, a
// Procfile or a systemd .service unit — into a steward configuration: YAML
// that internal/config parses, with a comment wherever something could not
// be mapped. Each format has its own file and parser; they read untrusted
// text and fail with an error, never a panic. Only cmd/steward imports it.
package importer

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stewardhq/steward/internal/config"
)

// Format names a configuration format the importer reads.
type Format string

// The formats.
const (
	Supervisord Format = "supervisord"
	PM2         Format = "pm2"
	Compose     Format = "compose"
	Procfile    Format = "procfile"
	Systemd     Format = "systemd"
)

// Formats lists the formats, for usage messages.
var Formats = []Format{Supervisord, PM2, Compose, Procfile, Systemd}

// MaxFileSize bounds the size of a file to import, as config.MaxFileSize
// bounds a configuration.
const MaxFileSize = config.MaxFileSize

// Options holds what an import needs besides the file.
type Options struct {
	// EvalJS evaluates a PM2 ecosystem file written in JavaScript (.js,
	// .cjs) and returns its export as JSON; nil means NodeEval.
	EvalJS func(path string) ([]byte, error)
	// ReadFile reads the files a format refers to besides the one
	// imported (a Procfile's .env, to know whether it exists, as steward
	// reads it as env_file); nil means that none exists.
	ReadFile func(path string) ([]byte, error)
}

// Detect returns the format of the file named name with content data: by
// its name first (supervisord.conf, *.service, Procfile, compose.yaml,
// ecosystem.config.js…), then by its content.
func Detect(name string, data []byte) (Format, error) {
	base := strings.ToLower(filepath.Base(name))
	ext := filepath.Ext(base)
	switch {
	case ext == ".service":
		return Systemd, nil
	case base == "procfile" || strings.HasPrefix(base, "procfile."):
		return Procfile, nil
	case strings.Contains(base, "supervisor") || ext == ".conf" && bytes.Contains(data, []byte("[program:")):
		return Supervisord, nil
	case strings.Contains(base, "compose") && (ext == ".yaml" || ext == ".yml"):
		return Compose, nil
	case strings.HasPrefix(base, "ecosystem") || strings.Contains(base, "pm2") || ext == ".js" || ext == ".cjs":
		return PM2, nil
	}
	text := string(data)
	switch {
	case strings.Contains(text, "[program:"):
		return Supervisord, nil
	case strings.Contains(text, "[Service]"):
		return Systemd, nil
	case strings.HasPrefix(strings.TrimSpace(text), "{") || strings.HasPrefix(strings.TrimSpace(text), "["):
		return PM2, nil
	case strings.Contains(text, "services:"):
		return Compose, nil
	case procfileLine.MatchString(strings.TrimSpace(text)):
		return Procfile, nil
	}
	return "", fmt.Errorf("%s: cannot tell its format, name one with --from (%s)", name, formatList())
}

// ParseFormat returns the format named s.
func ParseFormat(s string) (Format, error) {
	f := Format(strings.ToLower(s))
	if f == "docker-compose" {
		f = Compose
	}
	if !slices.Contains(Formats, f) {
		return "", fmt.Errorf("unknown format %q, want one of %s", s, formatList())
	}
	return f, nil
}

func formatList() string {
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = string(f)
	}
	return strings.Join(names, ", ")
}

// Input is one file to import.
type Input struct {
	Path   string
	Data   []byte
	Format Format // "" detects it (Detect)
}

// Import converts the files in into one steward configuration, their
// services side by side (so that systemd units that need each other
// depend on each other). Relative paths in a file are resolved from its
// directory. The result is checked with config.Parse: an error means that
// a file cannot be read in its format, that nothing could be imported, or
// that the files cannot be expressed as one valid configuration.
func Import(in []Input, opt Options) ([]byte, error) {
	all := &File{}
	var sources []string
	for _, i := range in {
		f, err := importFile(i, opt)
		if err != nil {
			return nil, err
		}
		sources = append(sources, fmt.Sprintf("%s (%s)", i.Path, f.Format))
		all.Notes = append(all.Notes, f.Notes...)
		all.Services = append(all.Services, f.Services...)
		all.Jobs = append(all.Jobs, f.Jobs...)
	}
	all.Source = strings.Join(sources, ", ")
	all.finish()
	out, err := all.render()
	if err != nil {
		return nil, err
	}
	if _, err := config.Parse("", out, config.Registry{}); err != nil {
		return nil, fmt.Errorf("the imported configuration is not valid:\n%w", err)
	}
	return out, nil
}

// importFile reads one file.
func importFile(in Input, opt Options) (*File, error) {
	if len(in.Data) > MaxFileSize {
		return nil, fmt.Errorf("%s: the file is larger than %d bytes", in.Path, MaxFileSize)
	}
	abs, err := filepath.Abs(in.Path)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	f := in.Format
	if f == "" {
		if f, err = Detect(in.Path, in.Data); err != nil {
			return nil, err
		}
	}
	var file *File
	switch f {
	case Supervisord:
		file, err = fromSupervisord(abs, in.Data)
	case PM2:
		file, err = fromPM2(abs, in.Data, opt)
	case Compose:
		file, err = fromCompose(abs, in.Data)
	case Procfile:
		file, err = fromProcfile(abs, in.Data, opt)
	case Systemd:
		file, err = fromSystemd(abs, in.Data)
	default:
		_, err = ParseFormat(string(f))
	}
	if err != nil {
		return nil, err
	}
	file.Format = f
	return file, nil
}

// File is one imported configuration.
type File struct {
	Source string // the files it was imported from, for the header
	Format Format
	// Notes are comments on the whole file: what was not imported.
	Notes    []string
	Services []*Service
	Jobs     []*Job
}

// Service is one imported service, with the subset of steward's keys that
// the formats map to.
type Service struct {
	Name       string
	Command    []string
	Env        []EnvVar
	EnvFile    string
	InheritEnv []string
	WorkingDir string
	User       string
	Group      string
	Disabled   bool
	DependsOn  []Dep
	Ready      Ready
	Stop       Stop
	Restart    Restart
	Health     *Health
	Logs       Logs
	Memory     int64 // limits.memory in bytes; 0 is none
	// Notes are comments on the service: what could not be mapped.
	Notes []string
}

// EnvVar is one variable of env:.
type EnvVar struct{ Name, Value string }

// Dep is one entry of depends_on; Condition "" is ready.
type Dep struct {
	Name      string
	Condition config.Condition
	Restart   bool
}

// Ready is the subset of ready: the formats map to.
type Ready struct {
	After    time.Duration
	Notify   bool
	Watchdog time.Duration
	Timeout  time.Duration
}

// Stop is stop:; zero values are steward's defaults.
type Stop struct {
	Signal  string
	Timeout time.Duration
}

// Restart is restart:; zero values (and a nil MaxRestarts) are steward's
// defaults.
type Restart struct {
	Policy      string
	Backoff     time.Duration
	MaxBackoff  time.Duration
	MaxRestarts *int
	Window      time.Duration
	Stable      time.Duration
}

// Health is a health: check with an exec probe.
type Health struct {
	Exec        []string
	Interval    time.Duration
	Timeout     time.Duration
	Retries     int
	StartPeriod time.Duration
}

// Logs is logs:; zero values are steward's defaults.
type Logs struct {
	MaxSize int64
	Keep    *int
}

// Job is a job that restarts a service on a schedule.
type Job struct {
	Name, Schedule, Restart string
}

// note adds a comment to s.
func (s *Service) note(format string, args ...any) {
	s.Notes = append(s.Notes, fmt.Sprintf(format, args...))
}

// note adds a comment to f.
func (f *File) note(format string, args ...any) {
	f.Notes = append(f.Notes, fmt.Sprintf(format, args...))
}

// setEnv sets the variable name of s, replacing an earlier value.
func (s *Service) setEnv(name, value string) {
	for i := range s.Env {
		if s.Env[i].Name == name {
			s.Env[i].Value = value
			return
		}
	}
	s.Env = append(s.Env, EnvVar{name, value})
}

// finish makes the names of f's services valid and unique, drops the
// dependencies on services that are not there, and checks what steward
// would reject in the combination of values.
func (f *File) finish() {
	renamed := map[string]string{}
	taken := map[string]bool{}
	for _, s := range f.Services {
		name := serviceName(s.Name)
		for i := 2; taken[strings.ToLower(name)]; i++ {
			name = fmt.Sprintf("%s-%d", serviceName(s.Name), i)
		}
		taken[strings.ToLower(name)] = true
		if name != s.Name {
			s.note("renamed from %q", s.Name)
			renamed[s.Name] = name
			s.Name = name
		}
	}
	byName := map[string]*Service{}
	for _, s := range f.Services {
		byName[s.Name] = s
	}
	for _, j := range f.Jobs {
		if n, ok := renamed[j.Restart]; ok {
			j.Restart = n
		}
		j.Name = serviceName(j.Restart + "-restart")
	}
	for _, s := range f.Services {
		var deps []Dep
		for _, d := range s.DependsOn {
			if n, ok := renamed[d.Name]; ok {
				d.Name = n
			}
			dep := byName[d.Name]
			switch {
			case dep == nil:
				s.note("depends on %s, which is not imported", d.Name)
				continue
			case d.Name == s.Name || slices.ContainsFunc(deps, func(x Dep) bool { return x.Name == d.Name }):
				continue
			case d.Condition == config.ConditionHealthy && dep.Health == nil:
				s.note("waited for %s to be healthy, but it has no health check: waits until it is ready", d.Name)
				d.Condition = config.ConditionReady
			case d.Condition == config.ConditionCompleted && dep.Restart.Policy == config.RestartAlways:
				s.note("waited for %s to complete, but it restarts always: waits until it started", d.Name)
				d.Condition = config.ConditionStarted
			}
			deps = append(deps, d)
		}
		s.DependsOn = deps
		if s.Restart.MaxBackoff != 0 && s.Restart.MaxBackoff < max(s.Restart.Backoff, config.DefaultBackoff) {
			s.Restart.MaxBackoff = max(s.Restart.Backoff, config.DefaultBackoff)
		}
		if s.Restart.MaxBackoff == 0 && s.Restart.Backoff > config.DefaultMaxBackoff {
			s.Restart.MaxBackoff = s.Restart.Backoff
		}
		if s.Ready.Watchdog != 0 && !s.Ready.Notify {
			s.note("watchdog of %v not mapped: it needs the notify protocol", s.Ready.Watchdog)
			s.Ready.Watchdog = 0
		}
	}
}

// serviceName returns name made into a valid service name: characters
// other than letters, digits, '_', '.' and '-' become '-'.
func serviceName(name string) string {
	b := []byte(name)
	for i, c := range b {
		if !isAlnum(c) && c != '_' && c != '.' && c != '-' {
			b[i] = '-'
		}
	}
	s := strings.TrimLeft(string(b), "_.-")
	if len(s) > 64 {
		s = s[:64]
	}
	s = strings.TrimRight(s, ".")
	if s == "" {
		s = "service"
	}
	if config.CheckServiceName(s) != "" {
		s = "svc-" + s
		if len(s) > 64 {
			s = strings.TrimRight(s[:64], ".")
		}
	}
	return s
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// command returns the words of the command line s, which is run without a
// shell: split as steward splits a command string, or, when it needs a
// shell (|, &&, >…), run by sh -c. It returns nil for a blank line.
func command(s string) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	words, err := config.SplitCommand(s)
	if err != nil || len(words) == 0 || words[0] == "" || strings.ContainsRune(s, 0) {
		return shell(s)
	}
	return words
}

// shell returns the command that runs s with sh, or nil when s is blank
// or cannot be an argument.
func shell(s string) []string {
	s = strings.TrimSpace(s)
	if s == "" || strings.ContainsRune(s, 0) {
		return nil
	}
	return []string{"sh", "-c", s}
}

// needsShell reports whether the command line s means something only a
// shell gives it a meaning: variables, pipes, lists, redirections, globs.
func needsShell(s string) bool {
	return strings.ContainsAny(s, "$`|&;<>*?(){}[]~\n")
}

// seconds parses a whole or decimal number of seconds.
func seconds(s string) (time.Duration, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f < 0 || f > 1e9 {
		return 0, fmt.Errorf("%q is not a number of seconds", s)
	}
	return time.Duration(f * float64(time.Second)).Round(time.Millisecond), nil
}

// duration parses a Go duration, a Compose one ("1m30s") or a systemd one
// ("5min 20s", "1h"), or a bare number of unit.
func duration(s string, unit time.Duration) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if f, err := strconv.ParseFloat(t, 64); err == nil {
		if f < 0 || f*float64(unit) > float64(1<<62) {
			return 0, fmt.Errorf("%q is out of range", s)
		}
		return time.Duration(f * float64(unit)).Round(time.Millisecond), nil
	}
	var total time.Duration
	words := strings.Fields(t)
	if len(words) == 0 {
		return 0, fmt.Errorf("%q is not a duration", s)
	}
	for _, w := range words {
		w = strings.NewReplacer("usec", "us", "msec", "ms", "seconds", "s", "second", "s", "sec", "s",
			"minutes", "m", "minute", "m", "min", "m", "hours", "h", "hour", "h", "hr", "h",
			"days", "d", "day", "d", "weeks", "w", "week", "w").Replace(w)
		d, err := durationWord(w)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration", s)
		}
		total += d
	}
	if total < 0 || total > 1<<62 {
		return 0, fmt.Errorf("%q is out of range", s)
	}
	return total, nil
}

// durationWord parses one Go duration, with d (days) and w (weeks) too.
func durationWord(w string) (time.Duration, error) {
	for _, u := range []struct {
		suffix string
		d      time.Duration
	}{{"d", 24 * time.Hour}, {"w", 7 * 24 * time.Hour}} {
		if n, ok := strings.CutSuffix(w, u.suffix); ok {
			f, err := strconv.ParseFloat(n, 64)
			if err != nil || f < 0 || f > 1e6 {
				return 0, errors.New("bad duration")
			}
			return time.Duration(f * float64(u.d)), nil
		}
	}
	d, err := time.ParseDuration(w)
	if err == nil && d < 0 {
		err = errors.New("negative")
	}
	return d, err
}

// size parses a size as the formats write it: a number with an optional
// K, M, G or T (powers of 1024, as systemd, PM2 and supervisord read them),
// KB, MB, GB (supervisord: powers of 1024 too).
func size(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "B"), "I")
	mult := int64(1)
	if t != "" {
		switch t[len(t)-1] {
		case 'K':
			mult = 1 << 10
		case 'M':
			mult = 1 << 20
		case 'G':
			mult = 1 << 30
		case 'T':
			mult = 1 << 40
		}
		if mult > 1 {
			t = t[:len(t)-1]
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a size", s)
	}
	return n * mult, nil
}

// signal returns the stop signal named s (TERM, SIGTERM, 15…) as steward
// names it, or "" when steward cannot send it.
func signal(s string) string {
	t := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(s)), "SIG")
	switch t {
	case "1":
		t = "HUP"
	case "2":
		t = "INT"
	case "3":
		t = "QUIT"
	case "9":
		t = "KILL"
	case "10":
		t = "USR1"
	case "12":
		t = "USR2"
	case "15":
		t = "TERM"
	}
	switch t {
	case "TERM", "INT", "HUP", "QUIT", "KILL", "USR1", "USR2":
		return t
	}
	return ""
}

// absPath returns p made absolute from dir.
func absPath(dir, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(dir, p)
}

// validEnvName reports whether name can be a variable of env:.
func validEnvName(name string) bool {
	return name != "" && !strings.ContainsAny(name, "=\x00")
}

// intPtr returns a pointer to i.
func intPtr(i int) *int { return &i }
