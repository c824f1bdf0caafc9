package config

// defaultDataDir is the data directory used when data_dir is not set.
func defaultDataDir() string { return "/usr/local/var/steward" }

// maxSocketPath is the longest Unix socket path: sun_path less its NUL.
const maxSocketPath = 103
