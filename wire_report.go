package steward

import (
	"net/url"
	"time"
)

// Report formats: what GET /v1/report's format= and `steward report -o`
// take.
const (
	ReportJSON = "json"
	ReportCSV  = "csv"
	ReportHTML = "html"
	ReportXLSX = "xlsx"
)

// ReportFormats lists the report formats.
var ReportFormats = []string{ReportJSON, ReportCSV, ReportHTML, ReportXLSX}

// Report sections: the tables a CSV report holds one of (section=).
const (
	ReportServices  = "services"
	ReportIncidents = "incidents"
	ReportJobs      = "jobs"
	ReportMachine   = "machine"
)

// ReportSections lists the report sections.
var ReportSections = []string{ReportServices, ReportIncidents, ReportJobs, ReportMachine}

// Report is what steward's store tells of a time range: the availability,
// restarts and resources of each service, the incidents, the runs of the
// jobs and the machine's load. GET /v1/report returns it.
type Report struct {
	Node      string    `json:"node,omitempty"`
	Since     time.Time `json:"since"`
	Until     time.Time `json:"until"`
	Generated time.Time `json:"generated"`
	// Step is the width in seconds of each service's availability
	// buckets: an hour for ranges up to three days, a day beyond.
	Step      float64         `json:"step_seconds"`
	Services  []ServiceReport `json:"services"`
	Incidents []Incident      `json:"incidents"`
	// MTTR is the mean duration of the incidents that ended in the
	// range, in seconds; absent when none did.
	MTTR    *float64      `json:"mttr_seconds,omitempty"`
	Jobs    []JobReport   `json:"jobs"`
	Machine MachineReport `json:"machine"`
}

// ServiceReport is one service's part of a report. Every duration is in
// seconds; Expected is Up plus Down, the time the service should have run.
type ServiceReport struct {
	Name string `json:"name"`
	// Availability is Up over Expected, in percent; absent when the
	// service was never meant to run in the range.
	Availability *float64 `json:"availability_percent,omitempty"`
	Expected     float64  `json:"expected_seconds"`
	Up           float64  `json:"up_seconds"`
	Down         float64  `json:"down_seconds"`
	// Unhealthy is the part of Down during which the service ran but
	// failed its health check.
	Unhealthy float64 `json:"unhealthy_seconds"`
	// Planned is the time it was stopped on purpose (asked to stop,
	// finished, not yet started); NoData the time steward did not run
	// or has no record of.
	Planned float64 `json:"planned_seconds"`
	NoData  float64 `json:"no_data_seconds"`
	// SLO is the service's availability objective in percent, from its
	// slo: setting; with it, ErrorBudget (seconds of downtime the SLO
	// allows over Expected) and BudgetLeft (percent of it not spent,
	// negative once overspent).
	SLO         float64  `json:"slo_percent,omitempty"`
	ErrorBudget *float64 `json:"error_budget_seconds,omitempty"`
	BudgetLeft  *float64 `json:"error_budget_left_percent,omitempty"`
	// Crashes are the restarts steward made on its own (an exit nobody
	// asked for, a failed health check, a limit); Manual the restarts
	// someone asked for.
	Crashes int `json:"crashes"`
	Manual  int `json:"manual_restarts"`
	// Outages counts the periods of downtime; MTTR is their mean
	// length, MTBF the mean up time between them.
	Outages   int            `json:"outages"`
	MTTR      *float64       `json:"mttr_seconds,omitempty"`
	MTBF      *float64       `json:"mtbf_seconds,omitempty"`
	Incidents int            `json:"incidents"`
	CPU       *Distribution  `json:"cpu_percent,omitempty"`
	RSS       *Distribution  `json:"rss_bytes,omitempty"`
	Buckets   []Availability `json:"buckets"`
}

// Availability is a service's availability in one step of a report.
type Availability struct {
	Start time.Time `json:"start"`
	// Percent is absent when the service was not meant to run then.
	Percent *float64 `json:"percent,omitempty"`
	Up      float64  `json:"up_seconds"`
	Down    float64  `json:"down_seconds"`
}

// Distribution summarizes a metric's samples (per-minute or per-hour
// means over longer ranges, see docs/reports.md).
type Distribution struct {
	P50     float64 `json:"p50"`
	P95     float64 `json:"p95"`
	Max     float64 `json:"max"`
	Samples int     `json:"samples"`
}

// Incident is an alert that fired, as a report lists it.
type Incident struct {
	ID       int64     `json:"id"`
	Rule     string    `json:"rule"`
	Subject  string    `json:"subject"`
	Service  string    `json:"service,omitempty"`
	Severity string    `json:"severity"`
	Message  string    `json:"message"`
	Started  time.Time `json:"started"`
	Resolved time.Time `json:"resolved,omitzero"`
	// Duration runs from Started to Resolved, or to the report's end for
	// an incident still open.
	Duration float64 `json:"duration_seconds"`
	Open     bool    `json:"open,omitempty"`
}

// JobReport is the runs of one job in a report.
type JobReport struct {
	Name      string  `json:"name"`
	Runs      int     `json:"runs"`
	Succeeded int     `json:"succeeded"`
	Failed    int     `json:"failed"` // failed, timed out or lost
	Other     int     `json:"other"`  // skipped, cancelled, queued or running
	Success   float64 `json:"success_percent"`
	// DurationP50 and DurationP95 are of the runs that ended, in seconds.
	DurationP50 float64      `json:"duration_p50_seconds"`
	DurationP95 float64      `json:"duration_p95_seconds"`
	Failures    []RunFailure `json:"failures"`
}

// RunFailure is a run that failed, as a report lists it (the newest ten of
// each job).
type RunFailure struct {
	ID      int64     `json:"id"`
	Started time.Time `json:"started"`
	Status  RunStatus `json:"status"`
	Error   string    `json:"error,omitempty"`
}

// MachineReport is the machine's load in a report, from the samples a
// sysmon service stored; its parts are absent without them.
type MachineReport struct {
	CPU    *Distribution `json:"cpu_percent,omitempty"`
	Memory *Distribution `json:"memory_percent,omitempty"`
	Disks  []DiskReport  `json:"disks"`
}

// DiskReport is one filesystem's use in a report, in percent.
type DiskReport struct {
	Mount string       `json:"mount"`
	Used  Distribution `json:"used_percent"`
}

// ReportQuery asks for a report: the query of GET /v1/report.
type ReportQuery struct {
	// Since is an RFC 3339 time or a span back from Until ("7d", "36h");
	// "" is 7 days. Until is an RFC 3339 time or a span back from now;
	// "" is now.
	Since, Until string
	Services     []string // none: every service
	Format       string   // one of ReportFormats; "" is JSON
	Section      string   // for CSV: one of ReportSections; "" is services
}

// Values returns q as URL query parameters.
func (q ReportQuery) Values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"since": q.Since, "until": q.Until, "format": q.Format, "section": q.Section} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if len(q.Services) > 0 {
		v["service"] = q.Services
	}
	return v
}
