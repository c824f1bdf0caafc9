package logwatch

import (
	"errors"
	"fmt"
	"slices"

	"go.yaml.in/yaml/v3"

	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/kinds"
	watch "github.com/stewardhq/steward/internal/logwatch"
)

// Name is the kind's name in `kind:`.
const Name = "logwatch"

// Definition returns the kind logwatch for a kinds.Registry: its schema,
// whose services' Spec is a *logwatch.Config of the logwatch library with
// absolute files, and its runtime over the store (read positions), the
// alert engine, the event recorder and the services' captured output.
func Definition() kinds.Kind {
	return kinds.Kind{
		Schema: config.KindSchema{Keys: []string{"files", "service", "services", "rules", "start_at", "poll"}, Decode: decode},
		New: func(h kinds.Host) (kinds.Runtime, error) {
			o := Options{Store: h.Store, Alerts: h.Alerts, Events: h.Events, Logger: h.Logger}
			if h.Output != nil {
				o.Logs = func(service string) (Subscriber, error) { return h.Output(service) }
			}
			return New(o), nil
		},
	}
}

// decode reads the keys of a logwatch service and validates them once
// they were read without a problem.
func decode(s *config.Section, fields []config.Field) any {
	lw := &watch.Config{Name: s.Name}
	var service *yaml.Node
	for _, f := range fields {
		k := f.Key.Value
		s.At[k] = config.PosOf(f.Value)
		switch k {
		case "files":
			for _, item := range s.Strings(f.Value, "files") {
				if path, ok := s.Path(item, "files"); ok {
					s.At[fmt.Sprintf("files[%d]", len(lw.Files))] = config.PosOf(item)
					lw.Files = append(lw.Files, path)
				}
			}
		case "service", "services":
			if service != nil {
				s.Errorf(f.Key, "service and services (at %d:%d) cannot both be set: list them all in services", service.Line, service.Column)
				continue
			}
			service = f.Key
			for _, item := range s.Strings(f.Value, k) {
				s.At[fmt.Sprintf("services[%d]", len(lw.Services))] = config.PosOf(item)
				lw.Services = append(lw.Services, s.Value(item).Value)
				s.Later(followed(s, item))
			}
		case "rules":
			list, ok := s.List(f.Value)
			if !ok {
				s.Errorf(f.Value, "rules must be a list of rules")
				continue
			}
			for i, item := range list {
				lw.Rules = append(lw.Rules, rule(s, item, fmt.Sprintf("rules[%d]", i)))
			}
		case "start_at":
			lw.StartAt, _ = s.String(f.Value, "start_at")
		case "poll":
			lw.Poll, _ = s.Positive(f.Value, "poll")
		}
	}
	if !s.Failed() {
		for _, fe := range fieldErrors(lw.Validate()) {
			msg := fe.Msg
			if fe.Field != "" {
				msg = fe.Field + ": " + msg
			}
			s.ErrorAt(s.At.Find(fe.Field), "%s", msg)
		}
	}
	return lw
}

// rule reads one rule of a log watch, recording where its fields are in
// s.At under prefix.
func rule(s *config.Section, n *yaml.Node, prefix string) watch.RuleConfig {
	var r watch.RuleConfig
	s.At[prefix] = config.PosOf(n)
	for _, f := range s.Fields(n, "rule", "name", "match", "exclude", "severity", "when", "message") {
		s.At[prefix+"."+f.Key.Value] = config.PosOf(f.Value)
		v := f.Value
		switch f.Key.Value {
		case "name":
			r.Name, _ = s.String(v, "name")
		case "match":
			r.Match, _ = s.String(v, "match")
		case "exclude":
			r.Exclude, _ = s.String(v, "exclude")
		case "severity":
			r.Severity, _ = s.String(v, "severity")
		case "when":
			r.When, _ = s.String(v, "when")
		case "message":
			r.Message, _ = s.String(v, "message")
		}
	}
	return r
}

// followed checks, once every service is known, that the service item
// names is declared and is not the log watch itself.
func followed(s *config.Section, item *yaml.Node) func(*config.Config) {
	watcher, name := s.Name, s.Value(item).Value
	return func(c *config.Config) {
		switch {
		case name == watcher:
			s.Errorf(item, "service %q cannot follow its own output", name)
		case !slices.Contains(c.Order, name):
			s.Errorf(item, "service %q follows unknown service %q%s", watcher, name, config.Suggest(name, c.Order))
		}
	}
}

// fieldErrors returns the problems of a Validate result.
func fieldErrors(err error) []watch.FieldError {
	var out []watch.FieldError
	var walk func(error)
	walk = func(err error) {
		var fe *watch.FieldError
		switch e := err.(type) {
		case nil:
		case interface{ Unwrap() []error }:
			for _, e := range e.Unwrap() {
				walk(e)
			}
		default:
			if errors.As(err, &fe) {
				out = append(out, *fe)
			} else {
				out = append(out, watch.FieldError{Msg: err.Error()})
			}
		}
	}
	walk(err)
	return out
}
