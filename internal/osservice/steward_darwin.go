package osservice

import (
	"os"

	"github.com/kardianos/service"
)

// supported accepts launchd, the only manager of macOS.
func supported(service.System) error { return nil }

// platformOptions hands kardianos/service steward's own launchd job.
func platformOptions(spec Spec) (service.KeyValue, error) {
	plist, err := LaunchdPlist(spec)
	if err != nil {
		return nil, err
	}
	return service.KeyValue{"LaunchdConfig": plist}, nil
}

// privileged fails unless steward runs as root: /Library/LaunchDaemons
// and the system domain of launchd are root's.
func privileged(op string) error {
	if os.Geteuid() != 0 {
		return errNotPrivileged(op, "run it as root, e.g. with sudo")
	}
	return nil
}

// platformAfterInstall has nothing to add on macOS.
func platformAfterInstall(Spec) error { return nil }
