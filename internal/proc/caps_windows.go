package proc

// Capabilities says what process control has on Windows: Job Objects hold
// each tree; there are no POSIX process groups, pidfds or subreapers.
func Capabilities() []Capability {
	return []Capability{
		{Name: "process groups", Detail: "Windows has none; job objects hold the tree"},
		{Name: "pidfd", Detail: "Windows has none; process handles instead"},
		{Name: "subreaper", Detail: "Windows has none"},
		{Name: "parent-death signal", Detail: "Windows has none; the job object is killed on close"},
		{Name: "tree mechanism", Available: true, Detail: TreeMechanism()},
		{Name: "job objects", Available: true},
		{Name: "kernel limits", Available: true, Detail: "job object: job memory, CPU rate, active processes"},
	}
}
