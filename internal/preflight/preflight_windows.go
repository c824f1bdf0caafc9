package preflight

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// executable returns why path names no program: neither it nor it with
// one of PATHEXT's extensions is a file.
func executable(path string) error {
	if fi, err := os.Stat(path); err == nil && !fi.IsDir() && filepath.Ext(path) != "" {
		return nil
	}
	exts := os.Getenv("PATHEXT")
	if exts == "" {
		exts = ".COM;.EXE;.BAT;.CMD"
	}
	for _, ext := range strings.Split(exts, ";") {
		if fi, err := os.Stat(path + ext); ext != "" && err == nil && !fi.IsDir() {
			return nil
		}
	}
	return fmt.Errorf("%s does not exist", path)
}

// checkAccount finds nothing on Windows, where user: and group: are not
// supported: starting such a service fails, saying so.
func checkAccount(_, _ string) []account { return nil }
