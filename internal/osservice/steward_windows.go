package osservice

import (
	"errors"
	"fmt"
	"time"

	"github.com/kardianos/service"
	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc/mgr"
)

// supported accepts the Service Control Manager, always there.
func supported(service.System) error { return nil }

// platformOptions makes steward start at boot. The recovery actions are
// set by platformAfterInstall.
func platformOptions(Spec) (service.KeyValue, error) {
	return service.KeyValue{"StartType": "automatic"}, nil
}

// privileged fails unless steward runs elevated: the Service Control
// Manager lets only administrators create, start and stop services.
func privileged(op string) error {
	if !windows.GetCurrentProcessToken().IsElevated() {
		return errNotPrivileged(op, "run it from an elevated prompt (Run as administrator)")
	}
	return nil
}

// recoveryActions are what the Service Control Manager does when steward
// dies or stops with a failure: restart it after 2 s, again after 5 s,
// then after 30 s for every further failure within a day.
var recoveryActions = []mgr.RecoveryAction{
	{Type: mgr.ServiceRestart, Delay: 2 * time.Second},
	{Type: mgr.ServiceRestart, Delay: 5 * time.Second},
	{Type: mgr.ServiceRestart, Delay: 30 * time.Second},
}

// recoveryReset is how long steward must run without failing for the
// count of failures to start again from the first action, in seconds.
const recoveryReset = 24 * 60 * 60

// platformAfterInstall sets the recovery actions, and has them apply also
// when steward stops itself with a failure exit code, not only when it
// crashes.
func platformAfterInstall(spec Spec) error {
	m, err := mgr.Connect()
	if err != nil {
		return fmt.Errorf("connect to the service control manager: %w", err)
	}
	defer m.Disconnect()
	s, err := m.OpenService(spec.Name)
	if err != nil {
		return fmt.Errorf("open service: %w", err)
	}
	defer s.Close()
	if err := s.SetRecoveryActions(recoveryActions, recoveryReset); err != nil && !unsupportedLevel(err) {
		return fmt.Errorf("set recovery actions: %w", err)
	}
	if err := s.SetRecoveryActionsOnNonCrashFailures(true); err != nil && !unsupportedLevel(err) {
		return fmt.Errorf("set recovery actions on failure exit codes: %w", err)
	}
	return nil
}

// unsupportedLevel reports whether err says that the Service Control
// Manager does not know a kind of configuration: never on Windows since
// Vista, but Wine lacks some.
func unsupportedLevel(err error) bool {
	return errors.Is(err, windows.ERROR_INVALID_LEVEL) || errors.Is(err, windows.ERROR_CALL_NOT_IMPLEMENTED)
}
