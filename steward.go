// Package steward holds the domain words shared by every part of steward:
// service states and health, events, service status, alerts, the one error
// type (with its cause) whose code the API turns into an HTTP status, and
// the wire types of the API (wire*.go), the contract between steward, its
// CLI, its dashboard and other nodes. It imports nothing of the project and
// may be imported by any package.
package steward

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// State is where a service is in its lifecycle.
type State string

// The service states. stopped → starting → running → stopping → stopped, plus
// backoff (waiting to restart), failed (gave up) and exited (finished with
// status 0 and the policy says not to restart).
const (
	StateStopped  State = "stopped"
	StateStarting State = "starting"
	StateRunning  State = "running"
	StateStopping State = "stopping"
	StateBackoff  State = "backoff"
	StateFailed   State = "failed"
	StateExited   State = "exited"
)

// Active reports whether a service in state s has, or is about to have, a
// process: the states a stop request acts on.
func (s State) Active() bool {
	switch s {
	case StateStarting, StateRunning, StateBackoff:
		return true
	}
	return false
}

// Health is the outcome of a service's health checks, separate from its state.
type Health string

// The health values.
const (
	HealthUnknown   Health = "unknown"
	HealthHealthy   Health = "healthy"
	HealthUnhealthy Health = "unhealthy"
)

// Event types.
const (
	EventState        = "state"        // a service changed state
	EventConfig       = "config"       // a configuration was applied
	EventSystem       = "system"       // steward itself started or stopped
	EventHealth       = "health"       // a service's health changed
	EventAlert        = "alert"        // an alert changed: opened, fired, resolved, acknowledged, reminded
	EventLog          = "log"          // a log watch rule matched or stopped holding, or a log file stopped or resumed being written
	EventNotification = "notification" // a notification was given up: not delivered within its max age
	EventWorkbook     = "workbook"     // a workbook session was created, written, saved or closed (the reason says which)
)

// EventTypes lists every event type, for filters that offer them.
var EventTypes = []string{EventState, EventHealth, EventAlert, EventLog, EventNotification, EventWorkbook, EventConfig, EventSystem}

// Event is one thing that happened, stored before it is published.
type Event struct {
	ID      int64     `json:"id"`
	Time    time.Time `json:"time"`
	Type    string    `json:"type"`
	Service string    `json:"service,omitempty"`
	From    State     `json:"from,omitempty"`
	To      State     `json:"to,omitempty"`
	PID     int       `json:"pid,omitempty"`
	Reason  string    `json:"reason"`
}

// ServiceStatus is what steward reports about one service.
type ServiceStatus struct {
	Name      string    `json:"name"`
	Kind      string    `json:"kind"`
	State     State     `json:"state"`
	PID       int       `json:"pid"`
	Restarts  int       `json:"restarts"`
	Health    Health    `json:"health"`
	Since     time.Time `json:"since"`
	Reason    string    `json:"reason,omitempty"`
	ExitCode  *int      `json:"exit_code,omitempty"`
	DependsOn []string  `json:"depends_on,omitempty"`
	// Resource figures of the service's whole process tree, as last
	// sampled; absent while no process runs or before the first sample.
	CPUPercent float64 `json:"cpu_percent,omitempty"` // 100 is one core
	RSSBytes   uint64  `json:"rss_bytes,omitempty"`
	Threads    int     `json:"threads,omitempty"`
	OpenFiles  int     `json:"open_files,omitempty"`
	// StatusText is the last STATUS= a service with ready.notify sent.
	StatusText string `json:"status_text,omitempty"`
}

// Error codes, turned into HTTP statuses in exactly one place (the api package).
const (
	ECONFLICT     = "conflict"
	EINTERNAL     = "internal"
	EINVALID      = "invalid"
	ENOTFOUND     = "not_found"
	ETOOLARGE     = "too_large"
	EUNAUTHORIZED = "unauthorized"
	EFORBIDDEN    = "forbidden"
	EUNAVAILABLE  = "unavailable"
	ETOOMANY      = "too_many_requests"
)

// Error is an error a user should see: a code, a message, and the cause
// it wraps, if any, for errors.Is and As and for the log. An *Error
// without a code defers to its cause: its code is the cause's (see Wrap).
type Error struct {
	Code    string
	Message string
	Err     error
}

// Error returns the message and, after a colon, the cause's text; the
// cause's text alone when there is no message.
func (e *Error) Error() string {
	switch {
	case e.Err == nil:
		return e.Message
	case e.Message == "":
		return e.Err.Error()
	}
	return e.Message + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error with code, a message formatted from format and
// args (it may be empty), and the cause err. An empty code asks for the
// code of err: that of an *Error in its chain, else the one the API picks
// from the cause itself (an address in use is a conflict, a permission
// denied forbidden, a file that does not exist not found...).
func Wrap(code string, err error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

// ErrorCode returns the code of the first *Error in err's chain that has
// one, EINTERNAL for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if e := Coded(err); e != nil {
		return e.Code
	}
	if err == nil {
		return ""
	}
	return EINTERNAL
}

// Coded returns the first *Error in err's chain that has a code, passing
// over those that defer to their cause, or nil when there is none.
func Coded(err error) *Error {
	var e *Error
	for errors.As(err, &e) {
		if e.Code != "" {
			return e
		}
		err = e.Err
	}
	return nil
}

// ErrorMessage returns the user-facing message of err: the text of its
// first *Error (message and cause) when one in the chain has a code, or a
// generic text for internal errors, whose details belong in the log.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) && Coded(err) != nil {
		return e.Error()
	}
	return "internal error"
}

// actorKey keys the caller of an action in a context.
type actorKey struct{}

// WithActor returns ctx naming who asks for what is done under it
// ("uid:1000:alice", "tcp:10.0.0.5"), for the reasons the supervisor gives.
func WithActor(ctx context.Context, who string) context.Context {
	return context.WithValue(ctx, actorKey{}, who)
}

// Actor returns who WithActor named in ctx, or "".
func Actor(ctx context.Context) string {
	who, _ := ctx.Value(actorKey{}).(string)
	return who
}
