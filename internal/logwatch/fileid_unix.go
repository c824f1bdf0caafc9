//go:build !windows

package logwatch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// openFile opens path for reading.
func openFile(path string) (*os.File, error) { return os.Open(path) }

// identity returns the identity of the file fi describes: its device and
// inode.
func identity(fi fs.FileInfo, _ *os.File) (string, error) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "", errors.New("no device and inode")
	}
	return fmt.Sprintf("%d:%d", st.Dev, st.Ino), nil
}

// pathIdentity returns the identity of the file at path, and its info.
func pathIdentity(path string) (string, fs.FileInfo, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", nil, err
	}
	id, err := identity(fi, nil)
	return id, fi, err
}
