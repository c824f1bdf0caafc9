//go:build !linux

package check

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/shirou/gopsutil/v4/process"
)

// countProcesses counts the processes named name: by the name of their
// executable (with or without .exe on Windows), or, for a name with a path
// separator, by their executable's full path.
func countProcesses(ctx context.Context, name string) (int, error) {
	ps, err := process.ProcessesWithContext(ctx)
	if err != nil {
		return 0, fmt.Errorf("list processes: %w", err)
	}
	n := 0
	for _, p := range ps {
		if int(p.Pid) == os.Getpid() {
			continue
		}
		if strings.ContainsAny(name, `/\`) {
			if exe, err := p.ExeWithContext(ctx); err == nil && exe == name {
				n++
			}
			continue
		}
		pn, err := p.NameWithContext(ctx)
		if err != nil {
			continue
		}
		if strings.EqualFold(pn, name) || strings.EqualFold(strings.TrimSuffix(pn, filepath.Ext(pn)), name) {
			n++
		}
	}
	return n, nil
}
