package daemon

import (
	"context"

	"github.com/nats-io/nats.go"

	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/bus"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/kinds/workbook"
)

// busServer is a kind's runtime that takes commands over the bus: the
// workbook kind.
type busServer interface {
	ServeBus(nc *nats.Conn, node string, status workbook.ErrorStatus) (stop func())
}

var _ busServer = (*workbook.Kind)(nil)

// busReady is what runs while a bus runs: the fleet, and the commands of
// the kinds that take them over the bus.
func (d *Daemon) busReady(fleet *fleetHost) func(context.Context, *bus.Server, *config.Config) func() {
	return func(ctx context.Context, srv *bus.Server, cfg *config.Config) func() {
		leave := fleet.start(ctx, srv, cfg)
		var stops []func()
		for _, b := range d.mon.busServers {
			stops = append(stops, b.ServeBus(srv.Conn(), cfg.Node, api.ErrorStatus))
		}
		return func() {
			for _, stop := range stops {
				stop()
			}
			leave()
		}
	}
}
