package config

import (
	"os"
	"path/filepath"
	"runtime"
)

// DefaultFile returns the config file steward reads when neither -c nor
// $STEWARD_CONFIG names one: /etc/steward/steward.yaml on linux (and the
// other Unix systems), /usr/local/etc/steward/steward.yaml on darwin and
// %ProgramData%\steward\steward.yaml on windows.
func DefaultFile() string {
	switch runtime.GOOS {
	case "windows":
		dir := os.Getenv("ProgramData")
		if dir == "" {
			dir = `C:\ProgramData`
		}
		return filepath.Join(dir, "steward", "steward.yaml")
	case "darwin":
		return "/usr/local/etc/steward/steward.yaml"
	}
	return "/etc/steward/steward.yaml"
}
