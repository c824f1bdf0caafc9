package builtin

import (
	"errors"
	"reflect"
	"testing"

	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/kinds/logwatch"
	"github.com/stewardhq/steward/internal/kinds/sysmon"
	"github.com/stewardhq/steward/internal/kinds/workbook"
	watch "github.com/stewardhq/steward/internal/logwatch"
	"github.com/stewardhq/steward/internal/notify"
)

// TestRegistries: every built-in kind has a schema and a runtime, and the
// configuration registry knows the same kinds and every notifier type.
func TestRegistries(t *testing.T) {
	ks := Kinds()
	for name, k := range ks {
		if k.New == nil || k.Schema.Decode == nil {
			t.Errorf("kind %s: New or Decode is nil", name)
		}
	}
	c := Config()
	if got, want := len(c.Kinds), len(ks); got != want || c.Kinds[sysmon.Name].Decode == nil || c.Kinds[logwatch.Name].Decode == nil {
		t.Errorf("Config().Kinds = %v, want the %d kinds of Kinds()", c.Kinds, want)
	}
	if len(c.Notifiers) != len(notify.Types()) {
		t.Errorf("Config().Notifiers = %v, want notify.Types()", c.Notifiers)
	}
}

// FuzzParse checks the built-in kinds' and notifiers' decoders as
// config's FuzzParse checks its own schema: Parse never panics, its errors
// are well formed, it is deterministic, and every spec it returns is one
// that validates.
func FuzzParse(f *testing.F) {
	// A sysmon service with thresholds of every unit.
	f.Add([]byte("services:\n  m: {kind: sysmon, every: 10s, alert: {cpu: \"> 80% for 5m\", swap: \"> 1GiB\", \"disk:/\": \">= 90\", load1: \"> 4\"}}\n"))
	// A log watch of files and of a service, with a count condition.
	f.Add([]byte("services:\n  a: {command: x}\n  w: {kind: logwatch, files: [x.log, \"logs/*.log\"], service: a, start_at: beginning, poll: 1s,\n" +
		"    rules: [{match: 'E(?P<x>.)', exclude: test, when: 2 in 1m, message: $x, severity: critical}, {name: p, match: panic}]}\n"))
	// Every type of notifier, routes to them.
	f.Add([]byte("notify:\n  h: {webhook: {url: \"https://h/${env:T}\", headers: {X: y}, format: slack, timeout: 2s}}\n" +
		"  m: {smtp: {host: h, from: a@b.c, to: [d@e.f], password: \"${file:p}\"}}\n  x: {exec: {command: [\"true\"], env: {A: b}}}\n" +
		"  s: {syslog: {facility: daemon}}\n  e: {eventlog: {event_id: 7}}\n" +
		"alerts: {routes: [{match: {severity: critical}, to: [h, m, x], group_wait: 0s}]}\n"))
	// A workbook service with every setting, and one without its dir.
	f.Add([]byte("services:\n  x: {kind: workbook, dir: books, max_sessions: 2, idle_timeout: 5m}\n  y: {kind: workbook}\n"))
	// Errors of the decoders: two types, a bad rule, a follow of itself.
	f.Add([]byte("notify:\n  b: {webhook: {url: ftp://h}, exec: {command: x}}\nservices:\n  w: {kind: logwatch, services: [w], rules: [{match: \"(\"}]}\n"))

	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := config.Parse("f.yaml", data, Config())
		if err != nil {
			var list config.ErrorList
			if c != nil || !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("Parse = %v, %T %v; want no Config and an ErrorList", c, err, err)
			}
			for _, e := range list {
				if e.File != "f.yaml" || e.Line < 1 || e.Col < 1 || e.Msg == "" {
					t.Fatalf("malformed error %+v", e)
				}
			}
			return
		}
		for _, name := range c.Order {
			switch s := c.Services[name]; s.Kind {
			case sysmon.Name:
				if spec, ok := s.Spec.(*sysmon.Spec); !ok || spec.Every <= 0 {
					t.Fatalf("sysmon service %q: spec %+v", name, s.Spec)
				}
			case workbook.Name:
				if spec, ok := s.Spec.(*workbook.Spec); !ok || spec.Dir == "" || spec.MaxSessions < 1 || spec.IdleTimeout <= 0 {
					t.Fatalf("workbook service %q: spec %+v", name, s.Spec)
				}
			case logwatch.Name:
				if spec, ok := s.Spec.(*watch.Config); !ok || spec.Validate() != nil {
					t.Fatalf("logwatch service %q: spec %+v", name, s.Spec)
				}
			}
		}
		for name, n := range c.Notify {
			if spec, ok := n.Spec.(notify.Spec); !ok || spec.Validate() != nil {
				t.Fatalf("notifier %q: spec %+v", name, n.Spec)
			}
		}
		c2, err := config.Parse("f.yaml", data, Config())
		if err != nil {
			t.Fatalf("second Parse: %v", err)
		}
		if !reflect.DeepEqual(c, c2) {
			t.Fatalf("second Parse returned a different Config")
		}
	})
}
