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

// busReady is what runs while a bus runs: the fleet, and the workbook
// services' commands.
func (d *Daemon) busReady(fleet *fleetHost) func(context.Context, *bus.Server, *config.Config) func() {
	return func(ctx context.Context, srv *bus.Server, cfg *config.Config) func() {
		leave := fleet.start(ctx, srv, cfg)
		unserve := serveWorkbooks(d.mon.workbooks, srv, cfg)
		return func() { unserve(); leave() }
	}
}

// serveWorkbooks announces the workbook services on srv, the bus just
// started for cfg, until what it returns is called.
func serveWorkbooks(wb api.Workbooks, srv *bus.Server, cfg *config.Config) func() {
	b, ok := wb.(busServer)
	if !ok {
		return func() {}
	}
	return b.ServeBus(srv.Conn(), cfg.Node, api.ErrorStatus)
}
