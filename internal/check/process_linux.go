package check

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// countProcesses counts the processes named name: by the base name of
// argv[0], or their command name (/proc/PID/comm, which the kernel cuts to
// 15 bytes); a name with a '/' must equal argv[0] or the executable's path.
func countProcesses(ctx context.Context, name string) (int, error) {
	d, err := os.Open("/proc")
	if err != nil {
		return 0, fmt.Errorf("list processes: %w", err)
	}
	defer d.Close()
	ents, err := d.Readdirnames(-1)
	if err != nil {
		return 0, fmt.Errorf("list processes: %w", err)
	}
	self := strconv.Itoa(os.Getpid())
	n := 0
	for _, e := range ents {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		if _, err := strconv.Atoi(e); err != nil || e == self {
			continue
		}
		if matchProc("/proc/"+e, name) {
			n++
		}
	}
	return n, nil
}

func matchProc(dir, name string) bool {
	cmdline, _ := os.ReadFile(dir + "/cmdline")
	argv0, _, _ := bytes.Cut(cmdline, []byte{0})
	if strings.ContainsRune(name, '/') {
		if string(argv0) == name {
			return true
		}
		exe, err := os.Readlink(dir + "/exe")
		return err == nil && exe == name
	}
	if len(argv0) > 0 && filepath.Base(string(argv0)) == name {
		return true
	}
	comm, err := os.ReadFile(dir + "/comm")
	if err != nil {
		return false
	}
	// A kernel thread has no argv; its comm is its name.
	return strings.TrimSuffix(string(comm), "\n") == name
}
