package config

import (
	"fmt"
	"net"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Monitoring defaults.
const (
	KindSysmon = "sysmon"

	DefaultHealthInterval    = 30 * time.Second
	DefaultHealthTimeout     = 10 * time.Second
	DefaultHealthRetries     = 3
	DefaultOnUnhealthy       = ActionRestart
	DefaultLimitAction       = ActionRestart
	DefaultSysmonEvery       = 10 * time.Second
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

// Limits bound a service's resources, summed over its process tree. When a
// set limit is exceeded for For, Action is taken.
type Limits struct {
	Memory int64         `json:"memory,omitempty"` // RSS bytes; 0 means no limit
	CPU    float64       `json:"cpu,omitempty"`    // percent of one core; 0 means no limit
	For    time.Duration `json:"for,omitempty"`
	Action string        `json:"action"` // restart, stop or alert
}

// Sysmon is the configuration of a service of kind sysmon, which samples
// the machine every Every and raises an alert for each threshold that holds.
type Sysmon struct {
	Every  time.Duration `json:"every"`
	Alerts []Threshold   `json:"alert,omitempty"` // sorted by key
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

// SysmonKeys are the figures a sysmon threshold may name, besides
// "disk:MOUNTPOINT"; the value says which units they take.
var sysmonKeys = map[string]string{
	"cpu":        "%",
	"memory":     "%B",
	"swap":       "%B",
	"load1":      "",
	"load5":      "",
	"load15":     "",
	"disk_read":  "B",
	"disk_write": "B",
	"net_recv":   "B",
	"net_sent":   "B",
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

// sysmonService reads a service of kind sysmon into s.
func (p *parser) sysmonService(s *Service, key, n *yaml.Node) *Service {
	s.Kind = KindSysmon
	s.Sysmon = &Sysmon{Every: DefaultSysmonEvery}
	for _, f := range p.fields(n, fmt.Sprintf("service %q (kind sysmon)", s.Name), append(builtinKeys, "every", "alert")...) {
		if p.builtinField(s, f) {
			continue
		}
		switch f.key.Value {
		case "every":
			if d, ok := p.positive(f.val, "every"); ok {
				s.Sysmon.Every = d
			}
		case "alert":
			s.Sysmon.Alerts = p.sysmonAlerts(f.val)
		}
	}
	return s
}

// builtinKeys are the keys every built-in kind takes: its lifecycle, as
// for an exec service.
var builtinKeys = []string{"kind", "depends_on", "disabled", "restart", "logs"}

// builtinField reads f into s when it is one of builtinKeys, and reports
// whether it was.
func (p *parser) builtinField(s *Service, f field) bool {
	switch f.key.Value {
	case "kind":
	case "depends_on":
		p.dependsOn(s, f.val)
	case "disabled":
		s.Disabled, _ = p.boolean(f.val, "disabled")
	case "restart":
		p.restart(f.val, &s.Restart)
	case "logs":
		p.logs(f.val, &s.Logs)
	default:
		return false
	}
	return true
}

// positive reads a duration that must be more than 0.
func (p *parser) positive(n *yaml.Node, what string) (time.Duration, bool) {
	d, ok := p.duration(n, what)
	if ok && d == 0 {
		p.errorf(n, "%s must be more than 0", what)
		return 0, false
	}
	return d, ok
}

// sysmonAlerts reads the thresholds of a sysmon service.
func (p *parser) sysmonAlerts(n *yaml.Node) []Threshold {
	fields, _ := p.mapping(n, "alert", duplicateKey)
	var out []Threshold
	for _, f := range fields {
		k := f.key.Value
		units, known := sysmonKeys[k]
		if mount, ok := strings.CutPrefix(k, "disk:"); ok {
			units, known = "%B", mount != ""
		}
		if !known {
			names := []string{"disk:/"}
			for name := range sysmonKeys {
				names = append(names, name)
			}
			slices.Sort(names)
			p.errorf(f.key, "alert: unknown figure %q%s; want one of %s, or disk:MOUNTPOINT", k, suggest(k, names), strings.Join(names, ", "))
			continue
		}
		t, ok := p.threshold(f.val, "alert."+k)
		if !ok {
			continue
		}
		switch {
		case t.Unit == "%" && !strings.Contains(units, "%"):
			p.errorf(f.val, "alert.%s: %s is not a percentage", k, k)
			continue
		case t.Unit == "B" && !strings.Contains(units, "B"):
			p.errorf(f.val, "alert.%s: %s takes no size unit", k, k)
			continue
		case t.Unit == "" && units == "%B":
			t.Unit = "%" // a plain number is a percentage of the total
		case t.Unit == "" && units == "%":
			t.Unit = "%"
		case t.Unit == "" && units == "B":
			t.Unit = "B"
		}
		if t.Unit == "%" && t.Value > 100 {
			p.errorf(f.val, "alert.%s: a percentage must not be more than 100", k)
			continue
		}
		t.Key = k
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b Threshold) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// threshold parses the threshold expression of the scalar n, reporting a
// problem at its column in the file.
func (p *parser) threshold(n *yaml.Node, what string) (Threshold, bool) {
	s, ok := p.str(n, what)
	if !ok {
		p.errorf(n, "%s must be a condition like \"> 80%%\"", what)
		return Threshold{}, false
	}
	t, err := ParseThreshold(s)
	if err != nil {
		te := err.(*ThresholdError)
		v := resolve(n)
		col := v.Column + te.Offset
		if v.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
			col++
		}
		if v.Line != n.Line || strings.Contains(s, "\n") {
			col = v.Column
		}
		p.errs = append(p.errs, &Error{File: p.file, Line: v.Line, Col: col, Msg: fmt.Sprintf("%s: %s", what, te.Msg)})
		return Threshold{}, false
	}
	return t, true
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
	l := &Limits{Action: DefaultLimitAction}
	fields, ok := p.keys(n, "limits", "memory", "cpu", "for", "action")
	if !ok || isNull(resolve(n)) {
		return nil
	}
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
				if pct, err := parsePercent(s); err != nil {
					p.errorf(v, "limits.cpu: %v", err)
				} else {
					l.CPU = pct
				}
			}
		case "for":
			l.For, _ = p.duration(v, "limits.for")
		case "action":
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
	if l.Memory == 0 && l.CPU == 0 {
		p.errorf(n, "limits needs memory or cpu")
	}
	return l
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

// checks reads the top-level checks section.
func (p *parser) checks(n *yaml.Node, c *Config) {
	fields, _ := p.mapping(n, "checks", func(name, first string) string {
		return fmt.Sprintf("duplicate check %q (first at %s)", name, first)
	})
	for _, f := range fields {
		name := f.key.Value
		if msg := checkName(name); msg != "" {
			p.errorf(f.key, "%s", strings.Replace(msg, "service name", "check name", 1))
			continue
		}
		if ch := p.check(name, f.key, f.val); ch != nil {
			c.Checks[name] = ch
			c.CheckOrder = append(c.CheckOrder, name)
		}
	}
}

func (p *parser) check(name string, key, n *yaml.Node) *Check {
	what := fmt.Sprintf("check %q", name)
	ch := &Check{Name: name, Interval: DefaultCheckInterval, Timeout: DefaultCheckTimeout}
	var ps probeSpec
	var sizeNode *yaml.Node
	fields, ok := p.keys(n, what, "http", "tcp", "exec", "file", "process", "os_service", "max_age", "min_size", "max_size",
		"interval", "timeout", "for", "severity")
	if !ok {
		return nil
	}
	for _, f := range fields {
		if p.probe(f, what, &ps) {
			continue
		}
		v := f.val
		switch k := f.key.Value; k {
		case "max_age":
			if d, ok := p.positive(v, k); ok {
				ch.MaxAge = d
			}
		case "min_size", "max_size":
			s, ok := p.str(v, k)
			if !ok {
				continue
			}
			size, err := parseSize(s)
			if err != nil {
				p.errorf(v, "%s: %v", k, err)
				continue
			}
			if k == "min_size" {
				ch.MinSize = size
			} else {
				ch.MaxSize, sizeNode = size, v
			}
		case "interval":
			if d, ok := p.positive(v, "interval"); ok {
				ch.Interval = d
			}
		case "timeout":
			if d, ok := p.positive(v, "timeout"); ok {
				ch.Timeout = d
			}
		case "for":
			ch.For, _ = p.duration(v, "for")
		case "severity":
			if s, ok := p.str(v, "severity"); ok {
				switch s {
				case "info", "warning", "critical":
					ch.Severity = s
				default:
					p.errorf(v, "severity %q is not one of info, warning and critical", s)
				}
			}
		}
	}
	ch.HTTP, ch.TCP, ch.Exec, ch.File, ch.Process, ch.OSService = ps.http, ps.tcp, ps.exec, ps.file, ps.process, ps.osService
	switch {
	case ps.key == nil:
		p.errorf(key, "%s needs one of http, tcp, exec, file, process and os_service", what)
		return nil
	case ps.key.Value != "file" && (ch.MaxAge != 0 || ch.MinSize != 0 || ch.MaxSize != 0):
		p.errorf(ps.key, "%s: max_age, min_size and max_size are for file checks", what)
	case sizeNode != nil && ch.MaxSize < ch.MinSize:
		p.errorf(sizeNode, "%s: max_size must not be less than min_size", what)
	}
	return ch
}

// alerts reads the top-level alerts section.
func (p *parser) alerts(n *yaml.Node, a *Alerts) {
	for _, f := range p.fields(n, "alerts", "repeat", "flap_window", "routes") {
		switch f.key.Value {
		case "repeat":
			if d, ok := p.duration(f.val, "alerts.repeat"); ok {
				a.Repeat = d
			}
		case "flap_window":
			if d, ok := p.duration(f.val, "alerts.flap_window"); ok {
				a.FlapWindow = d
			}
		case "routes":
			list := p.deref(f.val)
			if isNull(list) {
				continue
			}
			if list.Kind != yaml.SequenceNode {
				p.errorf(f.val, "alerts.routes must be a list of routes")
				continue
			}
			names := map[string]*yaml.Node{}
			for i, item := range list.Content {
				r := p.route(item)
				name := r.Name
				if name == "" {
					name = fmt.Sprintf("route-%d", i+1)
				}
				if first := names[name]; first != nil {
					p.errorf(item, "route %q is already defined (at %d:%d)", name, first.Line, first.Column)
				}
				names[name] = item
				a.Routes = append(a.Routes, r)
			}
		}
	}
}

func (p *parser) route(n *yaml.Node) Route {
	r := Route{GroupWait: DefaultGroupWait}
	var toNode *yaml.Node
	for _, f := range p.fields(n, "route", "name", "match", "to", "group_wait", "repeat", "continue") {
		switch f.key.Value {
		case "name":
			r.Name, _ = p.str(f.val, "route.name")
		case "match":
			fields, _ := p.mapping(f.val, "route.match", duplicateKey)
			for _, m := range fields {
				if !slices.Contains(matchLabels, m.key.Value) {
					p.errorf(m.key, "route.match: unknown label %q, want rule, subject, severity or service", m.key.Value)
					continue
				}
				s, ok := p.str(m.val, "route.match."+m.key.Value)
				if !ok {
					continue
				}
				if _, err := path.Match(s, ""); err != nil {
					p.errorf(m.val, "route.match.%s: invalid pattern %q", m.key.Value, s)
					continue
				}
				if r.Match == nil {
					r.Match = map[string]string{}
				}
				r.Match[m.key.Value] = s
			}
		case "to":
			toNode = f.val
			list := p.deref(f.val)
			if list.Kind != yaml.SequenceNode {
				p.errorf(f.val, "route.to must be a list of notifier names")
				continue
			}
			for _, item := range list.Content {
				s, ok := p.str(item, "route.to")
				switch {
				case !ok:
				case s == "":
					p.errorf(item, "route.to: empty notifier name")
				case slices.Contains(r.To, s):
					p.errorf(item, "route.to lists %q twice", s)
				default:
					r.To = append(r.To, s)
					p.routeTo = append(p.routeTo, item)
				}
			}
		case "group_wait":
			if d, ok := p.duration(f.val, "route.group_wait"); ok {
				r.GroupWait = d
			}
		case "repeat":
			r.Repeat, _ = p.duration(f.val, "route.repeat")
		case "continue":
			r.Continue, _ = p.boolean(f.val, "route.continue")
		}
	}
	if toNode == nil {
		p.errorf(n, "route needs to: the notifiers it sends to")
	}
	return r
}

// matchLabels are the labels of an alert a route may match.
var matchLabels = []string{"rule", "subject", "severity", "service"}

// metrics reads the top-level metrics section.
func (p *parser) metrics(n *yaml.Node, m *Metrics) {
	for _, f := range p.fields(n, "metrics", "every", "keep_raw", "keep_1m", "keep_1h", "collectors") {
		v := f.val
		switch k := f.key.Value; k {
		case "every":
			if d, ok := p.positive(v, "metrics.every"); ok {
				m.Every = d
			}
		case "keep_raw":
			if d, ok := p.positive(v, "metrics.keep_raw"); ok {
				m.KeepRaw = d
			}
		case "keep_1m":
			if d, ok := p.positive(v, "metrics.keep_1m"); ok {
				m.KeepMinute = d
			}
		case "keep_1h":
			if d, ok := p.positive(v, "metrics.keep_1h"); ok {
				m.KeepHour = d
			}
		case "collectors":
			fields, _ := p.mapping(v, "metrics.collectors", duplicateKey)
			for _, c := range fields {
				if msg := checkName(c.key.Value); msg != "" {
					p.errorf(c.key, "%s", strings.Replace(msg, "service name", "collector name", 1))
					continue
				}
				m.Collectors = append(m.Collectors, p.collector(c.key.Value, c.key, c.val))
			}
		}
	}
}

func (p *parser) collector(name string, key, n *yaml.Node) Collector {
	c := Collector{Name: name, Every: DefaultCollectorEvery, Timeout: DefaultCheckTimeout}
	what := fmt.Sprintf("collector %q", name)
	for _, f := range p.fields(n, what, "command", "every", "timeout") {
		switch f.key.Value {
		case "command":
			c.Command, _ = p.command(f.val, "command")
		case "every":
			if d, ok := p.positive(f.val, "every"); ok {
				c.Every = d
			}
		case "timeout":
			if d, ok := p.positive(f.val, "timeout"); ok {
				c.Timeout = d
			}
		}
	}
	if c.Command == nil {
		p.errorf(key, "%s has no command", what)
	}
	return c
}
