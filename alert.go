package steward

import "time"

// AlertState is where an alert is in its lifecycle: pending (its condition
// holds, not yet for its rule's `for`), firing, and resolved (its condition
// cleared; final, unless the condition comes back within the flap window).
type AlertState string

// The alert states.
const (
	AlertPending  AlertState = "pending"
	AlertFiring   AlertState = "firing"
	AlertResolved AlertState = "resolved"
)

// Alert severities.
const (
	SeverityInfo     = "info"
	SeverityWarning  = "warning"
	SeverityCritical = "critical"
)

// Alert is one incident: a rule's condition holding for one subject. Rule
// and Subject together identify it; at most one alert per identity is open
// (pending or firing) at a time.
type Alert struct {
	ID       int64      `json:"id"`
	Rule     string     `json:"rule"`    // what is wrong: "cpu", "disk:/", "failed", "check", ...
	Subject  string     `json:"subject"` // what it is about: a service or check name
	Severity string     `json:"severity"`
	State    AlertState `json:"state"`
	Message  string     `json:"message"`
	Started  time.Time  `json:"started"` // when its condition began to hold
	Fired    time.Time  `json:"fired,omitzero"`
	Resolved time.Time  `json:"resolved,omitzero"`
	Updated  time.Time  `json:"updated"` // the last transition
	// Flapping alerts came back soon after they resolved; they resolve
	// only once their condition stayed clear for the whole flap window.
	Flapping  bool `json:"flapping,omitempty"`
	Reminders int  `json:"reminders,omitempty"`
	// AckedBy is who acknowledged the alert, which ends its reminders.
	AckedBy    string    `json:"acked_by,omitempty"`
	AckedAt    time.Time `json:"acked_at,omitzero"`
	AckComment string    `json:"ack_comment,omitempty"`
	// Silenced names the silences that match the alert now.
	Silenced    []int64           `json:"silenced,omitempty"`
	Transitions []AlertTransition `json:"transitions,omitempty"`
}

// Open reports whether the alert is pending or firing.
func (a *Alert) Open() bool { return a.State == AlertPending || a.State == AlertFiring }

// Labels returns what silences and routes match an alert on: rule,
// subject, severity and, for an alert about a service, service.
func (a *Alert) Labels() map[string]string {
	l := map[string]string{"rule": a.Rule, "subject": a.Subject, "severity": a.Severity}
	if s := a.Service(); s != "" {
		l["service"] = s
	}
	return l
}

// Service returns the service the alert is about: its subject, except for
// the alert of a standalone check (rule "check"), which is about none.
func (a *Alert) Service() string {
	if a.Rule == "check" {
		return ""
	}
	return a.Subject
}

// AlertTransition is one change of an alert: a new state, or an
// acknowledgement or reminder (From and To equal).
type AlertTransition struct {
	Time    time.Time  `json:"time"`
	From    AlertState `json:"from,omitempty"`
	To      AlertState `json:"to"`
	Message string     `json:"message"`
}

// Silence mutes the alerts its matchers match until it ends: they are still
// raised and stored but send no notification and no reminder.
type Silence struct {
	ID int64 `json:"id"`
	// Matchers maps an alert label (rule, subject, severity) to a glob
	// pattern (path.Match syntax) its value must match; all must match.
	Matchers map[string]string `json:"matchers"`
	Starts   time.Time         `json:"starts"`
	Ends     time.Time         `json:"ends"`
	By       string            `json:"by"`
	Comment  string            `json:"comment"`
}

// Active reports whether the silence is in force at t.
func (s *Silence) Active(t time.Time) bool { return !t.Before(s.Starts) && t.Before(s.Ends) }
