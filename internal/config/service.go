package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// services reads the services section into c.
func (p *parser) services(n *yaml.Node, c *Config) {
	fields, _ := p.mapping(n, "services", func(name, first string) string {
		return fmt.Sprintf("duplicate service %q (first at %s)", name, first)
	})
	folded := map[string]*yaml.Node{}
	for _, f := range fields {
		name := f.key.Value
		if msg := checkName(name); msg != "" {
			p.errorf(f.key, "%s", msg)
		} else if first := folded[strings.ToLower(name)]; first != nil {
			p.errorf(f.key, "service %q differs only in case from %q (at %d:%d), and names are file names", name, first.Value, first.Line, first.Column)
		} else {
			folded[strings.ToLower(name)] = f.key
		}
		p.declared[name] = f.key
		c.Order = append(c.Order, name)
		if s := p.service(name, f.key, f.val); s != nil {
			c.Services[name] = s
		}
	}
}

// CheckServiceName returns why name cannot name a service, or "" when it
// can.
func CheckServiceName(name string) string { return checkName(name) }

// checkName returns why name cannot name a service, or "" when it can.
// Names become file names and URL path segments.
func checkName(name string) string {
	if name == "" {
		return "a service name must not be empty"
	}
	ok := len(name) <= 64 && isAlnum(name[0])
	for i := 0; ok && i < len(name); i++ {
		c := name[i]
		ok = isAlnum(c) || c == '_' || c == '.' || c == '-'
	}
	if !ok {
		return fmt.Sprintf("service name %q must be 1 to 64 letters, digits, '_', '.' and '-', starting with a letter or digit", name)
	}
	if strings.HasSuffix(name, ".") {
		return fmt.Sprintf("service name %q must not end with '.'", name)
	}
	base, _, _ := strings.Cut(strings.ToUpper(name), ".")
	switch base {
	case "CON", "PRN", "AUX", "NUL",
		"COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
		"LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9":
		return fmt.Sprintf("service name %q is a device name on Windows", name)
	}
	return ""
}

// service reads one service, declared by key. It returns nil when the
// service's kind is not supported.
func (p *parser) service(name string, key, n *yaml.Node) *Service {
	s := &Service{
		Name:  name,
		Kind:  DefaultKind,
		Ready: Ready{Timeout: DefaultReadyTimeout},
		Stop:  Stop{Signal: DefaultStopSignal, Timeout: DefaultStopTimeout},
		Restart: Restart{
			Policy:      DefaultRestartPolicy,
			Backoff:     DefaultBackoff,
			MaxBackoff:  DefaultMaxBackoff,
			MaxRestarts: DefaultMaxRestarts,
			Window:      DefaultWindow,
			Stable:      DefaultStable,
		},
		Logs: Logs{MaxSize: DefaultLogMaxSize, Keep: DefaultLogKeep},
		At:   Positions{"": PosOf(key)},
	}
	// The kind decides which keys are valid, so it is read first.
	what := fmt.Sprintf("service %q", name)
	fields, ok := p.mapping(n, what, duplicateKey)
	if !ok {
		return nil
	}
	for _, f := range fields {
		if f.key.Value == "kind" {
			if kind, ok := p.str(f.val, "kind"); ok && kind != DefaultKind {
				ks, ok := p.reg.Kinds[kind]
				if !ok {
					p.errorf(f.val, "kind %q is not supported", kind)
					return nil
				}
				return p.kindService(s, kind, ks, key, n)
			}
		}
	}
	fields = p.fields(n, what,
		"kind", "command", "env", "env_file", "inherit_env", "working_dir", "user", "group",
		"depends_on", "disabled", "ready", "stop", "restart", "logs", "health", "limits", "on_exit", "exit_code", "slo", "tenant", "registry")
	badCommand := false // the command is given but not valid
	for _, f := range fields {
		s.At[f.key.Value] = PosOf(f.val)
		switch f.key.Value {
		case "command":
			errs := len(p.errs)
			s.Command, _ = p.command(f.val, "command")
			badCommand = len(p.errs) > errs
		case "env":
			s.Env = p.env(f.val)
		case "env_file":
			s.EnvFile, _ = p.path(f.val, "env_file")
		case "inherit_env":
			s.InheritEnv = p.inheritEnv(f.val)
		case "working_dir":
			s.WorkingDir, _ = p.path(f.val, "working_dir")
		case "user":
			s.User, _ = p.str(f.val, "user")
		case "tenant":
			s.Tenant = p.tenant(f.val)
		case "group":
			s.Group, _ = p.str(f.val, "group")
		case "depends_on":
			p.dependsOn(s, f.val)
		case "disabled":
			s.Disabled, _ = p.boolean(f.val, "disabled")
		case "ready":
			p.ready(f.val, &s.Ready)
		case "stop":
			p.stop(f.val, &s.Stop)
		case "restart":
			p.restart(f.val, &s.Restart)
		case "logs":
			p.logs(f.val, &s.Logs)
		case "health":
			s.Health = p.health(f.val)
		case "limits":
			s.Limits = p.limits(f.val)
		case "on_exit", "exit_code":
			p.onExit(f.key, f.val, s)
		case "slo":
			s.SLO = p.slo(f.val)
		case "registry":
			s.Registry = p.registry(f.val, name)
		}
	}
	if s.ExitCode != nil && s.OnExit != OnExitExit {
		p.errorf(key, "service %q: exit_code needs on_exit: exit", name)
	}
	if s.Command == nil && !badCommand {
		p.errorf(key, "service %q has no command", name)
	}
	return s
}

// env reads environment variables; values that YAML reads as numbers or
// booleans are taken as written.
func (p *parser) env(n *yaml.Node) map[string]string {
	fields, _ := p.mapping(n, "env", func(key, first string) string {
		return fmt.Sprintf("duplicate variable %q (first at %s)", key, first)
	})
	var env map[string]string
	for _, f := range fields {
		name := f.key.Value
		if name == "" || strings.ContainsAny(name, "=\x00") {
			p.errorf(f.key, "env: invalid variable name %q", name)
			continue
		}
		v := resolve(f.val)
		if v.Kind != yaml.ScalarNode || isNull(v) {
			p.errorf(f.val, "env %s must be a string, a number or a boolean", name)
			continue
		}
		if strings.IndexByte(v.Value, 0) >= 0 {
			p.errorf(f.val, "env %s must not contain a NUL byte", name)
			continue
		}
		if env == nil {
			env = map[string]string{}
		}
		env[name] = v.Value
	}
	return env
}

func (p *parser) ready(n *yaml.Node, r *Ready) {
	var probe *yaml.Node    // key of the first probe set
	var watchdog *yaml.Node // key of watchdog
	for _, f := range p.fields(n, "ready", "after", "tcp", "http", "exec", "log", "notify", "watchdog", "timeout") {
		k := f.key.Value
		v := f.val
		if k != "timeout" && k != "watchdog" && !isNull(resolve(v)) && (k != "notify" || resolve(v).Value != "false") {
			if probe != nil {
				p.errorf(f.key, "ready: %s and %s (at %d:%d) cannot both be set, use one of after, tcp, http, exec, log and notify", k, probe.Value, probe.Line, probe.Column)
				continue
			}
			probe = f.key
		}
		switch k {
		case "after":
			r.After, _ = p.duration(v, "ready.after")
		case "tcp":
			if s, ok := p.str(v, "ready.tcp"); ok {
				if _, port, err := net.SplitHostPort(s); err != nil || !validPort(port, 1) {
					p.errorf(v, "ready.tcp must be host:port, e.g. 127.0.0.1:5432")
				} else {
					r.TCP = s
				}
			}
		case "http":
			if s, ok := p.str(v, "ready.http"); ok {
				if u, err := url.Parse(s); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
					p.errorf(v, "ready.http must be an http:// or https:// URL")
				} else {
					r.HTTP = s
				}
			}
		case "exec":
			r.Exec, _ = p.command(v, "ready.exec")
		case "log":
			if s, ok := p.str(v, "ready.log"); ok {
				if _, err := regexp.Compile(s); s == "" || err != nil {
					msg := "must not be empty"
					if err != nil {
						msg = err.Error()
					}
					p.errorf(v, "ready.log: %s", msg)
				} else {
					r.Log = s
				}
			}
		case "notify":
			r.Notify, _ = p.boolean(v, "ready.notify")
		case "watchdog":
			r.Watchdog, _ = p.positive(v, "ready.watchdog")
			watchdog = f.key
		case "timeout":
			if d, ok := p.duration(v, "ready.timeout"); ok {
				if d == 0 {
					p.errorf(v, "ready.timeout must be more than 0")
				} else {
					r.Timeout = d
				}
			}
		}
	}
	if watchdog != nil && !r.Notify {
		p.errorf(watchdog, "ready.watchdog needs ready.notify: true")
	}
}

func (p *parser) stop(n *yaml.Node, s *Stop) {
	for _, f := range p.fields(n, "stop", "signal", "timeout") {
		switch f.key.Value {
		case "signal":
			if sig, ok := p.str(f.val, "stop.signal"); ok {
				norm := strings.TrimPrefix(strings.ToUpper(sig), "SIG")
				switch norm {
				case "TERM", "INT", "HUP", "QUIT", "KILL", "USR1", "USR2":
					s.Signal = norm
				default:
					p.errorf(f.val, "stop.signal %q is not one of TERM, INT, HUP, QUIT, KILL, USR1 and USR2", sig)
				}
			}
		case "timeout":
			if d, ok := p.duration(f.val, "stop.timeout"); ok {
				s.Timeout = d
			}
		}
	}
}

func (p *parser) restart(n *yaml.Node, r *Restart) {
	var backoff, maxBackoff *yaml.Node
	for _, f := range p.fields(n, "restart", "policy", "backoff", "max_backoff", "max_restarts", "window", "stable") {
		v := f.val
		switch f.key.Value {
		case "policy":
			if s, ok := p.str(v, "restart.policy"); ok {
				switch s {
				case RestartAlways, RestartOnFailure, RestartNever:
					r.Policy = s
				default:
					p.errorf(v, "restart.policy %q is not one of always, on-failure and never", s)
				}
			}
		case "backoff":
			if d, ok := p.duration(v, "restart.backoff"); ok {
				r.Backoff, backoff = d, v
			}
		case "max_backoff":
			if d, ok := p.duration(v, "restart.max_backoff"); ok {
				r.MaxBackoff, maxBackoff = d, v
			}
		case "max_restarts":
			if i, ok := p.count(v, "restart.max_restarts"); ok {
				r.MaxRestarts = i
			}
		case "window":
			if d, ok := p.duration(v, "restart.window"); ok {
				if d == 0 {
					p.errorf(v, "restart.window must be more than 0")
				} else {
					r.Window = d
				}
			}
		case "stable":
			if d, ok := p.duration(v, "restart.stable"); ok {
				r.Stable = d
			}
		}
	}
	if r.MaxBackoff < r.Backoff {
		at := maxBackoff
		if at == nil {
			at = backoff
		}
		p.errorf(at, "restart.max_backoff (%v) must not be less than restart.backoff (%v)", r.MaxBackoff, r.Backoff)
	}
}

func (p *parser) logs(n *yaml.Node, l *Logs) {
	for _, f := range p.fields(n, "logs", "max_size", "keep", "every", "max_age", "max_total", "compress") {
		v := f.val
		switch f.key.Value {
		case "max_size", "max_total":
			what := "logs." + f.key.Value
			s, ok := p.str(v, what)
			if !ok {
				continue
			}
			switch size, err := parseSize(s); {
			case err != nil:
				p.errorf(v, "%s: %v", what, err)
			case size == 0:
				p.errorf(v, "%s must be more than 0", what)
			case f.key.Value == "max_size":
				l.MaxSize = size
			default:
				l.MaxTotal = size
			}
		case "keep":
			if i, ok := p.count(v, "logs.keep"); ok {
				l.Keep = i
			}
		case "every":
			if d, ok := p.span(v, "logs.every"); ok {
				if d < time.Minute || (d%day != 0 && day%d != 0) {
					p.errorf(v, "logs.every %q: want whole days (1d, 7d) or a part of a day that divides it (1h, 6h, 30m)", resolve(v).Value)
				} else {
					l.Every = d
				}
			}
		case "max_age":
			if d, ok := p.span(v, "logs.max_age"); ok {
				l.MaxAge = d
			}
		case "compress":
			if s, ok := p.str(v, "logs.compress"); ok {
				if s != "gzip" && s != "zstd" && s != "none" {
					p.errorf(v, "logs.compress %q: want gzip, zstd or none", s)
				} else if s != "none" {
					l.Compress = s
				}
			}
		}
	}
}

// day is the length of a day without a change of the clocks.
const day = 24 * time.Hour

// span reads a span of time that may count days and weeks ("7d").
func (p *parser) span(n *yaml.Node, what string) (time.Duration, bool) {
	s, ok := p.str(n, what)
	if !ok {
		return 0, false
	}
	d, err := ParseSpan(s)
	if err != nil {
		p.errorf(n, "%s: %v", what, err)
		return 0, false
	}
	return d, true
}

// kindService reads a service of a kind other than exec into s: Parse
// reads the lifecycle keys, and the kind's schema the others.
func (p *parser) kindService(s *Service, kind string, ks KindSchema, key, n *yaml.Node) *Service {
	s.Kind = kind
	sec := &Section{p: p, Name: s.Name, Key: key, Node: n, At: Positions{"": PosOf(key)}, errs: len(p.errs)}
	var own []Field
	for _, f := range p.fields(n, fmt.Sprintf("service %q (kind %s)", s.Name, kind), slices.Concat([]string{"kind", "depends_on", "disabled", "restart", "logs", "slo", "tenant"}, ks.Keys)...) {
		switch f.key.Value {
		case "kind":
		case "tenant":
			s.Tenant = p.tenant(f.val)
		case "slo":
			s.SLO = p.slo(f.val)
		case "depends_on":
			p.dependsOn(s, f.val)
		case "disabled":
			s.Disabled, _ = p.boolean(f.val, "disabled")
		case "restart":
			p.restart(f.val, &s.Restart)
		case "logs":
			p.logs(f.val, &s.Logs)
		default:
			own = append(own, Field{f.key, f.val})
		}
	}
	if ks.Decode != nil {
		s.Spec = ks.Decode(sec, own)
	}
	return s
}

// slo reads an availability objective: a percentage above 0 and at most
// 100 ("99.9%").
func (p *parser) slo(n *yaml.Node) float64 {
	s, ok := p.str(n, "slo")
	if !ok {
		return 0
	}
	t, err := ParseThreshold("> " + s)
	if err != nil || t.For != 0 || t.Unit != "%" || t.Value <= 0 || t.Value > 100 {
		p.errorf(n, "slo %q: want a percentage above 0%% and at most 100%%, e.g. 99.9%%", s)
		return 0
	}
	return t.Value
}
