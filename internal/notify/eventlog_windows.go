package notify

import (
	"cmp"
	"context"
	"fmt"

	"golang.org/x/sys/windows/svc/eventlog"
)

// eventLogSupported is whether this OS has the Windows Event Log.
const eventLogSupported = true

// EventLog writes each message as one record in the Windows Application
// event log: an error for critical, a warning for warning, information for
// the rest and for resolved messages. It is safe for concurrent use.
type EventLog struct {
	source string
	id     uint32
}

var _ Notifier = (*EventLog)(nil)

// NewEventLog validates c and returns the notifier. It does not open the
// log.
func NewEventLog(c EventLogConfig) (*EventLog, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	id := c.EventID
	if id == 0 {
		id = 1
	}
	return &EventLog{source: cmp.Or(c.Source, DefaultEventSource), id: id}, nil
}

// Notify writes m to the event log.
func (e *EventLog) Notify(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l, err := eventlog.Open(e.source)
	if err != nil {
		return fmt.Errorf("eventlog: open %s: %w", e.source, err)
	}
	defer l.Close()
	text := eventText(m)
	switch {
	case m.Status == StatusResolved:
		err = l.Info(e.id, text)
	case m.Severity == SeverityCritical:
		err = l.Error(e.id, text)
	case m.Severity == SeverityWarning:
		err = l.Warning(e.id, text)
	default:
		err = l.Info(e.id, text)
	}
	if err != nil {
		return fmt.Errorf("eventlog: write: %w", err)
	}
	return nil
}

// InstallEventSource registers source in the Application log so that its
// records display without a "description not found" note. It needs
// administrator rights; steward's service install calls it.
func InstallEventSource(source string) error {
	err := eventlog.InstallAsEventCreate(cmp.Or(source, DefaultEventSource),
		eventlog.Error|eventlog.Warning|eventlog.Info)
	if err != nil {
		return fmt.Errorf("install event source: %w", err)
	}
	return nil
}

// RemoveEventSource undoes InstallEventSource.
func RemoveEventSource(source string) error {
	if err := eventlog.Remove(cmp.Or(source, DefaultEventSource)); err != nil {
		return fmt.Errorf("remove event source: %w", err)
	}
	return nil
}
