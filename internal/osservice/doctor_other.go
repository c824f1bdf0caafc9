//go:build !linux && !windows && !darwin

package osservice

// checkInstall has no service manager to check.
func checkInstall(Spec, string) []Finding {
	return []Finding{failFinding("start steward run from your init system", "steward installs itself as a service only with systemd, launchd and the Windows Service Control Manager")}
}
