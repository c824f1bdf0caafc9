package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// pipePrefix starts every local named pipe name.
const pipePrefix = `\\.\pipe\`

// defaultDataDir is the data directory used when data_dir is not set.
func defaultDataDir() string {
	dir := os.Getenv("ProgramData")
	if dir == "" {
		dir = `C:\ProgramData`
	}
	return filepath.Join(dir, "steward")
}

// defaultSocket is the API named pipe used when api.socket is not set.
func defaultSocket(string) string { return pipePrefix + "steward" }

// socketPath checks the API named pipe name s.
func socketPath(_, s string) (string, error) {
	if len(s) <= len(pipePrefix) || !strings.EqualFold(s[:len(pipePrefix)], pipePrefix) {
		return "", fmt.Errorf("%q is not a named pipe, want e.g. %ssteward", s, pipePrefix)
	}
	return s, nil
}
