//go:build !unix && !windows

package lockfile

import (
	"errors"
	"fmt"
	"os"
	"runtime"
)

// lock fails: this OS has no file lock steward knows of.
func lock(f *os.File) (held bool, err error) {
	return false, fmt.Errorf("lock a file: not supported on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}
