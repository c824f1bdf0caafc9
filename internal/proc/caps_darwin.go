package proc

// Capabilities says what process control has on macOS: process groups and
// the STEWARD_TAG marker; no pidfd, no child subreaper, no cgroups.
func Capabilities() []Capability {
	return []Capability{
		{Name: "process groups", Available: true},
		{Name: "pidfd", Detail: "macOS has none: a reused pid is told apart by its start time"},
		{Name: "subreaper", Detail: "macOS has none: orphans go to launchd"},
		{Name: "parent-death signal", Detail: "macOS has none"},
		{Name: "tree mechanism", Available: false, Detail: TreeMechanism()},
		{Name: "job objects", Detail: "Windows only"},
		{Name: "kernel limits", Detail: "macOS has no cgroups, and rlimits bound one process, not a tree: limits are sampled"},
	}
}
