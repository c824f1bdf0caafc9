//go:build !linux && !windows && !darwin

package osservice

import "github.com/kardianos/service"

// supported refuses: steward installs itself with systemd, launchd and the
// Windows Service Control Manager only.
func supported(service.System) error {
	return errUnsupported("steward service (systemd, launchd or the Windows Service Control Manager)")
}

func platformOptions(Spec) (service.KeyValue, error) { return nil, nil }

func privileged(string) error { return nil }

func platformAfterInstall(Spec) error { return nil }
