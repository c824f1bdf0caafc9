// Package notify provides steward's notifiers: small types that deliver one
// Message — the alerts grouped into one notification — to a webhook (JSON,
// Slack or Teams payload), by SMTP email, to a program's standard input, to
// syslog on Unix or to the Windows Event Log. Each type owns its schema:
// Types decodes and validates its entries of the notify: section for
// config.Parse, and Build makes the notifiers of a parsed configuration
// without side effects. Secrets in their configuration come from
// ${env:NAME} or ${file:PATH} (ExpandSecrets), resolved by Build, and are
// held in a Secret, which never prints or serializes its value.
//
// A notifier makes one attempt per Notify call; retries, backoff and
// durability belong to the caller (the outbox package). Of the project it
// imports only config; the outbox, the alert engine, cmd/steward and the
// daemon import it.
package notify

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Notifier delivers a notification. Notify makes one attempt and returns
// nil only once the receiver has accepted m. Implementations are safe for
// concurrent use.
type Notifier interface {
	Notify(ctx context.Context, m Message) error
}

// Status says whether an alert, or a message, is about a problem that is
// happening or one that has ended.
type Status string

// The statuses.
const (
	StatusFiring   Status = "firing"
	StatusResolved Status = "resolved"
)

// Severities that steward's own rules use. Other words are allowed and
// rank below these.
const (
	SeverityInfo     = "info"
	SeverityWarning  = "warning"
	SeverityCritical = "critical"
)

// SeverityRank orders severities: 3 for critical, 2 for warning, 1 for
// info and 0 for any other word.
func SeverityRank(s string) int {
	switch s {
	case SeverityCritical:
		return 3
	case SeverityWarning:
		return 2
	case SeverityInfo:
		return 1
	}
	return 0
}

// Alert is one alert as a notification reports it: what the alert engine
// raised or resolved.
type Alert struct {
	// ID identifies the incident across its firing and resolved
	// notifications; "" means Fingerprint derives one.
	ID       string            `json:"id,omitempty"`
	Status   Status            `json:"status"`
	Severity string            `json:"severity"`
	Rule     string            `json:"rule"`              // the rule that raised it, e.g. "cpu" or "applog/0"
	Subject  string            `json:"subject"`           // what it is about, e.g. "disk:/" or a file
	Service  string            `json:"service,omitempty"` // the service concerned, if any
	Labels   map[string]string `json:"labels,omitempty"`
	Summary  string            `json:"summary"` // one line for humans
	Started  time.Time         `json:"started"`
	Ended    time.Time         `json:"ended,omitzero"` // set when resolved
}

// Fingerprint returns a's ID, or when it has none a stable hash of its
// rule, subject, service and labels: the identity of the incident.
func (a Alert) Fingerprint() string {
	if a.ID != "" {
		return a.ID
	}
	h := sha256.New()
	for _, s := range []string{a.Rule, a.Subject, a.Service} {
		fmt.Fprintf(h, "%d:%s", len(s), s)
	}
	for _, k := range slices.Sorted(maps.Keys(a.Labels)) {
		fmt.Fprintf(h, "%d:%s%d:%s", len(k), k, len(a.Labels[k]), a.Labels[k])
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// Message is one notification: one or more alerts of one route, sent
// together.
type Message struct {
	// Key is stable across every attempt to deliver this notification to
	// one notifier, so that a receiver can drop duplicates (webhooks get it
	// as the Idempotency-Key header).
	Key string `json:"key"`
	// Status is firing when any alert is firing, else resolved.
	Status Status `json:"status"`
	// Severity is the highest severity of the alerts.
	Severity string    `json:"severity"`
	Route    string    `json:"route,omitempty"` // the route that sent it
	Node     string    `json:"node,omitempty"`  // the steward node
	Time     time.Time `json:"time"`            // when it was made
	// Repeat is set when the message repeats an earlier one whose alerts
	// are still firing.
	Repeat bool    `json:"repeat,omitempty"`
	Alerts []Alert `json:"alerts"`
	// Report is set on the message of a report job, which has no alerts.
	Report *Report `json:"report,omitempty"`
	// Checkpoint is set on the copy of an audit checkpoint, which has no
	// alerts.
	Checkpoint *Checkpoint `json:"checkpoint,omitempty"`
}

// Summarize sets m's Status and Severity from its alerts, and sorts them:
// firing before resolved, the most severe first, then by rule and subject.
func (m *Message) Summarize() {
	m.Status = StatusResolved
	m.Severity = ""
	for _, a := range m.Alerts {
		if a.Status == StatusFiring {
			m.Status = StatusFiring
		}
		if m.Severity == "" || SeverityRank(a.Severity) > SeverityRank(m.Severity) {
			m.Severity = a.Severity
		}
	}
	slices.SortStableFunc(m.Alerts, func(a, b Alert) int {
		return cmp.Or(
			cmp.Compare(statusRank(a.Status), statusRank(b.Status)),
			cmp.Compare(SeverityRank(b.Severity), SeverityRank(a.Severity)),
			strings.Compare(a.Rule, b.Rule),
			strings.Compare(a.Subject, b.Subject))
	})
}

func statusRank(s Status) int {
	if s == StatusFiring {
		return 0
	}
	return 1
}

// Title returns a one-line subject for m, such as
// "[FIRING] critical: disk on /var (and 2 more)".
func (m Message) Title() string {
	switch {
	case m.Report != nil:
		return m.Report.title(m.Node)
	case m.Checkpoint != nil:
		return m.Checkpoint.title(m.Node)
	}
	var b strings.Builder
	b.WriteString("[")
	b.WriteString(strings.ToUpper(string(m.Status)))
	b.WriteString("]")
	if m.Severity != "" {
		b.WriteString(" ")
		b.WriteString(m.Severity)
	}
	if len(m.Alerts) > 0 {
		b.WriteString(": ")
		b.WriteString(m.Alerts[0].name())
		if n := len(m.Alerts) - 1; n > 0 {
			fmt.Fprintf(&b, " (and %d more)", n)
		}
	}
	if m.Node != "" {
		b.WriteString(" on node ")
		b.WriteString(m.Node)
	}
	return b.String()
}

// Text returns m as plain text for humans: one paragraph per alert.
func (m Message) Text() string {
	var b strings.Builder
	b.WriteString(m.about())
	for i, a := range m.Alerts {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(a.Line())
		b.WriteString("\n")
		fmt.Fprintf(&b, "  started: %s", a.Started.UTC().Format(time.RFC3339))
		if !a.Ended.IsZero() {
			fmt.Fprintf(&b, ", ended: %s", a.Ended.UTC().Format(time.RFC3339))
		}
		b.WriteString("\n")
		if a.Service != "" {
			fmt.Fprintf(&b, "  service: %s\n", a.Service)
		}
		if len(a.Labels) > 0 {
			b.WriteString("  labels:")
			for _, k := range slices.Sorted(maps.Keys(a.Labels)) {
				fmt.Fprintf(&b, " %s=%s", k, a.Labels[k])
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

// about is the text of what m carries besides alerts: a report, a
// checkpoint; "" for neither.
func (m Message) about() string {
	switch {
	case m.Report != nil:
		return m.Report.text()
	case m.Checkpoint != nil:
		return m.Checkpoint.text()
	}
	return ""
}

// Line returns a on one line: "FIRING critical disk on /var: 93% used".
func (a Alert) Line() string {
	s := strings.ToUpper(string(a.Status)) + " "
	if a.Severity != "" {
		s += a.Severity + " "
	}
	s += a.name()
	if a.Summary != "" {
		s += ": " + a.Summary
	}
	return oneLine(s)
}

func (a Alert) name() string {
	switch {
	case a.Subject == "":
		return a.Rule
	case a.Rule == "":
		return a.Subject
	}
	return a.Rule + " on " + a.Subject
}

// oneLine replaces line breaks in s by spaces.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
}

// FieldError is a problem with one field of a configuration. Field is the
// path to it in the YAML spelling, such as "webhook.url" or
// "routes[0].group_wait", relative to the struct whose Validate returned
// it, so that the config package can report the position of that field.
// Validate methods return every problem, joined with errors.Join.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

// FieldErrors returns the problems in err: the FieldErrors it is or
// wraps or joins, and any other error it joins as a FieldError without a
// field.
func FieldErrors(err error) []*FieldError {
	var out []*FieldError
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case nil:
		case *FieldError:
			out = append(out, e)
		case interface{ Unwrap() []error }:
			for _, e := range e.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			var fe *FieldError
			if errors.As(err, &fe) {
				walk(e.Unwrap())
			} else {
				out = append(out, &FieldError{Msg: err.Error()})
			}
		default:
			out = append(out, &FieldError{Msg: err.Error()})
		}
	}
	walk(err)
	return out
}

// Problems collects FieldErrors for a Validate method. Its zero value is
// ready to use.
type Problems struct {
	errs []error
}

// Add records a problem with field.
func (p *Problems) Add(field, format string, args ...any) {
	p.errs = append(p.errs, &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
}

// Nest records the problems of err, a nested struct's Validate result,
// with prefix put before their fields ("webhook" + "url" = "webhook.url";
// "routes[0]" + "to" = "routes[0].to").
func (p *Problems) Nest(prefix string, err error) {
	if err == nil {
		return
	}
	for _, fe := range FieldErrors(err) {
		f := prefix
		switch {
		case fe.Field == "":
		case prefix == "":
			f = fe.Field
		case strings.HasPrefix(fe.Field, "["):
			f = prefix + fe.Field
		default:
			f = prefix + "." + fe.Field
		}
		p.errs = append(p.errs, &FieldError{Field: f, Msg: fe.Msg})
	}
}

// Err returns the problems joined, or nil when there are none.
func (p *Problems) Err() error { return errors.Join(p.errs...) }
