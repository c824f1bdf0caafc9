package steward

import "time"

// Exit is one recorded end of a run of a service: the items of GET
// /v1/services/{name}/exits, newest first.
type Exit struct {
	ID      int64     `json:"id"`
	Service string    `json:"service"`
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended"`
	// UptimeSeconds is how long the run lasted.
	UptimeSeconds float64 `json:"uptime_seconds"`
	// ExitCode is the exit status; absent when a signal ended the process
	// or the status is unknown.
	ExitCode *int `json:"exit_code,omitempty"`
	// Signal names the signal that ended the process ("SIGKILL").
	Signal string `json:"signal,omitempty"`
	// Status says how it ended in words: "exit status 3", "killed by
	// SIGKILL (a shell reports 137 = 128+9)".
	Status string `json:"status"`
	// OOM is "yes" when the kernel's OOM killer ended the run, "no" when
	// steward could tell it did not, and "unknown" when it could not tell;
	// OOMDetail says how it knows.
	OOM       string `json:"oom"`
	OOMDetail string `json:"oom_detail,omitempty"`
	// PeakRSSBytes and CPUSeconds are of the whole process tree as last
	// sampled; absent when it was never sampled.
	PeakRSSBytes uint64  `json:"peak_rss_bytes,omitempty"`
	CPUSeconds   float64 `json:"cpu_seconds,omitempty"`
	// LastLines are the last lines of its output (at most 20).
	LastLines []string `json:"last_lines,omitempty"`
	// Probe is the failing readiness, health or watchdog check, when one
	// ended the run.
	Probe string `json:"probe,omitempty"`
	// Reason is what the supervisor made of the exit.
	Reason string `json:"reason"`
}

// The values of Exit.OOM.
const (
	OOMYes     = "yes"
	OOMNo      = "no"
	OOMUnknown = "unknown"
)

// Why explains the current state of a service in plain words: GET
// /v1/services/{name}/why.
type Why struct {
	Service string    `json:"service"`
	State   State     `json:"state"`
	Since   time.Time `json:"since"`
	// Summary is one sentence: "api is failed: it crashed 6 times within
	// 1m0s (restart intensity 5 in 1m0s)".
	Summary string `json:"summary"`
	// Details are further sentences: how the last run ended, a blocking
	// dependency, who stopped it.
	Details []string `json:"details,omitempty"`
	// LastExit is the most recent recorded exit, if any.
	LastExit *Exit `json:"last_exit,omitempty"`
}
