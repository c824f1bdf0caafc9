package osservice

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/coreos/go-systemd/v22/dbus"
	godbus "github.com/godbus/dbus/v5"

	"github.com/stewardhq/steward"
)

// systemdBooted exists when systemd is the running init system
// (sd_booted(3)).
const systemdBooted = "/run/systemd/system"

// systemdConn is the part of go-systemd's D-Bus connection steward uses.
type systemdConn interface {
	ListUnitsByPatternsContext(ctx context.Context, states, patterns []string) ([]dbus.UnitStatus, error)
	GetUnitPropertiesContext(ctx context.Context, unit string) (map[string]any, error)
	GetUnitTypePropertiesContext(ctx context.Context, unit, unitType string) (map[string]any, error)
	StartUnitContext(ctx context.Context, name, mode string, ch chan<- string) (int, error)
	StopUnitContext(ctx context.Context, name, mode string, ch chan<- string) (int, error)
	RestartUnitContext(ctx context.Context, name, mode string, ch chan<- string) (int, error)
	Close()
}

var _ systemdConn = (*dbus.Conn)(nil)

func connect(ctx context.Context) (manager, error) {
	return connectSystemd(ctx, systemdBooted, func(ctx context.Context) (systemdConn, error) {
		return dbus.NewWithContext(ctx)
	})
}

// connectSystemd connects with dial once booted shows that systemd runs.
func connectSystemd(ctx context.Context, booted string, dial func(context.Context) (systemdConn, error)) (*systemd, error) {
	if _, err := os.Stat(booted); err != nil {
		return nil, steward.Errorf(steward.EUNAVAILABLE,
			"systemd is not running on this machine (no %s): steward manages OS services through systemd on linux", booted)
	}
	c, err := dial(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect to systemd over D-Bus: %w", err)
	}
	return &systemd{c: c}, nil
}

// systemd manages systemd units over D-Bus.
type systemd struct {
	c systemdConn
}

// unitName adds ".service" to a name without a unit type suffix, as
// systemctl does.
func unitName(name string) string {
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		switch name[i+1:] {
		case "service", "socket", "target", "timer", "mount", "automount", "swap", "path", "slice", "scope", "device":
			return name
		}
	}
	return name + ".service"
}

func (s *systemd) list(ctx context.Context) ([]Service, error) {
	units, err := s.c.ListUnitsByPatternsContext(ctx, nil, []string{"*.service"})
	if err != nil {
		return nil, fmt.Errorf("list systemd units: %w", systemdError(err, ""))
	}
	list := make([]Service, 0, len(units))
	for _, u := range units {
		if u.LoadState == "not-found" {
			continue
		}
		list = append(list, Service{
			Name:        u.Name,
			Description: u.Description,
			State:       systemdState(u.ActiveState),
			Detail:      u.ActiveState + "/" + u.SubState,
		})
	}
	return list, nil
}

func (s *systemd) get(ctx context.Context, name string) (Service, error) {
	unit := unitName(name)
	props, err := s.c.GetUnitPropertiesContext(ctx, unit)
	if err != nil {
		return Service{}, fmt.Errorf("status of %s: %w", unit, systemdError(err, unit))
	}
	str := func(k string) string { v, _ := props[k].(string); return v }
	if str("LoadState") == "not-found" {
		return Service{}, errNoUnit(unit)
	}
	svc := Service{
		Name:        str("Id"),
		Description: str("Description"),
		State:       systemdState(str("ActiveState")),
		Detail:      str("ActiveState") + "/" + str("SubState"),
		Startup:     str("UnitFileState"),
	}
	if svc.Name == "" {
		svc.Name = unit
	}
	if strings.HasSuffix(unit, ".service") {
		if sp, err := s.c.GetUnitTypePropertiesContext(ctx, unit, "Service"); err == nil {
			if pid, ok := sp["MainPID"].(uint32); ok {
				svc.PID = int(pid)
			}
		}
	}
	return svc, nil
}

func (s *systemd) start(ctx context.Context, name string) error {
	return s.job(ctx, "start", name, s.c.StartUnitContext)
}

func (s *systemd) stop(ctx context.Context, name string) error {
	return s.job(ctx, "stop", name, s.c.StopUnitContext)
}

func (s *systemd) restart(ctx context.Context, name string) error {
	return s.job(ctx, "restart", name, s.c.RestartUnitContext)
}

// job has systemd run a start, stop or restart job for the unit name and
// waits for its result.
func (s *systemd) job(ctx context.Context, verb, name string, enqueue func(context.Context, string, string, chan<- string) (int, error)) error {
	unit := unitName(name)
	if _, err := s.get(ctx, unit); err != nil {
		return fmt.Errorf("%s: %w", verb, err)
	}
	done := make(chan string, 1)
	if _, err := enqueue(ctx, unit, "replace", done); err != nil {
		return fmt.Errorf("%s %s: %w", verb, unit, systemdError(err, unit))
	}
	select {
	case result := <-done:
		if result != "done" {
			return fmt.Errorf("%s %s: systemd's job ended with %q; see journalctl -u %s", verb, unit, result, unit)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s %s: %w", verb, unit, ctx.Err())
	}
}

func (s *systemd) close() error {
	s.c.Close()
	return nil
}

// systemdState turns systemd's active state into a State.
func systemdState(active string) string {
	switch active {
	case "active", "reloading", "refreshing":
		return StateRunning
	case "inactive":
		return StateStopped
	case "activating":
		return StateStarting
	case "deactivating":
		return StateStopping
	case "failed":
		return StateFailed
	}
	return StateUnknown
}

func errNoUnit(unit string) error {
	return steward.Errorf(steward.ENOTFOUND, "no systemd unit %s", unit)
}

// systemdError turns the D-Bus errors a user can act on into
// *steward.Errors: a unit that does not exist, a caller without the right.
func systemdError(err error, unit string) error {
	var de godbus.Error
	if !errors.As(err, &de) {
		return err
	}
	switch de.Name {
	case "org.freedesktop.systemd1.NoSuchUnit", "org.freedesktop.systemd1.LoadFailed":
		return errNoUnit(unit)
	case "org.freedesktop.DBus.Error.AccessDenied", "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired":
		return steward.Errorf(steward.EFORBIDDEN, "systemd refused: %s; run as root", de.Error())
	}
	return err
}
