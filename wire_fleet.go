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

// StreamErrorTrailer is the HTTP trailer of a stream forwarded to another
// node (logs -f, events -f through --node) that ended early on a failure:
// it says why, where a stream that simply ended has none.
const StreamErrorTrailer = "Steward-Error"

// FleetAnswer is one node's answer to a request fanned out to the fleet
// (GET /v1/fleet/{path}): the status and JSON body of its answer, or why
// it gave none.
type FleetAnswer struct {
	Node   string          `json:"node"`
	Status int             `json:"status,omitempty"`
	Body   json.RawMessage `json:"body,omitempty"`
	Error  *ErrorBody      `json:"error,omitempty"`
}

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
	// Service is the steward service it stands for; "" for an instance
	// registered through the API.
	Service string    `json:"service"`
	Since   time.Time `json:"since"` // when Healthy last changed
	// Tenant is the tenant of its service, or of the principal that
	// registered it.
	Tenant string `json:"tenant,omitempty"`
	// TTL is an API registration's: a heartbeat must come within it.
	TTL string `json:"ttl,omitempty"`
	// Note is the note of the last heartbeat.
	Note string `json:"note,omitempty"`
}

// Registration is the body of POST /v1/registry: an instance a service
// registers on the node it asks, kept alive by heartbeats. Durations are
// Go durations like "10s"; a zero field takes its default.
type Registration struct {
	Name    string            `json:"name"`
	ID      string            `json:"id,omitempty"` // a generated one when ""
	Address string            `json:"address,omitempty"`
	Port    int               `json:"port"`
	Tags    []string          `json:"tags,omitempty"`
	Meta    map[string]string `json:"meta,omitempty"`
	TTL     string            `json:"ttl,omitempty"`
	// DeregisterAfter is how long after its last heartbeat the instance
	// is removed (Consul's deregister_critical_service_after).
	DeregisterAfter string `json:"deregister_after,omitempty"`
	// SuccessBeforePassing and FailuresBeforeCritical are how many
	// passing or failing reports in a row turn the instance healthy or
	// unhealthy.
	SuccessBeforePassing   int `json:"success_before_passing,omitempty"`
	FailuresBeforeCritical int `json:"failures_before_critical,omitempty"`
}

// Heartbeat statuses.
const (
	CheckPassing = "passing"
	CheckFailing = "failing"
)

// Heartbeat is the optional body of PUT
// /v1/registry/{name}/{id}/heartbeat: the status the instance reports
// (CheckPassing when ""), with a note.
type Heartbeat struct {
	Status string `json:"status,omitempty"`
	Note   string `json:"note,omitempty"`
}

// FleetService is one service in steward ps --fleet: the service's status
// on its node.
type FleetService struct {
	Node string `json:"node"`
	ServiceStatus
}

// FleetEvent is one event in steward events --fleet: the event on its
// node.
type FleetEvent struct {
	Node string `json:"node"`
	Event
}

// FleetAlert is one alert in steward alerts --fleet: the alert on its
// node.
type FleetAlert struct {
	Node string `json:"node"`
	Alert
}
