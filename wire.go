package steward

import (
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// The wire types: the bodies and queries of the API, the contract between
// steward versions, nodes, the CLI and the dashboard. The api package
// converts its internal types to them; clients use nothing else. A test
// checks them against the schemas of the API's OpenAPI document.

// Info describes the running steward: GET /v1/info.
type Info struct {
	Version       string    `json:"version"`
	Node          string    `json:"node"`
	PID           int       `json:"pid"`
	Started       time.Time `json:"started"`
	ConfigVersion int       `json:"config_version"` // 0 when none is stored
	// OS and Arch are what steward was built for; ServiceManager is the
	// OS service manager it can install itself into; DataDir is its data
	// directory. Capabilities say what this platform offers steward.
	OS             string       `json:"os,omitempty"`
	Arch           string       `json:"arch,omitempty"`
	ServiceManager string       `json:"service_manager,omitempty"`
	DataDir        string       `json:"data_dir,omitempty"`
	Capabilities   []Capability `json:"capabilities,omitempty"`
}

// Capability is one thing the platform may offer steward, and whether it
// does here: "process groups", "pidfd", "tree mechanism" (Detail: "cgroup
// v1 (pids)").
type Capability struct {
	Name      string `json:"name"`
	Available bool   `json:"available"`
	Detail    string `json:"detail,omitempty"`
}

// ActionRequest is the optional body of POST /v1/services/-/ACTION: the
// services to act on. No body, or no names, means every service.
type ActionRequest struct {
	Names []string `json:"names"`
}

// LogLine is one line of a service's output, as GET
// /v1/services/{name}/logs streams it: one JSON object per line (NDJSON).
type LogLine struct {
	Time   time.Time `json:"time"`
	Stream string    `json:"stream"` // "stdout" or "stderr"
	Text   string    `json:"text"`
	// Missed counts the lines dropped just before this one because the
	// client fell behind.
	Missed int `json:"missed,omitempty"`
}

// LogRotation is what a rotation of a service's log file did, as POST
// /v1/services/{name}/logs/rotate and POST /v1/logs/rotate answer.
type LogRotation struct {
	Service string `json:"service"`
	// File is the path the log file was renamed to; empty when the file
	// was empty and not rotated. It is compressed in the background when
	// the service's logs say so.
	File string `json:"file,omitempty"`
}

// MaxEventLimit is the most events one GET /v1/events returns: a larger
// limit is cut to it.
const MaxEventLimit = 10000

// EventQuery selects events: the query of GET /v1/events.
type EventQuery struct {
	Since   time.Time // at or after
	After   int64     // with a greater ID
	Service string    // of one service
	Limit   int       // at most (and at most MaxEventLimit); 0 for the server's default
}

// Values returns q as URL query parameters.
func (q EventQuery) Values() url.Values {
	v := url.Values{}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.Format(time.RFC3339Nano))
	}
	if q.After > 0 {
		v.Set("after", strconv.FormatInt(q.After, 10))
	}
	if q.Service != "" {
		v.Set("service", q.Service)
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	return v
}

// ConfigRequest is the JSON form of a configuration text sent to PUT
// /v1/config and POST /v1/config/validate; the plain form is the YAML text
// itself as the body.
type ConfigRequest struct {
	Text string `json:"text"`
}

// ConfigText is the applied configuration as GET /v1/config returns it.
type ConfigText struct {
	Version int    `json:"version"` // 0 when none is stored
	File    string `json:"file"`
	Text    string `json:"text"`
}

// ConfigVersion is one stored configuration version. Lists leave Text out.
type ConfigVersion struct {
	N      int       `json:"n"`
	Time   time.Time `json:"time"`
	Hash   string    `json:"hash"`
	Source string    `json:"source"`
	File   string    `json:"file"`
	Text   string    `json:"text,omitempty"`
}

// Validation is the answer to a valid configuration text.
type Validation struct {
	Valid bool `json:"valid"`
}

// Applied reports what applying a configuration did: the answer of PUT
// /v1/config, POST /v1/reload and POST /v1/config/rollback/{n}.
type Applied struct {
	Version int        `json:"version"`
	Diff    ConfigDiff `json:"diff"`
}

// ConfigDiff is the difference between two configurations, by service name.
type ConfigDiff struct {
	Added     []string `json:"added,omitempty"`
	Removed   []string `json:"removed,omitempty"`
	Changed   []string `json:"changed,omitempty"`
	Unchanged []string `json:"unchanged,omitempty"`
	// Settings lists the top-level settings that differ and apply only
	// when steward restarts.
	Settings []string `json:"settings,omitempty"`
	// Sections lists the other top-level sections that differ, which
	// apply at once.
	Sections []string `json:"sections,omitempty"`
}

// ErrorResponse is the body of every error answer.
type ErrorResponse struct {
	Error ErrorBody `json:"error"`
}

// ErrorBody is what an error answer says: a code (one of the E* codes, or
// method_not_allowed) and a message for the user.
type ErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// Details lists the problems of an invalid configuration.
	Details []Problem `json:"details,omitempty"`
}

// Problem is one problem in a configuration text, at a 1-based line and
// column of file.
type Problem struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Col     int    `json:"col"`
	Message string `json:"message"`
}

// String returns "FILE:LINE:COL: message", or "LINE:COL: message" without
// a file.
func (p Problem) String() string {
	if p.File == "" {
		return fmt.Sprintf("%d:%d: %s", p.Line, p.Col, p.Message)
	}
	return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Col, p.Message)
}
