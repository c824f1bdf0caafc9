package sysmon

import (
	"maps"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/kinds"
)

// Name is the kind's name in `kind:`.
const Name = "sysmon"

// DefaultEvery is how often a sysmon service samples when every: is not
// set.
const DefaultEvery = 10 * time.Second

// Spec is the configuration of a service of kind sysmon (its
// config.Service.Spec), which samples the machine every Every and raises
// an alert for each threshold that holds.
type Spec struct {
	Every  time.Duration      `json:"every"`
	Alerts []config.Threshold `json:"alert,omitempty"` // sorted by key
}

// Definition returns the kind sysmon for a kinds.Registry: its schema,
// and its runtime over the alert engine and the metrics history.
func Definition() kinds.Kind {
	return kinds.Kind{
		Schema: config.KindSchema{Keys: []string{"every", "alert"}, Decode: decode},
		New: func(h kinds.Host) (kinds.Runtime, error) {
			return New(Options{Alerts: h.Alerts, History: h.History, Logger: h.Logger}), nil
		},
	}
}

// figures are the figures a threshold may name, besides
// "disk:MOUNTPOINT"; the value says which units they take.
func figures() map[string]string {
	return map[string]string{
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
}

// decode reads the keys of a sysmon service.
func decode(s *config.Section, fields []config.Field) any {
	spec := &Spec{Every: DefaultEvery}
	for _, f := range fields {
		switch f.Key.Value {
		case "every":
			if d, ok := s.Positive(f.Value, "every"); ok {
				spec.Every = d
			}
		case "alert":
			spec.Alerts = thresholds(s, f.Value)
		}
	}
	return spec
}

// thresholds reads the alert: thresholds of a sysmon service.
func thresholds(s *config.Section, n *yaml.Node) []config.Threshold {
	known := figures()
	var out []config.Threshold
	for _, f := range s.Entries(n, "alert") {
		k := f.Key.Value
		units, ok := known[k]
		if mount, isDisk := strings.CutPrefix(k, "disk:"); isDisk {
			units, ok = "%B", mount != ""
		}
		if !ok {
			names := append(slices.Sorted(maps.Keys(known)), "disk:/")
			slices.Sort(names)
			s.Errorf(f.Key, "alert: unknown figure %q%s; want one of %s, or disk:MOUNTPOINT", k, config.Suggest(k, names), strings.Join(names, ", "))
			continue
		}
		t, ok := s.Threshold(f.Value, "alert."+k)
		if !ok {
			continue
		}
		switch {
		case t.Unit == "%" && !strings.Contains(units, "%"):
			s.Errorf(f.Value, "alert.%s: %s is not a percentage", k, k)
			continue
		case t.Unit == "B" && !strings.Contains(units, "B"):
			s.Errorf(f.Value, "alert.%s: %s takes no size unit", k, k)
			continue
		case t.Unit == "" && units == "%B":
			t.Unit = "%" // a plain number is a percentage of the total
		case t.Unit == "" && units == "%":
			t.Unit = "%"
		case t.Unit == "" && units == "B":
			t.Unit = "B"
		}
		if t.Unit == "%" && t.Value > 100 {
			s.Errorf(f.Value, "alert.%s: a percentage must not be more than 100", k)
			continue
		}
		t.Key = k
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b config.Threshold) int { return strings.Compare(a.Key, b.Key) })
	return out
}
