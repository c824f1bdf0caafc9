//go:build unix

package supervise

import (
	"bufio"
	"os"
	"os/user"
	"strings"
)

// isBaseVar reports whether the variable name of steward's environment is
// one every child gets: its base environment. The README lists them.
func isBaseVar(name string) bool {
	switch name {
	case "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TERM":
		return true
	}
	return strings.HasPrefix(name, "LC_")
}

// userEnv returns HOME, USER, LOGNAME and SHELL of the user name (a name
// or a numeric id), for a service with user: set; nil when there is no
// such user, which the start then reports.
func userEnv(name string) []string {
	u, err := user.Lookup(name)
	if err != nil {
		if u, err = user.LookupId(name); err != nil {
			return nil
		}
	}
	return []string{"HOME=" + u.HomeDir, "USER=" + u.Username, "LOGNAME=" + u.Username, "SHELL=" + loginShell(u.Username)}
}

// loginShell returns the shell /etc/passwd gives the user name, /bin/sh
// when it gives none.
func loginShell(name string) string {
	f, err := os.Open("/etc/passwd")
	if err != nil {
		return "/bin/sh"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) == 7 && fields[0] == name && fields[6] != "" {
			return fields[6]
		}
	}
	return "/bin/sh"
}
