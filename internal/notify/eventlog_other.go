//go:build !windows

package notify

import (
	"context"
	"errors"
	"fmt"
)

// eventLogSupported is whether this OS has the Windows Event Log.
const eventLogSupported = false

// EventLog is only available on Windows; NewEventLog says so elsewhere.
type EventLog struct{}

var _ Notifier = (*EventLog)(nil)

var errNoEventLog = fmt.Errorf("eventlog: the Windows Event Log is only available on Windows: %w", errors.ErrUnsupported)

// NewEventLog returns an error wrapping errors.ErrUnsupported on this OS.
func NewEventLog(c EventLogConfig) (*EventLog, error) { return nil, errNoEventLog }

// Notify fails: see NewEventLog.
func (*EventLog) Notify(context.Context, Message) error { return errNoEventLog }

// InstallEventSource returns an error wrapping errors.ErrUnsupported on
// this OS.
func InstallEventSource(string) error { return errNoEventLog }

// RemoveEventSource returns an error wrapping errors.ErrUnsupported on this
// OS.
func RemoveEventSource(string) error { return errNoEventLog }
