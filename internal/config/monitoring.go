package config

import (
	"fmt"
	"math"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Monitoring defaults.
const (
	DefaultHealthInterval    = 30 * time.Second
	DefaultHealthTimeout     = 10 * time.Second
	DefaultHealthRetries     = 3
	DefaultOnUnhealthy       = ActionRestart
	DefaultLimitAction       = ActionRestart
	DefaultCheckInterval     = time.Minute
	DefaultCheckTimeout      = 10 * time.Second
	DefaultAlertRepeat       = 4 * time.Hour
	DefaultFlapWindow        = 10 * time.Minute
	DefaultMetricsEvery      = 10 * time.Second
	DefaultMetricsKeepRaw    = 24 * time.Hour
	DefaultMetricsKeepMinute = 30 * 24 * time.Hour
	DefaultMetricsKeepHour   = 365 * 24 * time.Hour
	DefaultCollectorEvery    = time.Minute
)

// What to do about an unhealthy service or one over its limits.
const (
	ActionRestart = "restart"
	ActionStop    = "stop"
	ActionAlert   = "alert"
)

// Health is a service's liveness check, with Docker's HEALTHCHECK
// semantics: a probe every Interval, each within Timeout; Retries failures
// in a row make the service unhealthy; failures during StartPeriod after a
// start do not count. Exactly one of HTTP, TCP and Exec is set. An exec
// probe follows the Nagios plugin convention: exit 0 (OK) and 1 (WARNING)
// pass, 2 (CRITICAL) and 3 (UNKNOWN) fail.
type Health struct {
	HTTP        string        `json:"http,omitempty"`
	TCP         string        `json:"tcp,omitempty"`
	Exec        []string      `json:"exec,omitempty"`
	Interval    time.Duration `json:"interval"`
	Timeout     time.Duration `json:"timeout"`
	Retries     int           `json:"retries"`
	StartPeriod time.Duration `json:"start_period,omitempty"`
	OnUnhealthy string        `json:"on_unhealthy"` // restart or alert
}

// How limits are enforced: by steward sampling the tree (EnforceSample),
// or by the kernel (EnforceKernel: a cgroup on Linux, a Job Object on
// Windows).
const (
	EnforceSample = "sample"
	EnforceKernel = "kernel"
)

// Limits bound a service's resources, summed over its process tree. With
// Enforce "sample" (the default), when a set limit is exceeded for For,
// Action is taken; with "kernel", the kernel holds the tree to them: it
// OOM-kills past Memory, throttles past CPU and fails a fork past Tasks.
type Limits struct {
	Memory  int64         `json:"memory,omitempty"` // bytes (RSS when sampled); 0 means no limit
	CPU     float64       `json:"cpu,omitempty"`    // percent of one core; 0 means no limit
	Tasks   int           `json:"tasks,omitempty"`  // processes and threads; kernel only; 0 means no limit
	Enforce string        `json:"enforce"`          // sample or kernel
	For     time.Duration `json:"for,omitempty"`
	Action  string        `json:"action"` // restart, stop or alert
}

// Check is something steward watches but does not run (top-level checks:).
// Exactly one of HTTP, TCP, Exec, File and Process is set.
type Check struct {
	Name    string   `json:"name"`
	HTTP    string   `json:"http,omitempty"`
	TCP     string   `json:"tcp,omitempty"`
	Exec    []string `json:"exec,omitempty"`
	File    string   `json:"file,omitempty"`
	Process string   `json:"process,omitempty"`
	// OSService names a service of the OS service manager (a systemd unit,
	// a Windows service, a launchd label) that must be running.
	OSService string `json:"os_service,omitempty"`
	// File checks: the file must exist, and, when set, be modified within
	// MaxAge and hold between MinSize and MaxSize bytes.
	MaxAge   time.Duration `json:"max_age,omitempty"`
	MinSize  int64         `json:"min_size,omitempty"`
	MaxSize  int64         `json:"max_size,omitempty"`
	Interval time.Duration `json:"interval"`
	Timeout  time.Duration `json:"timeout"`
	// For is how long a check must keep failing before its alert fires.
	For time.Duration `json:"for,omitempty"`
	// Severity of its alert; "" means from the result: critical for
	// CRITICAL, warning otherwise.
	Severity string `json:"severity,omitempty"`
}

// Alerts configures the alert engine and where alerts go.
type Alerts struct {
	// Repeat is how often a firing alert that nobody acknowledged is
	// raised again; 0 means never. A route's repeat overrides it.
	Repeat time.Duration `json:"repeat"`
	// FlapWindow: an alert whose condition comes back within it after it
	// resolved is reopened as flapping rather than raised anew, and a
	// flapping alert resolves only once its condition stayed clear for it.
	FlapWindow time.Duration `json:"flap_window"`
	Routes     []Route       `json:"routes,omitempty"`
}

// Route sends the alerts it matches to notifiers.
type Route struct {
	// Name names the route in messages; default "route-N", N from 1.
	Name string `json:"name,omitempty"`
	// Match maps an alert label (rule, subject, severity, service) to a
	// glob; no matchers match every alert.
	Match map[string]string `json:"match,omitempty"`
	To    []string          `json:"to,omitempty"` // names in notify:
	// GroupWait is how long the route collects alerts into one message
	// after one changed; 0 sends each change at once.
	GroupWait time.Duration `json:"group_wait"`
	Repeat    time.Duration `json:"repeat,omitempty"` // reminder interval; 0: alerts.repeat
	// Continue lets the alerts this route matches try the routes after
	// it too; by default the first route that matches is the only one.
	Continue bool `json:"continue,omitempty"`
}

// Metrics configures sampling and the metrics history.
type Metrics struct {
	// Every is how often each service's process tree is sampled.
	Every time.Duration `json:"every"`
	// KeepRaw, KeepMinute and KeepHour are how long raw samples, 1-minute
	// averages and 1-hour averages are kept.
	KeepRaw    time.Duration `json:"keep_raw"`
	KeepMinute time.Duration `json:"keep_1m"`
	KeepHour   time.Duration `json:"keep_1h"`
	// Collectors are commands run every so often whose output lines
	// "name value [key=value ...]" are stored as samples.
	Collectors []Collector `json:"collectors,omitempty"`
}

// Collector is a command that prints custom metrics.
type Collector struct {
	Name    string        `json:"name"`
	Command []string      `json:"command"`
	Every   time.Duration `json:"every"`
	Timeout time.Duration `json:"timeout"`
}

// defaultMetrics returns the metrics settings of a file that has none.
func defaultMetrics() Metrics {
	return Metrics{
		Every:      DefaultMetricsEvery,
		KeepRaw:    DefaultMetricsKeepRaw,
		KeepMinute: DefaultMetricsKeepMinute,
		KeepHour:   DefaultMetricsKeepHour,
	}
}

func defaultAlerts() Alerts {
	return Alerts{Repeat: DefaultAlertRepeat, FlapWindow: DefaultFlapWindow}
}

// probeKeys reads the one probe of a health check or check: http, tcp or
// exec, and for checks file and process. It reports the first key set.
type probeSpec struct {
	http, tcp, file, process, osService string
	exec                                []string
	key                                 *yaml.Node
}

func (p *parser) probe(f field, what string, ps *probeSpec) bool {
	k := f.key.Value
	switch k {
	case "http", "tcp", "exec", "file", "process", "os_service":
	default:
		return false
	}
	if isNull(resolve(f.val)) {
		return true
	}
	if ps.key != nil {
		p.errorf(f.key, "%s: %s and %s (at %d:%d) cannot both be set", what, k, ps.key.Value, ps.key.Line, ps.key.Column)
		return true
	}
	ps.key = f.key
	switch k {
	case "http":
		if s, ok := p.str(f.val, what+".http"); ok {
			if u, err := url.Parse(s); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				p.errorf(f.val, "%s.http must be an http:// or https:// URL", what)
			} else {
				ps.http = s
			}
		}
	case "tcp":
		if s, ok := p.str(f.val, what+".tcp"); ok {
			if _, port, err := net.SplitHostPort(s); err != nil || !validPort(port, 1) {
				p.errorf(f.val, "%s.tcp must be host:port, e.g. 127.0.0.1:5432", what)
			} else {
				ps.tcp = s
			}
		}
	case "exec":
		ps.exec, _ = p.command(f.val, what+".exec")
	case "file":
		ps.file, _ = p.path(f.val, what+".file")
	case "process":
		if s, ok := p.str(f.val, what+".process"); ok {
			if s == "" {
				p.errorf(f.val, "%s.process must name a process", what)
			} else {
				ps.process = s
			}
		}
	case "os_service":
		if s, ok := p.str(f.val, what+".os_service"); ok {
			if s == "" {
				p.errorf(f.val, "%s.os_service must name a service", what)
			} else {
				ps.osService = s
			}
		}
	}
	return true
}

// health reads a service's health section.
func (p *parser) health(n *yaml.Node) *Health {
	h := &Health{
		Interval:    DefaultHealthInterval,
		Timeout:     DefaultHealthTimeout,
		Retries:     DefaultHealthRetries,
		OnUnhealthy: DefaultOnUnhealthy,
	}
	var ps probeSpec
	fields, ok := p.keys(n, "health", "http", "tcp", "exec", "interval", "timeout", "retries", "start_period", "on_unhealthy")
	if !ok || isNull(resolve(n)) {
		return nil
	}
	for _, f := range fields {
		if p.probe(f, "health", &ps) {
			continue
		}
		switch f.key.Value {
		case "interval":
			if d, ok := p.positive(f.val, "health.interval"); ok {
				h.Interval = d
			}
		case "timeout":
			if d, ok := p.positive(f.val, "health.timeout"); ok {
				h.Timeout = d
			}
		case "retries":
			if i, ok := p.count(f.val, "health.retries"); ok {
				if i == 0 {
					p.errorf(f.val, "health.retries must be at least 1")
				} else {
					h.Retries = i
				}
			}
		case "start_period":
			h.StartPeriod, _ = p.duration(f.val, "health.start_period")
		case "on_unhealthy":
			if s, ok := p.str(f.val, "health.on_unhealthy"); ok {
				if s != ActionRestart && s != ActionAlert {
					p.errorf(f.val, "health.on_unhealthy %q is not one of restart and alert", s)
				} else {
					h.OnUnhealthy = s
				}
			}
		}
	}
	if ps.key == nil {
		p.errorf(n, "health needs one of http, tcp and exec")
	}
	h.HTTP, h.TCP, h.Exec = ps.http, ps.tcp, ps.exec
	return h
}

// limits reads a service's limits section.
func (p *parser) limits(n *yaml.Node) *Limits {
	l := &Limits{Action: DefaultLimitAction, Enforce: EnforceSample}
	fields, ok := p.keys(n, "limits", "memory", "cpu", "tasks", "enforce", "for", "action")
	if !ok || isNull(resolve(n)) {
		return nil
	}
	var sampleOnly, tasks *yaml.Node // for or action; tasks
	for _, f := range fields {
		v := f.val
		switch f.key.Value {
		case "memory":
			if s, ok := p.str(v, "limits.memory"); ok {
				switch size, err := parseSize(s); {
				case err != nil:
					p.errorf(v, "limits.memory: %v", err)
				case size == 0:
					p.errorf(v, "limits.memory must be more than 0")
				default:
					l.Memory = size
				}
			}
		case "cpu":
			if s, ok := p.str(v, "limits.cpu"); ok {
				if pct, err := parseCPU(s); err != nil {
					p.errorf(v, "limits.cpu: %v", err)
				} else {
					l.CPU = pct
				}
			}
		case "tasks":
			tasks = v
			if i, ok := p.count(v, "limits.tasks"); ok {
				if i == 0 {
					p.errorf(v, "limits.tasks must be more than 0")
				}
				l.Tasks = i
			}
		case "enforce":
			if s, ok := p.str(v, "limits.enforce"); ok {
				switch s {
				case EnforceSample, EnforceKernel:
					l.Enforce = s
				default:
					p.errorf(v, "limits.enforce %q is not one of sample and kernel", s)
				}
			}
		case "for":
			sampleOnly = f.key
			l.For, _ = p.duration(v, "limits.for")
		case "action":
			sampleOnly = f.key
			if s, ok := p.str(v, "limits.action"); ok {
				switch s {
				case ActionRestart, ActionStop, ActionAlert:
					l.Action = s
				default:
					p.errorf(v, "limits.action %q is not one of restart, stop and alert", s)
				}
			}
		}
	}
	switch {
	case l.Memory == 0 && l.CPU == 0 && l.Tasks == 0:
		p.errorf(n, "limits needs memory, cpu or tasks")
	case l.Enforce == EnforceKernel && sampleOnly != nil:
		p.errorf(sampleOnly, "limits.%s is for enforce: sample; the kernel acts at once (an OOM kill is restarted under the restart policy)", sampleOnly.Value)
	case l.Enforce == EnforceSample && tasks != nil:
		p.errorf(tasks, "limits.tasks needs enforce: kernel")
	}
	return l
}

// parseCPU parses a CPU limit into a percentage of one core: "90%" is 90,
// and a plain number counts cores, so "0.5" is 50 and "2" is 200.
func parseCPU(s string) (float64, error) {
	if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
		if f <= 0 || math.IsInf(f, 0) || math.IsNaN(f) || f > 1e6 {
			return 0, fmt.Errorf("%q cores must be more than 0", s)
		}
		return f * 100, nil
	}
	if !strings.HasSuffix(strings.TrimSpace(s), "%") {
		return 0, fmt.Errorf("invalid CPU limit %q, want e.g. 90%% (of one core) or 0.9 (cores)", s)
	}
	return parsePercent(s)
}

// parsePercent parses "90%" (or "90") into 90; more than 100 is allowed,
// as a process tree may use more than one core.
func parsePercent(s string) (float64, error) {
	t, err := ParseThreshold("> " + s)
	if err != nil || t.For != 0 || (t.Unit != "%" && t.Unit != "") {
		return 0, fmt.Errorf("invalid percentage %q, want e.g. 90%% (of one core)", s)
	}
	if t.Value == 0 {
		return 0, fmt.Errorf("must be more than 0%%")
	}
	return t.Value, nil
}
