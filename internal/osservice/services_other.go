//go:build !linux && !windows && !darwin

package osservice

import "context"

func connect(context.Context) (manager, error) {
	return nil, errUnsupported("managing OS services (systemd, launchd or the Windows Service Control Manager)")
}
