// Package logwatch provides the log watch: it follows files and globs —
// new files matching a glob are picked up — across rotation by rename and
// by copytruncate and across truncation, and checks every line against
// rules: an RE2 match, an optional exclude, a severity, a count condition
// ("5 in 1m") and a message template with the match's named groups. Rule
// hits become Events for a Handler; per-rule counters are in Stats.
//
// The read position of every file is kept in the store by the file's
// identity (device and inode; volume serial and file index on Windows),
// guarded by a hash of its first bytes, so that a restart of steward
// neither re-reads old lines nor misses lines written while it was down.
// A Watcher can also check the output of a supervised service, taken live
// from its logcap.Log, so that its log file is not read twice.
//
// It follows files with inotify (Linux) or ReadDirectoryChangesW (Windows)
// through fsnotify, and polls as well, as a safety net and as the only
// means on macOS and the BSDs, where kqueue would hold a descriptor for
// every file in every watched directory.
//
// The daemon imports it for the logwatch kind; it imports store and logcap.
package logwatch

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Defaults.
const (
	DefaultSeverity = "warning"
	// DefaultPoll is how often files are checked besides inotify's events
	// on Linux: a safety net for lost events and file systems without them
	// (NFS). On Windows, whose directory events report a growing file late,
	// it is DefaultPollWindows; where there are no events, it is
	// DefaultPollNoEvents.
	DefaultPoll         = 10 * time.Second
	DefaultPollWindows  = time.Second
	DefaultPollNoEvents = 250 * time.Millisecond
	// tickEvery is how often count conditions are checked for their end.
	tickEvery = time.Second
)

// Severities a rule may have.
var severities = []string{"info", "warning", "critical"}

// Where to start reading files that exist at a watch's very first start.
const (
	StartEnd       = "end"       // only what is written from now on (default)
	StartBeginning = "beginning" // everything they hold
)

// Config is a logwatch service's configuration.
type Config struct {
	// Name is the service's name: events carry it, offsets are kept under it.
	Name string `json:"name"`
	// Files are paths and globs (filepath.Match syntax) of the files to
	// follow. Relative ones start from the configuration file's directory;
	// the config package makes them absolute.
	Files []string `json:"files,omitempty"`
	// Services are supervised services whose output is checked too; the
	// daemon feeds it with Watcher.Follow.
	Services []string     `json:"services,omitempty"`
	Rules    []RuleConfig `json:"rules"`
	// StartAt says where reading starts in the files that exist at the
	// watch's very first start: StartEnd (default) or StartBeginning. Files
	// that appear later are always read from their beginning.
	StartAt string `json:"start_at,omitempty"`
	// Poll is how often files are checked besides file system events; 0
	// means DefaultPoll, DefaultPollWindows or DefaultPollNoEvents.
	Poll time.Duration `json:"poll,omitempty"`
}

// RuleConfig is one rule of a log watch.
type RuleConfig struct {
	Name     string `json:"name,omitempty"`     // default "rule-N", N from 1 in order
	Match    string `json:"match"`              // RE2, matched against each line
	Exclude  string `json:"exclude,omitempty"`  // RE2; a line it matches does not count
	Severity string `json:"severity,omitempty"` // info, warning (default) or critical
	When     string `json:"when,omitempty"`     // "COUNT in DURATION"; default every match
	// Message is the event's text: $name or ${name} stand for the named
	// group, $1 or ${1} for a numbered one, $0 for the whole match, $$
	// for a $. Default: the line.
	Message string `json:"message,omitempty"`
}

// FieldError is a problem with one field of a configuration, at a path in
// the YAML spelling such as "rules[1].when", so that the config package
// can report its position.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

type problems []error

func (p *problems) add(field, format string, args ...any) {
	*p = append(*p, &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
}

// Validate reports every problem with c as FieldErrors joined with
// errors.Join.
func (c Config) Validate() error {
	var p problems
	if c.Name == "" {
		p.add("name", "is required")
	}
	if len(c.Files) == 0 && len(c.Services) == 0 {
		p.add("files", "a log watch needs files or services to watch")
	}
	for i, f := range c.Files {
		field := fmt.Sprintf("files[%d]", i)
		switch {
		case f == "":
			p.add(field, "empty path")
		case !filepath.IsAbs(f):
			p.add(field, "path %q is not absolute", f)
		default:
			if _, err := filepath.Match(f, ""); err != nil {
				p.add(field, "invalid glob %q", f)
			}
			if hasMeta(filepath.Dir(f)) {
				p.add(field, "a glob may not have wildcards in its directory: %q", f)
			}
		}
	}
	for i, s := range c.Services {
		if s == "" {
			p.add(fmt.Sprintf("services[%d]", i), "empty service name")
		}
	}
	if len(c.Rules) == 0 {
		p.add("rules", "a log watch needs at least one rule")
	}
	names := map[string]bool{}
	for i, r := range c.Rules {
		for _, err := range r.validate() {
			var fe *FieldError
			if errors.As(err, &fe) {
				fe.Field = fmt.Sprintf("rules[%d].%s", i, fe.Field)
			}
			p = append(p, err)
		}
		name := r.name(i)
		if names[name] {
			p.add(fmt.Sprintf("rules[%d].name", i), "rule %q is already defined", name)
		}
		names[name] = true
	}
	switch c.StartAt {
	case "", StartEnd, StartBeginning:
	default:
		p.add("start_at", "unknown value %q, want end or beginning", c.StartAt)
	}
	if c.Poll < 0 {
		p.add("poll", "must not be negative")
	} else if c.Poll > 0 && c.Poll < 10*time.Millisecond {
		p.add("poll", "must be at least 10ms")
	}
	return errors.Join(p...)
}

func (r RuleConfig) name(i int) string {
	if r.Name != "" {
		return r.Name
	}
	return "rule-" + strconv.Itoa(i+1)
}

// Validate reports every problem with r.
func (r RuleConfig) Validate() error { return errors.Join(r.validate()...) }

func (r RuleConfig) validate() problems {
	var p problems
	var re *regexp.Regexp
	if r.Match == "" {
		p.add("match", "is required")
	} else if x, err := regexp.Compile(r.Match); err != nil {
		p.add("match", "invalid regular expression: %v", regexpMessage(err))
	} else {
		re = x
	}
	if r.Exclude != "" {
		if _, err := regexp.Compile(r.Exclude); err != nil {
			p.add("exclude", "invalid regular expression: %v", regexpMessage(err))
		}
	}
	if r.Severity != "" && !validSeverity(r.Severity) {
		p.add("severity", "unknown severity %q, want info, warning or critical", r.Severity)
	}
	if _, err := ParseWhen(r.When); err != nil {
		p.add("when", "%v", err)
	}
	if re != nil {
		if err := checkTemplate(r.Message, re); err != nil {
			p.add("message", "%v", err)
		}
	}
	return p
}

func validSeverity(s string) bool {
	for _, v := range severities {
		if s == v {
			return true
		}
	}
	return false
}

// regexpMessage returns the message of a regexp error without the "error
// parsing regexp: " prefix.
func regexpMessage(err error) string {
	return strings.TrimPrefix(err.Error(), "error parsing regexp: ")
}

func hasMeta(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[':
			return true
		case '\\':
			if filepath.Separator != '\\' {
				return true
			}
		}
	}
	return false
}

// checkTemplate checks that every group t refers to exists in re.
func checkTemplate(t string, re *regexp.Regexp) error {
	for i := 0; i < len(t); i++ {
		if t[i] != '$' {
			continue
		}
		if i+1 < len(t) && t[i+1] == '$' {
			i++
			continue
		}
		name, n, ok := templateRef(t[i:])
		if !ok {
			return fmt.Errorf("invalid reference at offset %d of %q: want $name, ${name} or $$", i, t)
		}
		if num, err := strconv.Atoi(name); err == nil {
			if num > re.NumSubexp() {
				return fmt.Errorf("the match has no group %d", num)
			}
		} else if re.SubexpIndex(name) < 0 {
			return fmt.Errorf("the match has no group named %q", name)
		}
		i += n - 1
	}
	return nil
}

// templateRef parses the reference at the start of s, which begins with
// '$', as regexp.Expand does: it returns the name and the length of the
// reference.
func templateRef(s string) (name string, n int, ok bool) {
	if len(s) < 2 {
		return "", 0, false
	}
	brace := s[1] == '{'
	i := 1
	if brace {
		i = 2
	}
	j := i
	for j < len(s) && (s[j] == '_' || '0' <= s[j] && s[j] <= '9' || 'a' <= s[j] && s[j] <= 'z' || 'A' <= s[j] && s[j] <= 'Z') {
		j++
	}
	if j == i {
		return "", 0, false
	}
	name = s[i:j]
	if brace {
		if j >= len(s) || s[j] != '}' {
			return "", 0, false
		}
		j++
	}
	return name, j, true
}
