package proc

import "strconv"

// OOMWatch tells whether a tree ran out of memory: on Windows, whether its
// Job Object's memory limit was reached. Windows kills nothing there: it
// fails the allocations past the limit, which most programs die of.
type OOMWatch struct {
	tree *Process
}

// WatchOOM watches the tree's Job Object.
func (p *Process) WatchOOM() OOMWatch { return OOMWatch{tree: p} }

// WatchOOM cannot watch a process by its pid alone on Windows.
func WatchOOM(pid int) OOMWatch { return OOMWatch{} }

// Check says whether the tree's job reached its memory limit (within 1 MiB:
// the allocation that failed may have been smaller), whether or not the
// process was killed: on Windows a process ends itself on a failed
// allocation.
func (w OOMWatch) Check(killed bool) OOMVerdict {
	if w.tree == nil {
		return OOMVerdict{"unknown", "no job object to read"}
	}
	w.tree.mu.Lock()
	peak, limit := w.tree.memPeak, w.tree.memLimit
	w.tree.mu.Unlock()
	if limit == 0 {
		if !killed {
			return OOMVerdict{"no", "not killed"}
		}
		return OOMVerdict{"unknown", "no memory limit on its job object, and Windows has no OOM killer"}
	}
	if peak+1<<20 >= limit {
		return OOMVerdict{"yes", "its job object's memory reached the memory limit of " + strconv.FormatUint(limit, 10) +
			" bytes (peak " + strconv.FormatUint(peak, 10) + "): Windows fails the allocations past it"}
	}
	return OOMVerdict{"no", "its job object's memory peaked at " + strconv.FormatUint(peak, 10) + " bytes, below its limit"}
}
