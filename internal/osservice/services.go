package osservice

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/stewardhq/steward"
)

// Service is a service of the OS service manager: a systemd unit, a
// Windows service or a launchd job.
type Service struct {
	// Name is the manager's name of the service: the unit name with its
	// suffix (sshd.service), the Windows service name, the launchd label.
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// State is one of the States.
	State string `json:"state"`
	// Detail is the manager's own word for the state: systemd's active and
	// sub state ("active/running"), the Windows state ("start_pending"),
	// or launchd's last exit status.
	Detail string `json:"detail,omitempty"`
	PID    int    `json:"pid,omitempty"`
	// Startup says when the service starts: systemd's unit file state
	// (enabled, disabled, static…), the Windows start type (automatic,
	// manual, disabled). Empty when the manager does not say.
	Startup string `json:"startup,omitempty"`
}

// The states of a Service, the same words on every OS.
const (
	StateRunning  = "running"
	StateStopped  = "stopped"
	StateStarting = "starting"
	StateStopping = "stopping"
	StateFailed   = "failed"
	StatePaused   = "paused"
	StateUnknown  = "unknown"
)

// actionTimeout bounds how long Start, Stop and Restart wait for the
// manager to finish when the caller's context has no deadline.
const actionTimeout = 2 * time.Minute

// withTimeout returns ctx with actionTimeout when it has no deadline.
func withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, actionTimeout)
}

// Manager lists and controls the services of the OS service manager:
// systemd over D-Bus on Linux, the Service Control Manager on Windows,
// launchctl on macOS. Its methods are safe for concurrent use; Close it
// when done.
type Manager struct {
	m manager
}

// manager is what each OS implements.
type manager interface {
	list(ctx context.Context) ([]Service, error)
	get(ctx context.Context, name string) (Service, error)
	start(ctx context.Context, name string) error
	stop(ctx context.Context, name string) error
	restart(ctx context.Context, name string) error
	close() error
}

// Connect connects to the OS service manager. It fails with an
// EUNAVAILABLE *steward.Error when the manager is not there, such as a
// Linux without systemd, and with an error wrapping errors.ErrUnsupported
// on an OS steward does not manage services of.
func Connect(ctx context.Context) (*Manager, error) {
	m, err := connect(ctx)
	if err != nil {
		return nil, err
	}
	return &Manager{m: m}, nil
}

// List returns the services the manager knows, sorted by name.
func (m *Manager) List(ctx context.Context) ([]Service, error) {
	list, err := m.m.list(ctx)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(list, func(a, b Service) int { return strings.Compare(a.Name, b.Name) })
	return list, nil
}

// Get returns the service name; an ENOTFOUND *steward.Error when there is
// none.
func (m *Manager) Get(ctx context.Context, name string) (Service, error) {
	if err := checkName(name); err != nil {
		return Service{}, err
	}
	return m.m.get(ctx, name)
}

// Start starts the service name and waits until the manager has started
// it, for at most two minutes unless ctx says otherwise. Starting a
// running service does nothing.
func (m *Manager) Start(ctx context.Context, name string) error {
	return m.act(ctx, name, m.m.start)
}

// Stop stops the service name and waits until the manager has stopped it.
// Stopping a stopped service does nothing.
func (m *Manager) Stop(ctx context.Context, name string) error {
	return m.act(ctx, name, m.m.stop)
}

// Restart stops the service name when it runs, then starts it.
func (m *Manager) Restart(ctx context.Context, name string) error {
	return m.act(ctx, name, m.m.restart)
}

func (m *Manager) act(ctx context.Context, name string, f func(context.Context, string) error) error {
	if err := checkName(name); err != nil {
		return err
	}
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	return f(ctx, name)
}

// Close ends the connection to the manager.
func (m *Manager) Close() error { return m.m.close() }

// checkName refuses an empty name and names with characters no manager
// allows: control characters and slashes.
func checkName(name string) error {
	if name == "" || strings.Contains(name, "/") || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return steward.Errorf(steward.EINVALID, "invalid OS service name %q", name)
	}
	return nil
}
