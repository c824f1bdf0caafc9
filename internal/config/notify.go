package config

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Notification defaults.
const (
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

// notifiers reads the top-level notify section: notifier name → one type
// of notifier, which its decoder in the registry reads.
func (p *parser) notifiers(n *yaml.Node, c *Config) {
	fields, _ := p.mapping(n, "notify", func(name, first string) string {
		return fmt.Sprintf("duplicate notifier %q (first at %s)", name, first)
	})
	types := slices.Sorted(maps.Keys(p.reg.Notifiers))
	for _, f := range fields {
		name := f.key.Value
		if msg := checkName(name); msg != "" {
			p.errorf(f.key, "%s", strings.Replace(msg, "service name", "notifier name", 1))
			continue
		}
		errs := len(p.errs)
		nc := &Notifier{Name: name, At: Positions{"": PosOf(f.key)}}
		var first *yaml.Node // the key of the type
		for _, g := range p.fields(f.val, fmt.Sprintf("notifier %q", name), types...) {
			k := g.key.Value
			if first != nil {
				p.errorf(g.key, "notifier %q: %s: only one kind per notifier, and %s is already set", name, k, first.Value)
				continue
			}
			first = g.key
			nc.Type = k
			nc.At[k] = PosOf(g.key)
			sec := &Section{p: p, Name: name, Key: g.key, Node: g.val, At: nc.At, errs: errs}
			nc.Spec = p.reg.Notifiers[k](sec)
		}
		if first == nil && len(p.errs) == errs {
			p.errorf(f.key, "notifier %q: needs one of %s", name, orList(types))
		}
		c.Notify[name] = nc
		c.NotifyOrder = append(c.NotifyOrder, name)
	}
}

// orList returns "a, b or c".
func orList(words []string) string {
	switch len(words) {
	case 0:
		return "a type of notifier, and this steward knows none"
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
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
		p.errorf(cmp.Or(maxNode, minNode), "notifications.max_backoff (%v) must not be less than notifications.min_backoff (%v)", s.MaxBackoff, s.MinBackoff)
	}
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
