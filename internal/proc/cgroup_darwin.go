package proc

import (
	"errors"
	"time"
)

// cgroup stands for the cgroup of a tree; macOS has none, and its trees
// are found through their process group, parent links and tag alone. A
// process that clears its environment and leaves its session escapes them.
type cgroup struct{}

func newCgroup(string) *cgroup                                 { return nil }
func (*cgroup) kill(time.Time) (int, error)                    { return 0, nil }
func (*cgroup) remove() error                                  { return nil }
func sweepCgroups(func(string) bool, time.Time) ([]int, error) { return nil, nil }

// TreeMechanism names what KillTree uses on this machine to find every
// process of a tree: on macOS "marker", the process group, parent links
// and the STEWARD_TAG marker.
func TreeMechanism() string { return "marker" }

// limitTree fails: macOS has no cgroups, and its rlimits bound one process
// rather than a tree, and not in the ways Limits mean: RLIMIT_AS is
// accepted but not enforced, RLIMIT_NPROC counts every process of the
// user, RLIMIT_CPU is CPU seconds, not a rate.
func limitTree(*cgroup, Limits) error {
	return limitsUnsupported("limits", errors.New("macOS has no cgroups, and its rlimits bound one process, not a tree; use enforce: sample"))
}
