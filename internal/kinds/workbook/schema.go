package workbook

import (
	"slices"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/kinds"
)

// Name is the kind's name in `kind:`.
const Name = "workbook"

// Defaults of a workbook service's settings.
const (
	DefaultMaxSessions = 16
	DefaultIdleTimeout = 30 * time.Minute
)

// Spec is the configuration of a service of kind workbook (its
// config.Service.Spec): the directory every path it reads or writes is
// confined to, how many sessions may be open at once, and how long a
// session may go unused before it is closed, and which services may send
// it commands over the bus (bus.go).
type Spec struct {
	Dir         string        `json:"dir"`
	MaxSessions int           `json:"max_sessions"`
	IdleTimeout time.Duration `json:"idle_timeout"`
	// Callers are the services whose NATS users may publish its commands;
	// each is of the service's tenant.
	Callers []string `json:"callers,omitempty"`
}

// Definition returns the kind workbook for a kinds.Registry: its schema,
// and its runtime over the event recorder. The runtime is also the
// daemon's Workbooks for the API.
func Definition() kinds.Kind {
	return kinds.Kind{
		Schema: config.KindSchema{Keys: []string{"dir", "max_sessions", "idle_timeout", "callers"}, Decode: decode},
		New: func(h kinds.Host) (kinds.Runtime, error) {
			return New(Options{Events: h.Events, Logger: h.Logger}), nil
		},
	}
}

// decode reads the keys of a workbook service; dir is required.
func decode(s *config.Section, fields []config.Field) any {
	spec := &Spec{MaxSessions: DefaultMaxSessions, IdleTimeout: DefaultIdleTimeout}
	for _, f := range fields {
		switch f.Key.Value {
		case "dir":
			if p, ok := s.Path(f.Value, "dir"); ok {
				spec.Dir = p
			}
		case "max_sessions":
			if n, ok := s.Count(f.Value, "max_sessions"); ok {
				if n < 1 {
					s.Errorf(f.Value, "max_sessions must be at least 1")
					continue
				}
				spec.MaxSessions = n
			}
		case "idle_timeout":
			if d, ok := s.Positive(f.Value, "idle_timeout"); ok {
				spec.IdleTimeout = d
			}
		case "callers":
			callers(s, spec, f.Value)
		}
	}
	if spec.Dir == "" && !s.Failed() {
		s.Errorf(s.Key, "a workbook service needs dir: the directory its files are confined to")
	}
	return spec
}

// callers reads callers: the names of services of the workbook service's
// tenant, checked once the whole file is read. The NATS server enforces
// them through permissions that it cannot give in a fleet (bus.cluster,
// bus.leafnodes):
// another node's workbook service could not be kept from a caller.
func callers(s *config.Section, spec *Spec, n *yaml.Node) {
	names := s.Strings(n, "callers")
	for _, v := range names {
		if name, ok := s.String(v, "callers"); ok && !slices.Contains(spec.Callers, name) {
			spec.Callers = append(spec.Callers, name)
		}
	}
	s.Later(func(c *config.Config) {
		if len(names) > 0 && c.Bus.Fleet() {
			s.Errorf(n, "callers: a workbook service takes commands from services over the bus of one node only, not in a fleet (bus.cluster, bus.leafnodes)")
			return
		}
		tenant := c.Services[s.Name].Tenant
		for _, v := range names {
			name := s.Value(v).Value
			switch caller := c.Services[name]; {
			case caller == nil:
				s.Errorf(v, "callers: %q is not a service", name)
			case name == s.Name:
				s.Errorf(v, "callers: a workbook service cannot call itself")
			case caller.Tenant != tenant:
				s.Errorf(v, "callers: service %q is of %s, %s of %s: a caller must be of the same tenant", name, tenantName(caller.Tenant), s.Name, tenantName(tenant))
			}
		}
	})
}

func tenantName(t string) string {
	if t == "" {
		return "no tenant"
	}
	return "tenant " + t
}

// Callers returns the workbook services of c, each with its callers, for
// the bus's permissions (bus.Options.Workbooks).
func Callers(c *config.Config) map[string][]string {
	out := map[string][]string{}
	for name, s := range c.Services {
		if spec, ok := s.Spec.(*Spec); ok && s.Kind == Name {
			out[name] = spec.Callers
		}
	}
	return out
}
