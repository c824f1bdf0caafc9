// Package config reads steward's YAML configuration: its schema, the defaults
// (in this file, monitoring.go and notify.go), strict validation that
// reports every error with its FILE:LINE:COL position, and the diff of two
// configurations. The sections it does not know itself — the services of a
// built-in kind and the settings of each type of notifier — are decoded by
// their owners through a Registry passed to Parse, with the Section API of
// decode.go. Config is data and validation: it builds no notifier, watcher
// or store. It is a leaf next to the root package: it imports only the YAML
// parser and the standard library, no internal package (deps_test.go locks
// that), and any package may import it.
package config

import (
	"path/filepath"
	"time"
)

// Defaults. This is the one place they are written down; the README links here.
const (
	DefaultKind          = "exec"
	DefaultStopSignal    = "TERM"
	DefaultStopTimeout   = 10 * time.Second
	DefaultRestartPolicy = "on-failure"
	DefaultBackoff       = 100 * time.Millisecond
	DefaultMaxBackoff    = 30 * time.Second
	DefaultMaxRestarts   = 5
	DefaultWindow        = 60 * time.Second
	// DefaultStable is how long a service must stay up before its backoff
	// resets to restart.backoff.
	DefaultStable       = 10 * time.Second
	DefaultReadyTimeout = 30 * time.Second
	DefaultLogMaxSize   = 50 << 20 // bytes
	DefaultLogKeep      = 5
	// DefaultLogRing is how many recent lines each service keeps in memory
	// for `steward logs -n`.
	DefaultLogRing = 1000
)

// Restart policies.
const (
	RestartAlways    = "always"
	RestartOnFailure = "on-failure"
	RestartNever     = "never"
)

// Config is one parsed, validated and defaulted configuration file.
type Config struct {
	File    string `json:"file"` // absolute path it was read from ("" when parsed from memory)
	Node    string `json:"node"`
	DataDir string `json:"data_dir"` // absolute
	API     API    `json:"api"`
	Web     Web    `json:"web"`
	Auth    Auth   `json:"auth"`
	Audit   Audit  `json:"audit"`
	// Services by name; Order holds the names in the order the file declares them.
	Services map[string]*Service `json:"services"`
	// Tenants are the tenants the file declares (tenants.go).
	Tenants []string `json:"tenants,omitempty"`
	Order   []string `json:"-"`
	// Checks by name; CheckOrder holds the names in file order.
	Checks     map[string]*Check `json:"checks,omitempty"`
	CheckOrder []string          `json:"-"`
	Alerts     Alerts            `json:"alerts"`
	Metrics    Metrics           `json:"metrics"`
	// Notify holds the notifiers by name, their secrets as references
	// (resolved by whoever builds them); NotifyOrder holds the names in
	// file order.
	Notify        map[string]*Notifier `json:"notify,omitempty"`
	NotifyOrder   []string             `json:"-"`
	Notifications Notifications        `json:"notifications"`
	// Bus is the bus: section; nil when the file has none, and then no
	// bus runs.
	Bus *Bus `json:"bus,omitempty"`
	// Jobs by name (jobs.go); JobOrder holds the names in file order.
	Jobs     map[string]*Job `json:"jobs,omitempty"`
	JobOrder []string        `json:"-"`
	// Workflows by name (workflows.go); WorkflowOrder holds the names in
	// file order.
	Workflows     map[string]*Workflow `json:"workflows,omitempty"`
	WorkflowOrder []string             `json:"-"`
	// Runs is the retention of the history of runs.
	Runs Runs `json:"runs"`
	// SecretEnv holds the names of the environment variables the file
	// references as secrets, ${env:NAME}, anywhere in it, sorted: no
	// service gets them unless its inherit_env names them.
	SecretEnv []string `json:"-"`
	// Source is the file's text exactly as read.
	Source []byte `json:"-"`
	// errFile names the file in errors, as Parse was given it.
	errFile string
}

// API says where steward serves its HTTP API.
type API struct {
	Socket      string `json:"socket"`                 // Unix socket path (absolute) or Windows pipe name
	SocketGroup string `json:"socket_group,omitempty"` // group allowed to use the socket (0660) instead of owner only (0600)
	Listen      string `json:"listen,omitempty"`       // optional TCP address
	TokenFile   string `json:"token_file,omitempty"`   // bearer token for TCP; generated into data_dir when empty
	TLS         TLS    `json:"tls,omitempty"`
	// RateLimit bounds the requests of each principal on the TCP
	// listeners; zero is no bound.
	RateLimit RateLimit `json:"rate_limit,omitzero"`
}

// RateLimit is a token bucket: PerSecond requests a second on average,
// Burst at once.
type RateLimit struct {
	PerSecond float64 `json:"per_second"`
	Burst     int     `json:"burst"`
}

// Web says where steward serves the web dashboard besides api.listen.
type Web struct {
	// Listen is the TCP address of a listener of the dashboard's own: the
	// dashboard, and the API behind it, with api.tls and the API token as
	// on api.listen.
	Listen string `json:"listen,omitempty"`
}

// TLS holds the certificate and key files for the TCP listeners. With
// Auto (api.tls: auto) steward makes them itself, signed by a CA of its
// own, and Cert and Key are AutoTLSDir's server.pem and server.key.
type TLS struct {
	Cert string `json:"cert,omitempty"`
	Key  string `json:"key,omitempty"`
	Auto bool   `json:"auto,omitempty"`
}

// AutoTLSDir is the directory under the data dir where api.tls: auto
// keeps its CA and server certificate.
func AutoTLSDir(dataDir string) string { return filepath.Join(dataDir, "tls") }

// Service is one declared service.
type Service struct {
	Name string `json:"name"`
	// Tenant is the tenant it belongs to (tenants.go); "" is no tenant:
	// only principals of no tenant see it.
	Tenant  string            `json:"tenant,omitempty"`
	Kind    string            `json:"kind"`
	Command []string          `json:"command"`
	Env     map[string]string `json:"env,omitempty"`
	EnvFile string            `json:"env_file,omitempty"` // absolute
	// InheritEnv names what the service gets of steward's own environment
	// besides its base environment.
	InheritEnv InheritEnv `json:"inherit_env,omitzero"`
	WorkingDir string     `json:"working_dir,omitempty"`
	User       string     `json:"user,omitempty"`
	Group      string     `json:"group,omitempty"`
	DependsOn  []string   `json:"depends_on,omitempty"`
	// DependsOnCond holds the condition of each dependency that waits for
	// something else than ConditionReady (see DependencyCondition); nil
	// when all of them wait until ready.
	DependsOnCond map[string]Condition `json:"depends_on_condition,omitempty"`
	// DependsOnRestart names the dependencies whose restart by steward
	// (after a crash, a failed health check or a readiness timeout)
	// restarts this service once they run again: depends_on: {db:
	// {restart: true}}. Without it, a dependency's restart leaves the
	// service running.
	DependsOnRestart []string `json:"depends_on_restart,omitempty"`
	// Disabled services are not started by `run` or `start --all`; an explicit
	// `start NAME` still starts them.
	Disabled bool    `json:"disabled,omitempty"`
	Ready    Ready   `json:"ready"`
	Stop     Stop    `json:"stop"`
	Restart  Restart `json:"restart"`
	Logs     Logs    `json:"logs"`
	// Health and Limits are for exec services; nil when not set.
	Health *Health `json:"health,omitempty"`
	Limits *Limits `json:"limits,omitempty"`
	// Registry, when set, publishes the service in the fleet's registry
	// while it runs.
	Registry *ServiceRegistry `json:"registry,omitempty"`
	// OnExit is what an exit that no one asked for does: one of
	// OnExitRestart ("" means it too), OnExitIgnore, OnExitStopAll and
	// OnExitExit; ExitCode, when set, is steward's exit status for
	// OnExitExit instead of the service's.
	OnExit   string `json:"on_exit,omitempty"`
	ExitCode *int   `json:"exit_code,omitempty"`
	// SLO is the availability objective of reports, in percent (slo:
	// 99.9%); 0 for none. Changing it restarts nothing.
	SLO float64 `json:"slo,omitempty"`
	// Spec is what the kind's decoder (KindSchema.Decode) returned for a
	// service of a kind other than exec; nil for exec.
	Spec any `json:"spec,omitempty"`
	// At locates the service ("") and, for exec, the values of its keys
	// ("command", "working_dir", "user"…), for the problems found after
	// Parse (a command that does not resolve). Compare ignores it.
	At Positions `json:"-"`
}

// Ready says when a started service counts as ready for its dependents. At
// most one of After, TCP, HTTP, Exec and Log is set; none means "as soon as
// the process has started".
type Ready struct {
	After time.Duration `json:"after,omitempty"`
	TCP   string        `json:"tcp,omitempty"`
	HTTP  string        `json:"http,omitempty"`
	Exec  []string      `json:"exec,omitempty"`
	Log   string        `json:"log,omitempty"` // RE2 regex matched against each output line
	// Notify waits for READY=1 on the service's NOTIFY_SOCKET (the
	// sd_notify protocol); Watchdog, when set, restarts it under its
	// policy when WATCHDOG=1 pings stop for that long.
	Notify   bool          `json:"notify,omitempty"`
	Watchdog time.Duration `json:"watchdog,omitempty"`
	Timeout  time.Duration `json:"timeout"`
}

// The values of on_exit.
const (
	OnExitRestart = "restart"
	OnExitIgnore  = "ignore"
	OnExitStopAll = "stop-all"
	OnExitExit    = "exit"
)

// Stop says how a service is stopped: Signal to its process group, then,
// after Timeout, a kill of its whole process tree.
type Stop struct {
	Signal  string        `json:"signal"` // TERM, INT, HUP, QUIT, KILL, USR1, USR2 (without SIG)
	Timeout time.Duration `json:"timeout"`
}

// Restart is the restart policy with exponential backoff and restart intensity.
type Restart struct {
	Policy      string        `json:"policy"`
	Backoff     time.Duration `json:"backoff"`
	MaxBackoff  time.Duration `json:"max_backoff"`
	MaxRestarts int           `json:"max_restarts"`
	Window      time.Duration `json:"window"`
	Stable      time.Duration `json:"stable"`
}

// Logs configures the capture of a service's output.
type Logs struct {
	MaxSize int64 `json:"max_size"` // bytes before rotation
	Keep    int   `json:"keep"`     // rotated files kept
	// Every rotates the file at each local midnight (a whole number of
	// days), or at each multiple of it since midnight (a divisor of a
	// day); 0 means by size only.
	Every    time.Duration `json:"every,omitempty"`
	MaxAge   time.Duration `json:"max_age,omitempty"`   // rotated files older than this are deleted; 0 = no limit
	MaxTotal int64         `json:"max_total,omitempty"` // bytes of rotated files kept in all; 0 = no limit
	Compress string        `json:"compress,omitempty"`  // gzip, zstd, or "" for none
}
