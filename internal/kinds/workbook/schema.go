package workbook

import (
	"time"

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
// session may go unused before it is closed.
type Spec struct {
	Dir         string        `json:"dir"`
	MaxSessions int           `json:"max_sessions"`
	IdleTimeout time.Duration `json:"idle_timeout"`
}

// Definition returns the kind workbook for a kinds.Registry: its schema,
// and its runtime over the event recorder. The runtime is also the
// daemon's Workbooks for the API.
func Definition() kinds.Kind {
	return kinds.Kind{
		Schema: config.KindSchema{Keys: []string{"dir", "max_sessions", "idle_timeout"}, Decode: decode},
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
		}
	}
	if spec.Dir == "" && !s.Failed() {
		s.Errorf(s.Key, "a workbook service needs dir: the directory its files are confined to")
	}
	return spec
}
