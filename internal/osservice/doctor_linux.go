package osservice

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// checkInstall checks steward's systemd unit in root's /etc/systemd/system.
func checkInstall(spec Spec, root string) []Finding {
	dir := filepath.Join(root, "etc", "systemd", "system")
	path := filepath.Join(dir, spec.Name+".service")
	unit, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return []Finding{failFinding(install(spec), "no systemd unit %s: steward is not installed as a service", path)}
	case err != nil:
		return []Finding{failFinding("run steward doctor as root", "systemd unit %s: %v", path, err)}
	}
	// systemctl enable links the unit into the wants of WantedBy.
	_, err = os.Stat(filepath.Join(dir, "multi-user.target.wants", spec.Name+".service"))
	return checkSystemdUnit(path, unit, err == nil, spec)
}
