package proc

import (
	"errors"
	"fmt"
)

// Limits bound what a whole tree may use, enforced by the kernel: a cgroup
// on Linux (memory.max or memory.limit_in_bytes, cpu.max or the CFS quota,
// pids.max), a Job Object on Windows (job memory, CPU rate, active
// processes). Past Memory the kernel's OOM killer ends a process of the
// tree on Linux, and allocations fail on Windows; past CPU the tree is
// throttled; past Tasks a fork fails.
type Limits struct {
	Memory int64   // bytes; 0 = no limit
	CPU    float64 // percent of one core: 150 is one and a half; 0 = no limit
	Tasks  int     // processes (and threads, on Linux); 0 = no limit
}

// limitsUnsupported wraps err, saying which limit cannot be enforced, into
// an error wrapping errors.ErrUnsupported: a start that fails with it is
// not retried.
func limitsUnsupported(what string, err error) error {
	return fmt.Errorf("enforce: kernel: %s: %w (%w)", what, err, errors.ErrUnsupported)
}
