package daemon

import (
	"context"
	"net"
	"net/http"
	"sync"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/bus"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/fleet"
)

var _ api.Fleet = (*fleetHost)(nil)

var errFleetStarting = steward.Errorf(steward.EUNAVAILABLE, "the fleet is starting with the bus")

// fleetHost runs this node's part of the fleet while the bus runs: it
// starts when the bus is ready and stops with it. It is safe for
// concurrent use.
type fleetHost struct {
	d   *Daemon
	bus *busHost

	mu sync.Mutex
	f  *fleet.Fleet // nil while the bus does not run
}

// start joins the fleet over srv, the bus just started for cfg, and returns
// what leaves it.
func (h *fleetHost) start(ctx context.Context, srv *bus.Server, cfg *config.Config) func() {
	d := h.d
	f, err := fleet.Start(ctx, fleet.Options{
		Node: cfg.Node, Version: d.opts.Version, Address: fleetAddress(cfg), Started: d.started,
		Conn:     srv.Conn(),
		Services: d.sup, Events: d.events, Config: d.Current,
		Handler: d.api.Handler(), Caller: api.WithPrincipal, WriteError: api.WriteError,
		Logger: d.opts.Logger,
	})
	if err != nil {
		d.opts.Logger.Error("fleet not joined", "err", err)
		return func() {}
	}
	h.mu.Lock()
	h.f = f
	h.mu.Unlock()
	return func() {
		h.mu.Lock()
		h.f = nil
		h.mu.Unlock()
		f.Close()
	}
}

// fleetAddress is where this node's instances are reached by default: the
// host of the first of bus.cluster.listen, bus.listen and
// api.listen that names one, else the node's name.
func fleetAddress(cfg *config.Config) string {
	var addrs []string
	if b := cfg.Bus; b != nil {
		if b.Cluster != nil {
			addrs = append(addrs, b.Cluster.Listen)
		}
		addrs = append(addrs, b.Listen)
	}
	for _, a := range append(addrs, cfg.API.Listen) {
		host, _, err := net.SplitHostPort(a)
		if ip := net.ParseIP(host); err == nil && host != "" && (ip == nil || !ip.IsUnspecified()) {
			return host
		}
	}
	return cfg.Node
}

// fleet returns the fleet, or why there is none.
func (h *fleetHost) fleet() (*fleet.Fleet, error) {
	h.mu.Lock()
	f := h.f
	h.mu.Unlock()
	if f != nil {
		return f, nil
	}
	if _, err := h.bus.server(); err != nil {
		if err == errNoBus {
			return nil, steward.Errorf(steward.ECONFLICT, "no fleet: add a bus: section to the configuration")
		}
		return nil, err
	}
	return nil, errFleetStarting
}

func (h *fleetHost) Nodes() ([]steward.Node, error) {
	f, err := h.fleet()
	if err != nil {
		return nil, err
	}
	return f.Nodes(), nil
}

func (h *fleetHost) Forward(ctx context.Context, node string, rq fleet.Request, w http.ResponseWriter) error {
	f, err := h.fleet()
	if err != nil {
		return err
	}
	return f.Forward(ctx, node, rq, w)
}

func (h *fleetHost) FanOut(ctx context.Context, target string, p steward.Principal) ([]steward.FleetAnswer, error) {
	f, err := h.fleet()
	if err != nil {
		return nil, err
	}
	return f.FanOut(ctx, target, p, 0), nil
}

func (h *fleetHost) Instances(q fleet.Filter) ([]steward.Instance, error) {
	f, err := h.fleet()
	if err != nil {
		return nil, err
	}
	return f.Instances(q), nil
}
