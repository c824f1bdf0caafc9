package config

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

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
		"interval", "timeout", "for", "severity", "tenant")
	if !ok {
		return nil
	}
	for _, f := range fields {
		if p.probe(f, what, &ps) {
			continue
		}
		v := f.val
		switch k := f.key.Value; k {
		case "tenant":
			ch.Tenant = p.tenant(v)
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
