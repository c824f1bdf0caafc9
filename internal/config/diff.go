package config

import (
	"reflect"
	"slices"
)

// Diff is what differs between two configurations. Service lists are sorted
// by name.
type Diff struct {
	Added     []string `json:"added,omitempty"`
	Removed   []string `json:"removed,omitempty"`
	Changed   []string `json:"changed,omitempty"` // any field differs, depends_on included
	Unchanged []string `json:"unchanged,omitempty"`
	// Settings lists the top-level settings that differ and apply only
	// when steward restarts: "node" and "data_dir".
	Settings []string `json:"settings,omitempty"`
	// Sections lists the other top-level sections that differ, which
	// apply at once: "api", "web", "auth", "checks", "alerts", "metrics", "notify",
	// "notifications", "bus" and "jobs".
	Sections []string `json:"sections,omitempty"`
}

// Compare returns the difference from old to cur. A nil old is an empty
// configuration, as on the first start.
func Compare(old, cur *Config) Diff {
	var d Diff
	var was, is map[string]*Service
	if old != nil {
		was = old.Services
	}
	if cur != nil {
		is = cur.Services
	}
	for name, s := range is {
		o, ok := was[name]
		switch {
		case !ok:
			d.Added = append(d.Added, name)
		case sameService(o, s):
			d.Unchanged = append(d.Unchanged, name)
		default:
			d.Changed = append(d.Changed, name)
		}
	}
	for name := range was {
		if _, ok := is[name]; !ok {
			d.Removed = append(d.Removed, name)
		}
	}
	if old != nil && cur != nil {
		if old.Node != cur.Node {
			d.Settings = append(d.Settings, "node")
		}
		if old.DataDir != cur.DataDir {
			d.Settings = append(d.Settings, "data_dir")
		}
		for _, sec := range []struct {
			name     string
			old, cur any
		}{
			{"api", old.API, cur.API},
			{"web", old.Web, cur.Web},
			{"auth", old.Auth, cur.Auth},
			{"checks", old.Checks, cur.Checks},
			{"alerts", old.Alerts, cur.Alerts},
			{"metrics", old.Metrics, cur.Metrics},
			{"notify", notifierSpecs(old.Notify), notifierSpecs(cur.Notify)},
			{"notifications", old.Notifications, cur.Notifications},
			{"bus", old.Bus, cur.Bus},
			{"jobs", old.Jobs, cur.Jobs},
		} {
			if !reflect.DeepEqual(sec.old, sec.cur) {
				d.Sections = append(d.Sections, sec.name)
			}
		}
	}
	slices.Sort(d.Added)
	slices.Sort(d.Removed)
	slices.Sort(d.Changed)
	slices.Sort(d.Unchanged)
	return d
}

// sameService reports whether a and b are the same service, their
// positions in the file aside.
func sameService(a, b *Service) bool {
	x, y := *a, *b
	x.At, y.At = nil, nil
	x.SLO, y.SLO = 0, 0 // reports read it; the service is the same
	return reflect.DeepEqual(x, y)
}

// notifierSpecs returns the type and spec of each notifier, by name: what
// a change of the notifiers is, their positions in the file aside.
func notifierSpecs(ns map[string]*Notifier) map[string][2]any {
	out := make(map[string][2]any, len(ns))
	for name, n := range ns {
		out[name] = [2]any{n.Type, n.Spec}
	}
	return out
}

// Empty reports whether d changes nothing.
func (d Diff) Empty() bool {
	return len(d.Added) == 0 && len(d.Removed) == 0 && len(d.Changed) == 0 && len(d.Settings) == 0 && len(d.Sections) == 0
}
