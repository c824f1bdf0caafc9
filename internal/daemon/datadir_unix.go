//go:build !windows

package daemon

import "os"

// makeDataDir creates the data dir, readable by steward's user and group only.
func makeDataDir(dir string) error {
	return os.MkdirAll(dir, 0o750)
}
