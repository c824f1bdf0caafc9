//go:build !linux

package metrics

import (
	"context"
	"fmt"

	"github.com/shirou/gopsutil/v4/process"
)

// scanProcs reads the process table through gopsutil, but the processes
// skip returns true for.
func scanProcs(skip func(pid int) bool) ([]procStat, error) {
	ctx := context.Background()
	ps, err := process.ProcessesWithContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("scan processes: %w", err)
	}
	out := make([]procStat, 0, len(ps))
	for _, p := range ps {
		if skip(int(p.Pid)) {
			continue
		}
		ppid, err := p.PpidWithContext(ctx)
		if err != nil {
			continue
		}
		st := procStat{key: procKey{pid: int(p.Pid)}, ppid: int(ppid)}
		if ct, err := p.CreateTimeWithContext(ctx); err == nil {
			st.key.start = uint64(ct)
		}
		if t, err := p.TimesWithContext(ctx); err == nil {
			st.cpu = t.User + t.System
		}
		if m, err := p.MemoryInfoWithContext(ctx); err == nil {
			st.rss = m.RSS
		}
		if n, err := p.NumThreadsWithContext(ctx); err == nil {
			st.threads = int(n)
		}
		out = append(out, st)
	}
	return out, nil
}

// openFiles counts the open files (handles on Windows) of pid; 0 when
// they cannot be read.
func openFiles(pid int) int {
	p, err := process.NewProcess(int32(pid))
	if err != nil {
		return 0
	}
	n, err := p.NumFDs()
	if err != nil {
		return 0
	}
	return int(n)
}
