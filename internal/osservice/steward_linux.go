package osservice

import (
	"errors"
	"fmt"
	"os"

	"github.com/kardianos/service"
)

// systemdPlatform is kardianos/service's name for systemd.
const systemdPlatform = "linux-systemd"

// supported accepts systemd only: steward's unit reports readiness to it
// and relies on its cgroups to clean up.
func supported(sys service.System) error {
	if sys != nil && sys.String() == systemdPlatform {
		return nil
	}
	found := "none found"
	if sys != nil {
		found = "found " + sys.String()
	}
	return fmt.Errorf("steward service needs systemd, which is not running on this machine (%s); start \"steward run\" from your init system instead: %w",
		found, errors.ErrUnsupported)
}

// platformOptions hands kardianos/service steward's own unit file.
func platformOptions(spec Spec) (service.KeyValue, error) {
	unit, err := SystemdUnit(spec)
	if err != nil {
		return nil, err
	}
	return service.KeyValue{"SystemdScript": unit}, nil
}

// privileged fails unless steward runs as root: systemd's unit directory
// and its system manager are root's.
func privileged(op string) error {
	if os.Geteuid() != 0 {
		return errNotPrivileged(op, "run it as root, e.g. with sudo")
	}
	return nil
}

// platformAfterInstall has nothing to add on linux.
func platformAfterInstall(Spec) error { return nil }
