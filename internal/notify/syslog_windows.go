package notify

import (
	"context"
	"errors"
	"fmt"
)

// syslogSupported is whether this OS has syslog.
const syslogSupported = false

// Syslog is not available on Windows; NewSyslog says so.
type Syslog struct{}

var _ Notifier = (*Syslog)(nil)

// NewSyslog returns an error wrapping errors.ErrUnsupported: Windows has no
// syslog; the Event Log notifier takes its place.
func NewSyslog(c SyslogConfig) (*Syslog, error) {
	return nil, fmt.Errorf("syslog: windows has no syslog, use eventlog: %w", errors.ErrUnsupported)
}

// Notify fails: see NewSyslog.
func (*Syslog) Notify(context.Context, Message) error {
	return fmt.Errorf("syslog: windows has no syslog: %w", errors.ErrUnsupported)
}
