package daemon

import (
	"context"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/report"
)

// reports builds reports from the daemon's store, with the node name and
// the services' slo: settings of the configuration in force.
type reports struct{ d *Daemon }

// Report returns the report of q.
func (r reports) Report(ctx context.Context, q report.Query) (steward.Report, error) {
	cfg := r.d.Current()
	slo := map[string]float64{}
	for name, s := range cfg.Services {
		if s.SLO > 0 {
			slo[name] = s.SLO
		}
	}
	return report.Build(ctx, r.d.store, q, report.Options{Node: cfg.Node, SLO: slo})
}
