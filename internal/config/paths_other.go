//go:build unix && !linux && !darwin

package config

// defaultDataDir is the data directory used when data_dir is not set.
func defaultDataDir() string { return "/var/lib/steward" }

// maxSocketPath is the longest Unix socket path on the BSDs: sun_path less
// its NUL.
const maxSocketPath = 103
