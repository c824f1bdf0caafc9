// Package osservice connects steward to the operating system's service
// manager, in both directions: it installs and controls steward itself as
// an OS service (the Windows Service Control Manager, systemd, launchd,
// through github.com/kardianos/service), runs steward under that manager
// (RunManaged: readiness, stop requests, the Windows Event Log), and lists
// and controls the other services of the machine (Connect). cmd/steward
// imports it; nothing in steward's core depends on it.
package osservice

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/kardianos/service"

	"github.com/stewardhq/steward"
)

// ManagedFlag names the flag of `steward run` on the command line of the
// installed service (--service-manager): it tells steward that an OS
// service manager started it, and RunManaged should run it.
const ManagedFlag = "service-manager"

// Errors of the operations on steward as an OS service. Each is a
// *steward.Error, so its code and message reach the user; the operations
// wrap them with details.
var (
	ErrExists        = steward.Errorf(steward.ECONFLICT, "steward is already installed as an OS service")
	ErrNotInstalled  = steward.Errorf(steward.ENOTFOUND, "steward is not installed as an OS service")
	ErrNotPrivileged = steward.Errorf(steward.EFORBIDDEN, "not privileged enough")
)

// Spec describes steward as an OS service.
type Spec struct {
	Name        string // the service's name: "steward"
	DisplayName string // the name the Windows service list shows
	Description string
	// Executable is the absolute path of the steward binary.
	Executable string
	// ConfigFile is the absolute path of the config file the service runs
	// with (`steward run -c ConfigFile`).
	ConfigFile string
	// LogFile is where launchd writes steward's output (macOS only; systemd
	// sends it to the journal, and on Windows steward writes its own log).
	LogFile string
	// StopTimeout is how long the manager waits for an orderly stop of
	// steward and its services before it kills steward.
	StopTimeout time.Duration
}

// Args returns the arguments the installed service runs the executable
// with: `run -c CONFIG --service-manager`.
func (s Spec) Args() []string {
	return []string{"run", "-c", s.ConfigFile, "--" + ManagedFlag}
}

// check reports what is wrong with s.
func (s Spec) check() error {
	switch {
	case s.Name == "":
		return errors.New("service spec: no name")
	case !isAbs(s.Executable):
		return fmt.Errorf("service spec: executable %q is not an absolute path", s.Executable)
	case !isAbs(s.ConfigFile):
		return fmt.Errorf("service spec: config file %q is not an absolute path", s.ConfigFile)
	case s.StopTimeout <= 0:
		return fmt.Errorf("service spec: stop timeout %v is not positive", s.StopTimeout)
	}
	return nil
}

// isAbs reports whether path is absolute on Unix or on Windows, so that
// the units of every OS can be rendered and tested anywhere.
func isAbs(path string) bool {
	switch {
	case filepath.IsAbs(path), strings.HasPrefix(path, "/"):
		return true
	}
	return len(path) > 2 && path[1] == ':' && (path[2] == '\\' || path[2] == '/')
}

// Status is the state of steward as an OS service.
type Status string

// The states Steward.Status reports.
const (
	StatusRunning      Status = "running"
	StatusStopped      Status = "stopped"
	StatusNotInstalled Status = "not installed"
)

// Steward is steward installed, or to be installed, as an OS service. The
// operations that change something need the privileges of an administrator
// (root, or an elevated prompt on Windows) and say so when they are
// missing.
type Steward struct {
	spec Spec
	svc  service.Service
	// privileged fails with ErrNotPrivileged when the caller may not
	// change OS services.
	privileged func(op string) error
	// afterInstall finishes an installation where kardianos/service
	// falls short (see platformAfterInstall).
	afterInstall func(spec Spec) error
}

// New returns steward as an OS service of this machine's service manager.
// It fails with an error wrapping errors.ErrUnsupported when this OS, or
// this Linux without systemd, has no manager steward supports.
func New(spec Spec) (*Steward, error) {
	if err := spec.check(); err != nil {
		return nil, err
	}
	if err := supported(service.ChosenSystem()); err != nil {
		return nil, err
	}
	opts, err := platformOptions(spec)
	if err != nil {
		return nil, err
	}
	svc, err := service.New(program{}, &service.Config{
		Name:        spec.Name,
		DisplayName: spec.DisplayName,
		Description: spec.Description,
		Executable:  spec.Executable,
		Arguments:   spec.Args(),
		Option:      opts,
	})
	if err != nil {
		return nil, fmt.Errorf("set up OS service %s: %w", spec.Name, err)
	}
	return &Steward{spec: spec, svc: svc, privileged: privileged, afterInstall: platformAfterInstall}, nil
}

// program is the kardianos/service program. steward never calls its Run:
// RunManaged runs steward under the manager.
type program struct{}

func (program) Start(service.Service) error { return nil }
func (program) Stop(service.Service) error  { return nil }

// Platform names the service manager: "linux-systemd", "windows-service"
// or "darwin-launchd".
func (s *Steward) Platform() string { return s.svc.Platform() }

// Install registers steward with the service manager, to start at boot
// and to be restarted when it dies. It does not start it.
func (s *Steward) Install() error {
	if err := s.privileged("install"); err != nil {
		return err
	}
	switch st, err := s.Status(); {
	case err != nil:
		return fmt.Errorf("install: %w", err)
	case st != StatusNotInstalled:
		return fmt.Errorf("%w (%s, %s); uninstall it first", ErrExists, s.Platform(), st)
	}
	if err := s.svc.Install(); err != nil {
		return fmt.Errorf("install %s service %s: %w", s.Platform(), s.spec.Name, err)
	}
	if err := s.afterInstall(s.spec); err != nil {
		if uerr := s.svc.Uninstall(); uerr != nil {
			return fmt.Errorf("install %s service %s: %w (and removing it again failed: %w)", s.Platform(), s.spec.Name, err, uerr)
		}
		return fmt.Errorf("install %s service %s: %w", s.Platform(), s.spec.Name, err)
	}
	return nil
}

// Uninstall stops steward when it runs and removes it from the service
// manager.
func (s *Steward) Uninstall() error {
	st, err := s.installed("uninstall")
	if err != nil {
		return err
	}
	if st == StatusRunning {
		if err := s.svc.Stop(); err != nil {
			return fmt.Errorf("uninstall: stop %s: %w", s.spec.Name, err)
		}
	}
	if err := s.svc.Uninstall(); err != nil {
		return fmt.Errorf("uninstall %s service %s: %w", s.Platform(), s.spec.Name, err)
	}
	return nil
}

// Start asks the service manager to start steward. It does nothing when
// steward runs.
func (s *Steward) Start() error {
	st, err := s.installed("start")
	if err != nil || st == StatusRunning {
		return err
	}
	if err := s.svc.Start(); err != nil {
		return fmt.Errorf("start %s service %s: %w", s.Platform(), s.spec.Name, err)
	}
	return nil
}

// Stop asks the service manager to stop steward and waits until it has
// stopped (on Windows) or the manager has taken the request. It does
// nothing when steward is stopped.
func (s *Steward) Stop() error {
	st, err := s.installed("stop")
	if err != nil || st == StatusStopped {
		return err
	}
	if err := s.svc.Stop(); err != nil {
		return fmt.Errorf("stop %s service %s: %w", s.Platform(), s.spec.Name, err)
	}
	return nil
}

// Restart stops steward when it runs, then starts it.
func (s *Steward) Restart() error {
	st, err := s.installed("restart")
	if err != nil {
		return err
	}
	if st == StatusStopped {
		err = s.svc.Start()
	} else {
		err = s.svc.Restart()
	}
	if err != nil {
		return fmt.Errorf("restart %s service %s: %w", s.Platform(), s.spec.Name, err)
	}
	return nil
}

// Status reports whether steward is installed and runs. It needs no
// privileges.
func (s *Steward) Status() (Status, error) {
	st, err := s.svc.Status()
	switch {
	case errors.Is(err, service.ErrNotInstalled):
		return StatusNotInstalled, nil
	case err != nil:
		return "", fmt.Errorf("status of %s service %s: %w", s.Platform(), s.spec.Name, err)
	case st == service.StatusRunning:
		return StatusRunning, nil
	case st == service.StatusStopped:
		return StatusStopped, nil
	}
	return "", fmt.Errorf("status of %s service %s: unknown", s.Platform(), s.spec.Name)
}

// installed checks the privileges for op and that steward is installed,
// and returns its status.
func (s *Steward) installed(op string) (Status, error) {
	if err := s.privileged(op); err != nil {
		return "", err
	}
	st, err := s.Status()
	switch {
	case err != nil:
		return "", fmt.Errorf("%s: %w", op, err)
	case st == StatusNotInstalled:
		return "", fmt.Errorf("%s: %w (%s); run steward service install first", op, ErrNotInstalled, s.Platform())
	}
	return st, nil
}

// errNotPrivileged is the error of op when the caller lacks the
// privileges: how says how to get them.
func errNotPrivileged(op, how string) error {
	return fmt.Errorf("steward service %s: %w: %s", op, ErrNotPrivileged, how)
}

// errUnsupported returns an error wrapping errors.ErrUnsupported that says
// what this OS lacks.
func errUnsupported(what string) error {
	return fmt.Errorf("%s: not supported on %s: %w", what, runtime.GOOS, errors.ErrUnsupported)
}
