//go:build unix

package preflight

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"strconv"
)

// executable returns why the file at path is not an executable program.
func executable(path string) error {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s does not exist", path)
	case err != nil:
		return err
	case fi.IsDir():
		return fmt.Errorf("%s is a directory", path)
	case fi.Mode()&0o111 == 0:
		return fmt.Errorf("%s is not executable", path)
	}
	return nil
}

// checkAccount returns the problems with user and group (names or numeric
// ids; a numeric one needs no entry, as steward runs the child with it).
func checkAccount(userName, groupName string) []account {
	var out []account
	if userName != "" && !numeric(userName) {
		if _, err := user.Lookup(userName); err != nil {
			out = append(out, account{"user", fmt.Sprintf("user %q does not exist", userName)})
		}
	}
	if groupName != "" && !numeric(groupName) {
		if _, err := user.LookupGroup(groupName); err != nil {
			out = append(out, account{"group", fmt.Sprintf("group %q does not exist", groupName)})
		}
	}
	return out
}

func numeric(s string) bool {
	_, err := strconv.ParseUint(s, 10, 32)
	return err == nil
}
