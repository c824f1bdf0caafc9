package daemon

import (
	"cmp"
	"context"
	"net"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/notify"
	"github.com/stewardhq/steward/internal/report"
)

// reports builds reports from the daemon's store, with the node name and
// the services' slo: settings of the configuration in force.
type reports struct{ d *Daemon }

// Report returns the report of q.
func (r reports) Report(ctx context.Context, q report.Query) (steward.Report, error) {
	return report.Build(ctx, r.d.store, q, options(r.d.Current()))
}

// job performs the report action of job j for run: the run engine's
// Options.Report. The file goes through the durable outbox.
func (r reports) job(ctx context.Context, j *config.Job, run steward.Run) ([]byte, error) {
	cfg := r.d.Current()
	return report.RunJob(ctx, r.d.store, j, run, report.JobOptions{Options: options(cfg), Link: dashboardURL(cfg),
		Send: func(ctx context.Context, name string, m notify.Message) error {
			_, err := r.d.notes.Enqueue(ctx, name, m)
			return err
		}})
}

// options are the report options of cfg: its node and slo: settings.
func options(cfg *config.Config) report.Options {
	slo := map[string]float64{}
	for name, s := range cfg.Services {
		if s.SLO > 0 {
			slo[name] = s.SLO
		}
	}
	return report.Options{Node: cfg.Node, SLO: slo}
}

// dashboardURL is the base URL of cfg's dashboard — web.listen, else
// api.listen, https with api.tls — or "" when it has none. A listener on
// every address is named by the node's name.
func dashboardURL(cfg *config.Config) string {
	addr := cmp.Or(cfg.Web.Listen, cfg.API.Listen)
	if addr == "" {
		return ""
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = cfg.Node
	}
	scheme := "http"
	if cfg.API.TLS.Cert != "" {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}
