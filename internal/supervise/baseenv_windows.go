package supervise

import "strings"

// isBaseVar reports whether the variable name of steward's environment is
// one every child gets: its base environment. The README lists them.
// Windows compares names without regard to case.
func isBaseVar(name string) bool {
	switch strings.ToUpper(name) {
	case "PATH", "PATHEXT", "SYSTEMROOT", "SYSTEMDRIVE", "WINDIR", "COMSPEC", "TEMP", "TMP",
		"USERNAME", "USERDOMAIN", "USERPROFILE", "HOMEDRIVE", "HOMEPATH", "APPDATA", "LOCALAPPDATA",
		"PROGRAMDATA", "PROGRAMFILES", "PROGRAMFILES(X86)", "PROGRAMW6432",
		"COMMONPROGRAMFILES", "COMMONPROGRAMFILES(X86)", "COMMONPROGRAMW6432",
		"ALLUSERSPROFILE", "PUBLIC", "COMPUTERNAME", "OS", "PROCESSOR_ARCHITECTURE",
		"NUMBER_OF_PROCESSORS", "LANG", "TZ":
		return true
	}
	return false
}

// userEnv is nil on Windows, where user: is not supported.
func userEnv(string) []string { return nil }
