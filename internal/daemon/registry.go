package daemon

import (
	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/fleet"
)

// The registrations live in the fleet, in memory: a restart of the bus or
// of steward drops them, and a service's next heartbeat, a 404, tells it
// to register again.

func (h *fleetHost) Register(g fleet.Registration) (steward.Instance, error) {
	f, err := h.fleet()
	if err != nil {
		return steward.Instance{}, err
	}
	return f.Register(g)
}

func (h *fleetHost) Heartbeat(name, id, tenant string, passing bool, note string) (steward.Instance, error) {
	f, err := h.fleet()
	if err != nil {
		return steward.Instance{}, err
	}
	return f.Heartbeat(name, id, tenant, passing, note)
}

func (h *fleetHost) Deregister(name, id, tenant string) error {
	f, err := h.fleet()
	if err != nil {
		return err
	}
	return f.Deregister(name, id, tenant)
}

func (h *fleetHost) Pick(q fleet.Filter) (steward.Instance, error) {
	f, err := h.fleet()
	if err != nil {
		return steward.Instance{}, err
	}
	return f.Pick(q)
}
