//go:build !linux && !windows

package proc

// OOMWatch tells whether the kernel's OOM killer ended a process; this OS
// has nothing to watch.
type OOMWatch struct{}

// WatchOOM reads nothing: this OS has no OOM kill counter steward reads.
func WatchOOM(pid int) OOMWatch { return OOMWatch{} }

// Check answers "unknown" outside Linux: a Job Object's memory limit is the
// only OOM verdict Windows gives, and steward sets none; macOS's memory
// pressure kills (jetsam) leave no counter a process can read.
func (w OOMWatch) Check(killed bool) OOMVerdict {
	if !killed {
		return OOMVerdict{"no", "not killed by SIGKILL"}
	}
	return OOMVerdict{"unknown", "this OS has no OOM kill counter steward reads"}
}

// WatchOOM watches nothing: this OS has no OOM kill counter steward reads.
func (p *Process) WatchOOM() OOMWatch { return OOMWatch{} }
