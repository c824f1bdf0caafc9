package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/stewardhq/steward"
)

// Auth is the auth: section: who may do what.
type Auth struct {
	// Local gives roles to callers of the local endpoint by their peer
	// credentials. Root and the user steward runs as are admins whatever
	// it says; every other caller the socket lets in is a viewer unless a
	// rule gives it more. The greatest role of the rules that match wins.
	Local []LocalRule `json:"local,omitempty"`
}

// LocalRule gives Role to the local callers Match names: "uid:N",
// "user:NAME" or "group:NAME" (a primary or supplementary group). With a
// Tenant (one tenants: declares) the callers it matches are principals
// scoped to that tenant.
type LocalRule struct {
	Match  string `json:"match"`
	Role   string `json:"role"`
	Tenant string `json:"tenant,omitempty"`
}

// auth reads the auth section into a.
func (p *parser) auth(n *yaml.Node, a *Auth) {
	for _, f := range p.fields(n, "auth", "local") {
		v := p.deref(f.val)
		if isNull(v) {
			continue
		}
		if v.Kind != yaml.SequenceNode {
			p.errorf(f.val, "auth.local must be a list of {match, role, tenant}")
			continue
		}
		for i, item := range v.Content {
			if r, ok := p.localRule(item, fmt.Sprintf("auth.local[%d]", i)); ok {
				a.Local = append(a.Local, r)
			}
		}
	}
}

// localRule reads one item of auth.local, named what in errors.
func (p *parser) localRule(n *yaml.Node, what string) (LocalRule, bool) {
	var r LocalRule
	var matchAt, roleAt *yaml.Node
	errs := len(p.errs)
	for _, f := range p.fields(n, what, "match", "role", "tenant") {
		if f.key.Value == "tenant" {
			r.Tenant = p.tenant(f.val)
			continue
		}
		s, ok := p.str(f.val, what+"."+f.key.Value)
		if !ok {
			continue
		}
		switch f.key.Value {
		case "match":
			r.Match, matchAt = s, f.val
		case "role":
			r.Role, roleAt = s, f.val
		}
	}
	if resolve(n).Kind != yaml.MappingNode || len(p.errs) > errs {
		return r, false // fields or str said so
	}
	switch {
	case matchAt == nil:
		p.errorf(n, "%s needs match: uid:N, user:NAME or group:NAME", what)
	case !validMatch(r.Match):
		p.errorf(matchAt, "%s.match %q must be uid:N, user:NAME or group:NAME", what, r.Match)
	}
	switch r.Role {
	case steward.RoleViewer, steward.RoleOperator, steward.RoleAdmin:
	default:
		at := roleAt
		if at == nil {
			at = n
		}
		p.errorf(at, "%s.role %q must be viewer, operator or admin", what, r.Role)
	}
	return r, len(p.errs) == errs
}

// validMatch reports whether m is uid:N, user:NAME or group:NAME.
func validMatch(m string) bool {
	kind, val, _ := strings.Cut(m, ":")
	switch kind {
	case "uid":
		_, err := strconv.ParseUint(val, 10, 32)
		return err == nil
	case "user", "group":
		return val != "" && !strings.ContainsAny(val, ": \t")
	}
	return false
}

// Audit is the audit: section: how often, beside steward's start and clean
// stop and `steward audit checkpoint`, a checkpoint of the audit log is
// signed, and where copies of each go.
type Audit struct {
	// CheckpointEvery is the period of the signed checkpoints (at least
	// a second); 0 signs them only at start, stop and when asked.
	CheckpointEvery time.Duration `json:"checkpoint_every,omitempty"`
	// CheckpointNotify are the notifiers (of notify:) that get a copy of
	// every checkpoint, through the outbox.
	CheckpointNotify []string `json:"checkpoint_notify,omitempty"`
}

// audit reads audit: {checkpoint: {every: D, notify: [NAME...]}} into a.
func (p *parser) audit(n *yaml.Node, a *Audit) {
	for _, f := range p.fields(n, "audit", "checkpoint") {
		for _, g := range p.fields(f.val, "audit.checkpoint", "every", "notify") {
			if g.key.Value == "notify" {
				p.checkpointNotify(g.val, a)
				continue
			}
			if d, ok := p.duration(g.val, "audit.checkpoint.every"); ok {
				if d != 0 && d < time.Second {
					p.errorf(g.val, "audit.checkpoint.every %v is less than 1s", d)
					continue
				}
				a.CheckpointEvery = d
			}
		}
	}
}

// checkpointNotify reads audit.checkpoint.notify: the names of notifiers,
// checked against notify: once the whole file is read.
func (p *parser) checkpointNotify(n *yaml.Node, a *Audit) {
	for _, v := range p.strings(n, "audit.checkpoint.notify") {
		name, ok := p.str(v, "audit.checkpoint.notify")
		if !ok {
			continue
		}
		a.CheckpointNotify = append(a.CheckpointNotify, name)
		p.later = append(p.later, func(c *Config) {
			if c.Notify[name] == nil {
				p.errorf(v, "audit.checkpoint.notify: notifier %q is not declared in notify%s", name, suggest(name, c.NotifyOrder))
			}
		})
	}
}
