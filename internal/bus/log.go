package bus

import (
	"fmt"
	"log/slog"
	"sync"

	"github.com/nats-io/nats-server/v2/server"
)

// logger is the NATS server's logger: it writes to slog, and a fatal error
// is logged and kept for Start to report — it never exits the process.
type logger struct {
	log *slog.Logger

	mu    sync.Mutex
	first error // the first fatal error
}

var _ server.Logger = (*logger)(nil)

func newLogger(l *slog.Logger) *logger { return &logger{log: l.With("part", "bus")} }

func (l *logger) Noticef(format string, v ...any) { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l *logger) Warnf(format string, v ...any)   { l.log.Warn(fmt.Sprintf(format, v...)) }
func (l *logger) Errorf(format string, v ...any)  { l.log.Error(fmt.Sprintf(format, v...)) }
func (l *logger) Debugf(format string, v ...any)  { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l *logger) Tracef(format string, v ...any)  { l.log.Debug(fmt.Sprintf(format, v...)) }

// Fatalf logs the error and keeps it; the server goes on or stops by
// itself, and Start reports it.
func (l *logger) Fatalf(format string, v ...any) {
	err := fmt.Errorf(format, v...)
	l.log.Error(err.Error(), "fatal", true)
	l.mu.Lock()
	if l.first == nil {
		l.first = err
	}
	l.mu.Unlock()
}

// fatal returns the first fatal error logged, or nil.
func (l *logger) fatal() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.first
}
