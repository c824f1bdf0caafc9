package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/stewardhq/steward/internal/logwatch"
	"github.com/stewardhq/steward/internal/notify"
)

// Notification and log watch defaults.
const (
	KindLogwatch = "logwatch"

	// DefaultGroupWait is how long a route collects alerts into one
	// message; group_wait: 0s sends each change at once.
	DefaultGroupWait = 10 * time.Second
	// The delivery of notifications (the notifications: section): each is
	// retried with a backoff from MinBackoff doubling to MaxBackoff, and
	// given up once it is MaxAge old; delivered and given-up ones are kept
	// for Keep, for `steward notifications`.
	DefaultNotifyMaxAge     = 24 * time.Hour
	DefaultNotifyMinBackoff = time.Second
	DefaultNotifyMaxBackoff = 5 * time.Minute
	DefaultNotifyKeep       = 7 * 24 * time.Hour
)

// Notifications configures the delivery of notifications: the durable
// outbox every notification goes through.
type Notifications struct {
	MaxAge     time.Duration `json:"max_age"`
	MinBackoff time.Duration `json:"min_backoff"`
	MaxBackoff time.Duration `json:"max_backoff"`
	Keep       time.Duration `json:"keep"`
}

func defaultNotifications() Notifications {
	return Notifications{
		MaxAge:     DefaultNotifyMaxAge,
		MinBackoff: DefaultNotifyMinBackoff,
		MaxBackoff: DefaultNotifyMaxBackoff,
		Keep:       DefaultNotifyKeep,
	}
}

// pos is a position in the configuration file.
type pos struct{ line, col int }

func posOf(n *yaml.Node) pos { return pos{n.Line, n.Column} }

// fieldPos maps the fields of one notifier or log watch, spelled as their
// Validate methods name them ("webhook.url", "rules[0].when"), to where
// they are in the file; "" is the entry itself.
type fieldPos map[string]pos

// find returns the position of field, or of the nearest field that holds
// it, or of the entry.
func (fp fieldPos) find(field string) pos {
	for f := field; f != ""; {
		if p, ok := fp[f]; ok {
			return p
		}
		i := strings.LastIndexAny(f, ".[")
		if i < 0 {
			break
		}
		f = f[:i]
	}
	return fp[""]
}

// positions are what errors found after Parse need to point into the
// file: the notifiers' fields, by notifier.
type positions struct {
	file   string // as errors name it
	notify map[string]fieldPos
}

// Notifiers builds the notifiers of the notify: section with their secrets
// resolved: ${env:NAME} from steward's environment and ${file:PATH} from
// files, a relative PATH starting from the configuration file's directory.
// A reference that cannot be resolved is an ErrorList at its position. It
// connects to nothing and starts nothing; the values it resolves live only
// in the notifiers, which never print them.
func (c *Config) Notifiers() (map[string]notify.Notifier, error) {
	r := notify.Resolver{}
	if c.File != "" {
		r.Dir = filepath.Dir(c.File)
	}
	out := make(map[string]notify.Notifier, len(c.Notify))
	var errs ErrorList
	for _, name := range c.NotifyOrder {
		n, err := notify.New(c.Notify[name], r)
		if err != nil {
			var at fieldPos
			file := ""
			if c.at != nil {
				at, file = c.at.notify[name], c.at.file
			}
			for _, fe := range notify.FieldErrors(err) {
				p := at.find(fe.Field)
				errs = append(errs, &Error{File: file, Line: max(p.line, 1), Col: max(p.col, 1), Msg: notifierMsg(name, fe.Field, fe.Msg)})
			}
			continue
		}
		out[name] = n
	}
	if len(errs) > 0 {
		return nil, errs.sorted()
	}
	return out, nil
}

func notifierMsg(name, field, msg string) string {
	if field == "" {
		return fmt.Sprintf("notifier %q: %s", name, msg)
	}
	return fmt.Sprintf("notifier %q: %s: %s", name, field, msg)
}

// fieldErrorsAt records each problem of a Validate method at the position
// of its field; prefix starts each message.
func (p *parser) fieldErrorsAt(at fieldPos, prefix string, fes []fieldError) {
	for _, fe := range fes {
		ps := at.find(fe.field)
		if p.overBudget {
			return
		}
		msg := fe.msg
		if fe.field != "" {
			msg = fe.field + ": " + msg
		}
		p.errs = append(p.errs, &Error{File: p.file, Line: max(ps.line, 1), Col: max(ps.col, 1), Msg: prefix + msg})
	}
}

// fieldError is a notify.FieldError or a logwatch.FieldError.
type fieldError struct{ field, msg string }

func notifyFieldErrors(err error) []fieldError {
	var out []fieldError
	for _, fe := range notify.FieldErrors(err) {
		out = append(out, fieldError{fe.Field, fe.Msg})
	}
	return out
}

func logwatchFieldErrors(err error) []fieldError {
	var out []fieldError
	var walk func(error)
	walk = func(err error) {
		var fe *logwatch.FieldError
		switch e := err.(type) {
		case nil:
		case interface{ Unwrap() []error }:
			for _, e := range e.Unwrap() {
				walk(e)
			}
		default:
			if errors.As(err, &fe) {
				out = append(out, fieldError{fe.Field, fe.Msg})
			} else {
				out = append(out, fieldError{"", err.Error()})
			}
		}
	}
	walk(err)
	return out
}

// notifiers reads the top-level notify section: notifier name → one kind
// of notifier.
func (p *parser) notifiers(n *yaml.Node, c *Config) {
	fields, _ := p.mapping(n, "notify", func(name, first string) string {
		return fmt.Sprintf("duplicate notifier %q (first at %s)", name, first)
	})
	for _, f := range fields {
		name := f.key.Value
		if msg := checkName(name); msg != "" {
			p.errorf(f.key, "%s", strings.Replace(msg, "service name", "notifier name", 1))
			continue
		}
		at := fieldPos{"": posOf(f.key)}
		errs := len(p.errs)
		nc := p.notifier(name, f.val, at)
		if len(p.errs) == errs {
			// Problems of values the YAML reading let through.
			p.fieldErrorsAt(at, fmt.Sprintf("notifier %q: ", name), notifyFieldErrors(nc.Validate()))
		}
		c.Notify[name] = nc
		c.NotifyOrder = append(c.NotifyOrder, name)
		c.at.notify[name] = at
	}
}

// notifier reads one notifier, recording where its fields are in at.
func (p *parser) notifier(name string, n *yaml.Node, at fieldPos) notify.Config {
	var nc notify.Config
	what := fmt.Sprintf("notifier %q", name)
	fields, _ := p.keys(n, what, "webhook", "smtp", "exec", "syslog", "eventlog")
	for _, f := range fields {
		k := f.key.Value
		at[k] = posOf(f.key)
		w := what + " " + k
		switch k {
		case "webhook":
			c := &notify.WebhookConfig{}
			for _, g := range p.fieldsAt(f.val, w, at, k, "url", "secret", "format", "headers", "timeout") {
				switch g.key.Value {
				case "url":
					c.URL = p.secret(g.val, "webhook.url")
				case "secret":
					c.Secret = p.secret(g.val, "webhook.secret")
				case "format":
					c.Format, _ = p.str(g.val, "webhook.format")
				case "headers":
					hs, _ := p.mapping(g.val, "webhook.headers", duplicateKey)
					for _, h := range hs {
						if c.Headers == nil {
							c.Headers = map[string]notify.Secret{}
						}
						at["webhook.headers."+h.key.Value] = posOf(h.val)
						c.Headers[h.key.Value] = p.secret(h.val, "webhook.headers."+h.key.Value)
					}
				case "timeout":
					c.Timeout, _ = p.duration(g.val, "webhook.timeout")
				}
			}
			nc.Webhook = c
		case "smtp":
			c := &notify.SMTPConfig{}
			for _, g := range p.fieldsAt(f.val, w, at, k, "host", "from", "to", "username", "password", "tls", "auth", "ca_file", "timeout") {
				switch g.key.Value {
				case "host":
					c.Host, _ = p.str(g.val, "smtp.host")
				case "from":
					c.From, _ = p.str(g.val, "smtp.from")
				case "to":
					for i, item := range p.strings(g.val, "smtp.to") {
						at[fmt.Sprintf("smtp.to[%d]", i)] = posOf(item)
						c.To = append(c.To, resolve(item).Value)
					}
				case "username":
					c.Username = p.secret(g.val, "smtp.username")
				case "password":
					c.Password = p.secret(g.val, "smtp.password")
				case "tls":
					c.TLS, _ = p.str(g.val, "smtp.tls")
				case "auth":
					c.Auth, _ = p.str(g.val, "smtp.auth")
				case "ca_file":
					c.CAFile, _ = p.path(g.val, "smtp.ca_file")
				case "timeout":
					c.Timeout, _ = p.duration(g.val, "smtp.timeout")
				}
			}
			nc.SMTP = c
		case "exec":
			c := &notify.ExecConfig{}
			for _, g := range p.fieldsAt(f.val, w, at, k, "command", "env", "dir", "timeout") {
				switch g.key.Value {
				case "command":
					c.Command, _ = p.command(g.val, "exec.command")
				case "env":
					env, _ := p.mapping(g.val, "exec.env", duplicateKey)
					for _, e := range env {
						if c.Env == nil {
							c.Env = map[string]notify.Secret{}
						}
						at["exec.env."+e.key.Value] = posOf(e.val)
						c.Env[e.key.Value] = p.secret(e.val, "exec.env."+e.key.Value)
					}
				case "dir":
					c.Dir, _ = p.path(g.val, "exec.dir")
				case "timeout":
					c.Timeout, _ = p.duration(g.val, "exec.timeout")
				}
			}
			nc.Exec = c
		case "syslog":
			c := &notify.SyslogConfig{}
			for _, g := range p.fieldsAt(f.val, w, at, k, "network", "address", "facility", "tag") {
				switch g.key.Value {
				case "network":
					c.Network, _ = p.str(g.val, "syslog.network")
				case "address":
					c.Address, _ = p.str(g.val, "syslog.address")
				case "facility":
					c.Facility, _ = p.str(g.val, "syslog.facility")
				case "tag":
					c.Tag, _ = p.str(g.val, "syslog.tag")
				}
			}
			nc.Syslog = c
		case "eventlog":
			c := &notify.EventLogConfig{}
			for _, g := range p.fieldsAt(f.val, w, at, k, "source", "event_id") {
				switch g.key.Value {
				case "source":
					c.Source, _ = p.str(g.val, "eventlog.source")
				case "event_id":
					if id, ok := p.count(g.val, "eventlog.event_id"); ok {
						if id > 0xFFFF {
							p.errorf(g.val, "eventlog.event_id must be at most 65535")
						} else {
							c.EventID = uint32(id)
						}
					}
				}
			}
			nc.EventLog = c
		}
	}
	return nc
}

// fieldsAt is fields, recording the position of each value as
// prefix.KEY in at.
func (p *parser) fieldsAt(n *yaml.Node, what string, at fieldPos, prefix string, known ...string) []field {
	fields := p.fields(n, what, known...)
	for _, f := range fields {
		at[prefix+"."+f.key.Value] = posOf(f.val)
	}
	return fields
}

// secret reads a string that may hold ${env:NAME} and ${file:PATH}
// references; they are resolved by Config.Notifiers, not here.
func (p *parser) secret(n *yaml.Node, what string) notify.Secret {
	s, _ := p.str(n, what)
	return notify.Secret(s)
}

// strings reads a string or a list of strings and returns their nodes.
func (p *parser) strings(n *yaml.Node, what string) []*yaml.Node {
	v := p.deref(n)
	switch {
	case isNull(v):
		return nil
	case v.Kind == yaml.ScalarNode:
		return []*yaml.Node{n}
	case v.Kind != yaml.SequenceNode:
		p.errorf(n, "%s must be a string or a list of strings", what)
		return nil
	}
	var out []*yaml.Node
	for _, item := range v.Content {
		if w := resolve(item); w.Kind != yaml.ScalarNode || isNull(w) {
			p.errorf(item, "%s must be a string or a list of strings", what)
			continue
		}
		if _, ok := p.str(item, what); ok {
			out = append(out, item)
		}
	}
	return out
}

// notifications reads the top-level notifications section.
func (p *parser) notifications(n *yaml.Node, s *Notifications) {
	var minNode, maxNode *yaml.Node
	for _, f := range p.fields(n, "notifications", "max_age", "min_backoff", "max_backoff", "keep") {
		v := f.val
		switch k := f.key.Value; k {
		case "max_age":
			if d, ok := p.positive(v, "notifications.max_age"); ok {
				s.MaxAge = d
			}
		case "min_backoff":
			if d, ok := p.positive(v, "notifications.min_backoff"); ok {
				s.MinBackoff, minNode = d, v
			}
		case "max_backoff":
			if d, ok := p.positive(v, "notifications.max_backoff"); ok {
				s.MaxBackoff, maxNode = d, v
			}
		case "keep":
			if d, ok := p.positive(v, "notifications.keep"); ok {
				s.Keep = d
			}
		}
	}
	if s.MaxBackoff < s.MinBackoff {
		at := cmpNode(maxNode, minNode)
		p.errorf(at, "notifications.max_backoff (%v) must not be less than notifications.min_backoff (%v)", s.MaxBackoff, s.MinBackoff)
	}
}

func cmpNode(a, b *yaml.Node) *yaml.Node {
	if a != nil {
		return a
	}
	return b
}

// checkRoutes checks what the routes of alerts: refer to, once the whole
// file is read: their notifiers must be in notify:.
func (p *parser) checkRoutes(c *Config) {
	names := slices.Clone(c.NotifyOrder)
	slices.Sort(names)
	for _, to := range p.routeTo {
		name := resolve(to).Value
		if _, ok := c.Notify[name]; !ok {
			p.errorf(to, "route.to: no notifier %q in notify%s", name, suggest(name, names))
		}
	}
}

// logwatchService reads a service of kind logwatch into s.
func (p *parser) logwatchService(s *Service, key, n *yaml.Node) *Service {
	s.Kind = KindLogwatch
	lw := &logwatch.Config{Name: s.Name}
	s.Logwatch = lw
	at := fieldPos{"": posOf(key)}
	what := fmt.Sprintf("service %q (kind logwatch)", s.Name)
	var service *yaml.Node
	errs := len(p.errs)
	for _, f := range p.fields(n, what, append(builtinKeys, "files", "service", "services", "rules", "start_at", "poll")...) {
		k := f.key.Value
		at[k] = posOf(f.val)
		if p.builtinField(s, f) {
			continue
		}
		switch k {
		case "files":
			for _, item := range p.strings(f.val, "files") {
				if path, ok := p.path(item, "files"); ok {
					at[fmt.Sprintf("files[%d]", len(lw.Files))] = posOf(item)
					lw.Files = append(lw.Files, path)
				}
			}
		case "service", "services":
			if service != nil {
				p.errorf(f.key, "service and services (at %d:%d) cannot both be set: list them all in services", service.Line, service.Column)
				continue
			}
			service = f.key
			for _, item := range p.strings(f.val, k) {
				name := resolve(item).Value
				at[fmt.Sprintf("services[%d]", len(lw.Services))] = posOf(item)
				lw.Services = append(lw.Services, name)
				p.followed = append(p.followed, follow{watch: s.Name, item: item})
			}
		case "rules":
			list := p.deref(f.val)
			if list.Kind != yaml.SequenceNode {
				if !isNull(list) {
					p.errorf(f.val, "rules must be a list of rules")
				}
				continue
			}
			for i, item := range list.Content {
				lw.Rules = append(lw.Rules, p.logRule(item, at, fmt.Sprintf("rules[%d]", i)))
			}
		case "start_at":
			lw.StartAt, _ = p.str(f.val, "start_at")
		case "poll":
			lw.Poll, _ = p.positive(f.val, "poll")
		}
	}
	if len(p.errs) == errs {
		p.fieldErrorsAt(at, "", logwatchFieldErrors(lw.Validate()))
	}
	return s
}

// logRule reads one rule of a log watch, recording where its fields are
// in at under prefix.
func (p *parser) logRule(n *yaml.Node, at fieldPos, prefix string) logwatch.RuleConfig {
	var r logwatch.RuleConfig
	at[prefix] = posOf(n)
	for _, f := range p.fieldsAt(n, "rule", at, prefix, "name", "match", "exclude", "severity", "when", "message") {
		v := f.val
		switch f.key.Value {
		case "name":
			r.Name, _ = p.str(v, "name")
		case "match":
			r.Match, _ = p.str(v, "match")
		case "exclude":
			r.Exclude, _ = p.str(v, "exclude")
		case "severity":
			r.Severity, _ = p.str(v, "severity")
		case "when":
			r.When, _ = p.str(v, "when")
		case "message":
			r.Message, _ = p.str(v, "message")
		}
	}
	return r
}

// follow is a supervised service a log watch follows the output of.
type follow struct {
	watch string
	item  *yaml.Node
}

// checkFollowed checks, once every service is known, that the services log
// watches follow are declared.
func (p *parser) checkFollowed(c *Config) {
	for _, f := range p.followed {
		name := resolve(f.item).Value
		switch {
		case name == f.watch:
			p.errorf(f.item, "service %q cannot follow its own output", name)
		case p.declared[name] == nil:
			p.errorf(f.item, "service %q follows unknown service %q%s", f.watch, name, suggest(name, c.Order))
		}
	}
}
