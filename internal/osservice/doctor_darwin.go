package osservice

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// checkInstall checks steward's launchd job in root's /Library/LaunchDaemons.
func checkInstall(spec Spec, root string) []Finding {
	path := filepath.Join(root, "Library", "LaunchDaemons", spec.Name+".plist")
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return []Finding{failFinding(install(spec), "no launchd job %s: steward is not installed as a service", path)}
	case err != nil:
		return []Finding{failFinding("run steward doctor as root", "launchd job %s: %v", path, err)}
	}
	return checkLaunchdPlist(path, data, spec)
}
