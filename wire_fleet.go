package steward

import (
	"encoding/json"
	"time"
)

// Node states in the fleet.
const (
	NodeUp   = "up"
	NodeDown = "down"
)

// Node is one node of the fleet as the node answering sees it: from the
// heartbeats it received. A node is down once no heartbeat came within the
// fleet's TTL, or it said it was leaving; it stays listed as down until the
// answering node restarts.
type Node struct {
	Name     string    `json:"name"`
	State    string    `json:"state"`
	Version  string    `json:"version"`
	Address  string    `json:"address,omitempty"` // its api.listen, when it has one
	Services int       `json:"services"`
	Started  time.Time `json:"started"`
	LastSeen time.Time `json:"last_seen"`
	Self     bool      `json:"self,omitempty"` // the answering node
}

// FleetAnswer is one node's answer to a request fanned out to the fleet
// (GET /v1/fleet/{path}): the status and JSON body of its answer, or why
// it gave none.
type FleetAnswer struct {
	Node   string          `json:"node"`
	Status int             `json:"status,omitempty"`
	Body   json.RawMessage `json:"body,omitempty"`
	Error  *ErrorBody      `json:"error,omitempty"`
}

// Registry instance sources.
const (
	SourceConfig = "config" // a service's registry: section
	SourceAPI    = "api"    // POST /v1/registry
)

// Instance is one instance in the fleet's service registry.
type Instance struct {
	ID      string            `json:"id"`
	Name    string            `json:"name"`
	Node    string            `json:"node"`
	Address string            `json:"address"`
	Port    int               `json:"port"`
	Healthy bool              `json:"healthy"`
	Tags    []string          `json:"tags"`
	Meta    map[string]string `json:"meta,omitempty"`
	// Service is the steward service it stands for (SourceConfig).
	Service string    `json:"service,omitempty"`
	Source  string    `json:"source"`
	Since   time.Time `json:"since"` // when Healthy last changed
}

// Registration registers an instance through the API (POST /v1/registry):
// it stays healthy while heartbeats come within TTL.
type Registration struct {
	// ID, when set, names the instance (letters, digits, '-', '_', '.'
	// and ':'; registering it again replaces it); else one is made.
	ID      string            `json:"id,omitempty"`
	Name    string            `json:"name"`
	Address string            `json:"address"`
	Port    int               `json:"port"`
	Tags    []string          `json:"tags,omitempty"`
	Meta    map[string]string `json:"meta,omitempty"`
	// TTL is a duration like 10s: an instance without a heartbeat for that
	// long counts as a failure. "" means 10s; 1s to 1h.
	TTL string `json:"ttl,omitempty"`
	// PassingAfter and CriticalAfter are the thresholds against flapping:
	// how many passing heartbeats in a row make an unhealthy instance
	// healthy, and how many failures in a row (failing heartbeats or missed
	// TTLs) make a healthy one unhealthy. 0 means 1.
	PassingAfter  int `json:"passing_after,omitempty"`
	CriticalAfter int `json:"critical_after,omitempty"`
	// DeregisterAfter is a duration like 1m: an instance unhealthy that
	// long is removed. "" means 1m.
	DeregisterAfter string `json:"deregister_after,omitempty"`
}

// Heartbeat is the optional body of PUT /v1/registry/{id}/heartbeat: an
// instance reporting itself failing (Status "failing") counts a failure;
// no body, or "passing", a pass.
type Heartbeat struct {
	Status string `json:"status,omitempty"`
}

// FleetService is one service in steward ps --fleet: the service's status
// on its node.
type FleetService struct {
	Node string `json:"node"`
	ServiceStatus
}
