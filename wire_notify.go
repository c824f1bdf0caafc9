package steward

import (
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The states of a notification in the outbox.
const (
	NotificationPending   = "pending"   // waiting for its next attempt
	NotificationDelivered = "delivered" // a notifier accepted it
	NotificationFailed    = "failed"    // given up on; can be retried by hand
)

// NotificationQuery selects notifications: the query of GET
// /v1/notifications.
type NotificationQuery struct {
	States   []string // none means every state
	Notifier string   // "" means every notifier
	Limit    int      // at most; 0 for the server's default
}

// Values returns q as URL query parameters.
func (q NotificationQuery) Values() url.Values {
	v := url.Values{}
	if len(q.States) > 0 {
		v.Set("state", strings.Join(q.States, ","))
	}
	if q.Notifier != "" {
		v.Set("notifier", q.Notifier)
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	return v
}

// Notification is one notification in the outbox: a message for one
// notifier, with its delivery state.
type Notification struct {
	ID          int64               `json:"id"`
	Key         string              `json:"key"` // the idempotency key, also Message.Key
	Notifier    string              `json:"notifier"`
	State       string              `json:"state"` // NotificationPending, …Delivered or …Failed
	Created     time.Time           `json:"created"`
	Since       time.Time           `json:"since"` // start of the current run of attempts
	Attempts    int                 `json:"attempts"`
	NextAttempt time.Time           `json:"next_attempt,omitzero"` // while pending
	LastAttempt time.Time           `json:"last_attempt,omitzero"`
	LastError   string              `json:"last_error,omitempty"` // or why it was given up
	Done        time.Time           `json:"done,omitzero"`        // when delivered or given up
	Message     NotificationMessage `json:"message"`
}

// NotificationMessage is what a notification sends: one or more alerts of
// one route, or the file of a report job, with the title and text a
// notifier renders for humans.
type NotificationMessage struct {
	Key      string              `json:"key"`
	Status   string              `json:"status"`   // firing when any alert is firing, else resolved
	Severity string              `json:"severity"` // the highest of the alerts'
	Route    string              `json:"route,omitempty"`
	Node     string              `json:"node,omitempty"`
	Time     time.Time           `json:"time"`
	Repeat   bool                `json:"repeat,omitempty"`
	Alerts   []NotificationAlert `json:"alerts"`
	Title    string              `json:"title"` // one line, like "[FIRING] critical: disk on /var"
	Text     string              `json:"text"`  // one paragraph per alert
	// Report is the file of a report job's message, which has no alerts;
	// a JSON webhook carries the same fields.
	Report *NotificationReport `json:"report,omitempty"`
}

// NotificationReport is the file a report job wrote, as its notification
// carries it.
type NotificationReport struct {
	Job         string    `json:"job"`
	Path        string    `json:"path"`
	Name        string    `json:"name"` // the file name an email attachment takes
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	Since       time.Time `json:"since"`
	Until       time.Time `json:"until"`
	// URL fetches the same report from the dashboard; "" when no
	// dashboard is configured.
	URL string `json:"url,omitempty"`
}

// NotificationAlert is one alert as a notification reports it.
type NotificationAlert struct {
	ID       string            `json:"id,omitempty"`
	Status   string            `json:"status"` // firing or resolved
	Severity string            `json:"severity"`
	Rule     string            `json:"rule"`
	Subject  string            `json:"subject"`
	Service  string            `json:"service,omitempty"`
	Labels   map[string]string `json:"labels,omitempty"`
	Summary  string            `json:"summary"`
	Started  time.Time         `json:"started"`
	Ended    time.Time         `json:"ended,omitzero"`
}

// OSService is one service of the OS service manager (systemd, the
// Windows SCM, launchd): an element of GET /v1/os-services.
type OSService struct {
	// Name is the manager's name of the service: the unit name with its
	// suffix (sshd.service), the Windows service name, the launchd label.
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// State is running, stopped, starting, stopping, failed, paused or
	// unknown, the same words on every OS.
	State string `json:"state"`
	// Detail is the manager's own word for the state.
	Detail string `json:"detail,omitempty"`
	PID    int    `json:"pid,omitempty"`
	// Startup says when the service starts (enabled, disabled, automatic,
	// manual…); empty when the manager does not say.
	Startup string `json:"startup,omitempty"`
}
