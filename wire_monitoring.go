package steward

import (
	"net/url"
	"strconv"
	"strings"
	"time"
)

// HealthResponse is the answer of GET /healthz.
type HealthResponse struct {
	Status string `json:"status"` // "ok"
}

// AlertQuery selects alerts: the query of GET /v1/alerts.
type AlertQuery struct {
	All   bool // resolved alerts too, not only the open ones
	Limit int  // at most; 0 for the server's default
}

// Values returns q as URL query parameters.
func (q AlertQuery) Values() url.Values {
	v := url.Values{"state": {"open"}}
	if q.All {
		v.Set("state", "all")
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	return v
}

// AckRequest is the optional body of POST /v1/alerts/{id}/ack.
type AckRequest struct {
	Comment string `json:"comment"`
}

// SilenceRequest is the body of POST /v1/silences: matchers, and when the
// silence ends: at Ends, or Duration (like "2h") from now.
type SilenceRequest struct {
	Matchers map[string]string `json:"matchers"`
	Ends     time.Time         `json:"ends,omitzero"`
	Duration string            `json:"duration,omitempty"`
	Comment  string            `json:"comment"`
}

// MetricSample is one value of a metric, as POST /v1/metrics takes it.
type MetricSample struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels,omitempty"`
	Value  float64           `json:"value"`
	Time   time.Time         `json:"time,omitzero"` // zero: when it is recorded
}

// PushRequest is the body of POST /v1/metrics.
type PushRequest struct {
	Samples []MetricSample `json:"samples"`
}

// PushResult is the answer of POST /v1/metrics.
type PushResult struct {
	Recorded int `json:"recorded"`
}

// MetricQuery selects the history of one metric: the query of GET
// /v1/metrics/query.
type MetricQuery struct {
	Name string
	// Labels each selected series must have (others may have more); the
	// names of the other parameters (name, from, to, step) are no labels.
	Labels map[string]string
	// From and To bound the range; zero values are the server's defaults
	// (To now, From an hour before To).
	From, To time.Time
	// Step is the width of one point; 0 lets the server choose.
	Step time.Duration
}

// Values returns q as URL query parameters; labels are parameters of
// their own name.
func (q MetricQuery) Values() url.Values {
	v := url.Values{}
	for k, l := range q.Labels {
		v.Set(k, l)
	}
	v.Set("name", q.Name)
	if !q.From.IsZero() {
		v.Set("from", q.From.Format(time.RFC3339Nano))
	}
	if !q.To.IsZero() {
		v.Set("to", q.To.Format(time.RFC3339Nano))
	}
	if q.Step > 0 {
		v.Set("step", q.Step.String())
	}
	return v
}

// MetricSeries is the history of one series: one point per step that has
// samples.
type MetricSeries struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels,omitempty"`
	// Tier is the resolution the points were computed from: raw, 1m or 1h.
	Tier string `json:"tier"`
	// Step is the width of a point in milliseconds.
	Step int64 `json:"step"`
	// Points are [time (Unix ms, start of the step), average, min, max].
	Points [][4]float64 `json:"points"`
}

// QueryResult is the answer of GET /v1/metrics/query.
type QueryResult struct {
	Series []MetricSeries `json:"series"`
}

// CheckState is a standalone check and its last result: an element of GET
// /v1/checks.
type CheckState struct {
	Name  string       `json:"name"`
	Check CheckConfig  `json:"check"`
	Last  *CheckResult `json:"last,omitempty"` // nil before its first run
}

// CheckConfig is a standalone check as configured: one of HTTP, TCP, Exec,
// File, Process and OSService is set.
type CheckConfig struct {
	Name      string        `json:"name"`
	HTTP      string        `json:"http,omitempty"`
	TCP       string        `json:"tcp,omitempty"`
	Exec      []string      `json:"exec,omitempty"`
	File      string        `json:"file,omitempty"`
	Process   string        `json:"process,omitempty"`
	OSService string        `json:"os_service,omitempty"`
	MaxAge    time.Duration `json:"max_age,omitempty"`
	MinSize   int64         `json:"min_size,omitempty"`
	MaxSize   int64         `json:"max_size,omitempty"`
	Interval  time.Duration `json:"interval"`
	Timeout   time.Duration `json:"timeout"`
	For       time.Duration `json:"for,omitempty"`
	Severity  string        `json:"severity,omitempty"`
}

// Target names what the check watches: "http URL", "tcp HOST:PORT", ….
func (c CheckConfig) Target() string {
	switch {
	case c.HTTP != "":
		return "http " + c.HTTP
	case c.TCP != "":
		return "tcp " + c.TCP
	case len(c.Exec) > 0:
		return "exec " + strings.Join(c.Exec, " ")
	case c.File != "":
		return "file " + c.File
	case c.Process != "":
		return "process " + c.Process
	case c.OSService != "":
		return "os_service " + c.OSService
	}
	return ""
}

// CheckResult is the outcome of one run of a check.
type CheckResult struct {
	Status   string        `json:"status"` // OK, WARNING, CRITICAL or UNKNOWN
	Message  string        `json:"message"`
	Duration time.Duration `json:"duration"` // in nanoseconds on the wire
	Time     time.Time     `json:"time"`
}
