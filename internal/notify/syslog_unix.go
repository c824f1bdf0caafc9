//go:build !windows && !plan9

package notify

import (
	"cmp"
	"context"
	"fmt"
	"log/syslog"
	"time"
)

// syslogSupported is whether this OS has syslog.
const syslogSupported = true

// Syslog writes each alert of a message as one syslog record, with a
// severity from the alert's: crit for critical, warning, info, and notice
// for resolved ones. It uses log/syslog: frozen, but complete for this —
// it finds the local daemon's socket and speaks the RFC 3164 format every
// syslog daemon and journald accept. It is safe for concurrent use: each
// Notify opens its own connection.
type Syslog struct {
	network, address string
	facility         syslog.Priority
	tag              string
}

var _ Notifier = (*Syslog)(nil)

// NewSyslog validates c and returns the notifier. It does not connect.
func NewSyslog(c SyslogConfig) (*Syslog, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &Syslog{
		network:  c.Network,
		address:  c.Address,
		facility: syslog.Priority(facilities[cmp.Or(c.Facility, "daemon")] << 3),
		tag:      cmp.Or(c.Tag, "steward"),
	}, nil
}

// Notify writes m's alerts to syslog.
func (s *Syslog) Notify(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w, err := syslog.Dial(s.network, s.address, s.facility|syslog.LOG_INFO, s.tag)
	if err != nil {
		return fmt.Errorf("syslog: %w", err)
	}
	defer w.Close()
	for i, line := range syslogLines(m) {
		write := w.Info
		if i < len(m.Alerts) {
			a := m.Alerts[i]
			switch {
			case a.Status == StatusResolved:
				write = w.Notice
			case a.Severity == SeverityCritical:
				write = w.Crit
			case a.Severity == SeverityWarning:
				write = w.Warning
			}
		}
		if err := write(line); err != nil {
			return fmt.Errorf("syslog: %w", err)
		}
	}
	return nil
}

// syslogLines returns m as one line per alert, each with the message key.
func syslogLines(m Message) []string {
	lines := make([]string, 0, len(m.Alerts))
	for _, a := range m.Alerts {
		s := a.Line()
		if a.Service != "" {
			s += fmt.Sprintf(" service=%s", a.Service)
		}
		lines = append(lines, s+" key="+m.Key)
	}
	switch {
	case len(lines) > 0:
	case m.Checkpoint != nil:
		c := m.Checkpoint
		lines = append(lines, fmt.Sprintf("audit checkpoint seq=%d hash=%s time=%s key_id=%s signature=%s public_key=%s key=%s",
			c.Seq, c.Hash, c.Time.UTC().Format(time.RFC3339Nano), c.KeyID, c.Signature, c.PublicKey, m.Key))
	default:
		lines = append(lines, m.Title()+" key="+m.Key)
	}
	return lines
}
