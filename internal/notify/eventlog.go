package notify

import (
	"strings"
)

// DefaultEventSource is the Event Log source an EventLog writes as when its
// Source is empty.
const DefaultEventSource = "steward"

// EventLogConfig configures an EventLog notifier (Windows only).
type EventLogConfig struct {
	// Source is the event source name; default DefaultEventSource. Register
	// it once, as administrator, with InstallEventSource (steward's service
	// install does); an unregistered source still logs, with a note from
	// the Event Viewer that the description is missing.
	Source string `json:"source,omitempty"`
	// EventID is the event ID of every record; default 1.
	EventID uint32 `json:"event_id,omitempty"`
}

// Validate reports every problem with c.
func (c EventLogConfig) Validate() error {
	var p Problems
	if !eventLogSupported {
		p.Add("", "the Windows Event Log is only available on Windows: use syslog")
	}
	if strings.ContainsAny(c.Source, `\/`) || len(c.Source) > 200 {
		p.Add("source", "invalid event source name")
	}
	if c.EventID > 0xFFFF {
		p.Add("event_id", "must be at most 65535")
	}
	return p.Err()
}

// eventText returns the record text for m: its title, then its text.
func eventText(m Message) string {
	return m.Title() + "\r\n\r\n" + strings.ReplaceAll(m.Text(), "\n", "\r\n") + "\r\nkey: " + m.Key
}
