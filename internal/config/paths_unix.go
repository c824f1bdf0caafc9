//go:build unix

package config

import (
	"fmt"
	"path/filepath"
)

// defaultSocket is the API socket used when api.socket is not set.
func defaultSocket(dataDir string) string {
	return filepath.Join(dataDir, "steward.sock")
}

// socketPath checks the API socket s, resolving a relative path from dir.
func socketPath(dir, s string) (string, error) {
	s = absPath(dir, s)
	if len(s) > maxSocketPath {
		return "", fmt.Errorf("socket path %q is %d bytes long, more than the %d this OS allows", s, len(s), maxSocketPath)
	}
	return s, nil
}
