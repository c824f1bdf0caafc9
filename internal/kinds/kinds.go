// Package kinds defines what a built-in service kind is to steward: the
// schema that config.Parse decodes its services with, and a runtime that
// makes their runners over the parts of steward it is given (Host). The
// kinds are its subpackages (sysmon, logwatch), and builtin lists them;
// cmd/steward passes that list to the daemon, which builds every kind's
// runtime the same way. The kinds, builtin and the daemon import it.
package kinds

import (
	"context"
	"log/slog"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/alert"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/logcap"
	"github.com/stewardhq/steward/internal/metrics"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/supervise"
)

// Kind is one built-in kind.
type Kind struct {
	// Schema decodes and validates the services of the kind.
	Schema config.KindSchema
	// New makes the kind's runtime over h. It starts nothing.
	New func(h Host) (Runtime, error)
}

// Runtime makes the runners of the services of one kind. A Runtime that
// also implements prometheus.Collector has its metrics exported; one that
// implements api.Workbooks serves the API's /v1/workbooks (the daemon
// finds both by a type assertion).
type Runtime interface {
	NewRunner(cfg *config.Service) (supervise.Runner, error)
}

// Host is what steward shares with the kinds' runtimes. A nil field is a
// part the kind does without.
type Host struct {
	Store   *store.Store // keeps what a kind must remember across runs
	Alerts  Alerter
	History Recorder
	Events  EventRecorder
	// Output returns the captured output of a supervised service.
	Output func(service string) (Output, error)
	Logger *slog.Logger
}

// Alerter takes the observations of alert conditions.
type Alerter interface {
	Observe(ctx context.Context, c alert.Condition)
}

// Recorder keeps samples in the metrics history.
type Recorder interface {
	Record(ctx context.Context, samples ...metrics.Sample) error
}

// EventRecorder records events.
type EventRecorder interface {
	Record(ctx context.Context, ev steward.Event) (steward.Event, error)
}

// Output is a supervised service's captured output.
type Output interface {
	Subscribe() (<-chan logcap.Line, func())
}

// Registry is a set of kinds, by the name `kind:` gives them.
type Registry map[string]Kind

// Schemas returns the kinds' schemas, for config.Registry.Kinds.
func (r Registry) Schemas() map[string]config.KindSchema {
	out := make(map[string]config.KindSchema, len(r))
	for name, k := range r {
		out[name] = k.Schema
	}
	return out
}
