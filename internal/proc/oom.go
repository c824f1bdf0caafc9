package proc

// OOMWatch tells whether the kernel's OOM killer ended a process: WatchOOM
// reads the counters while the process runs, Check compares them once it
// has exited.
type OOMWatch struct {
	file    string // the memory cgroup's counter file, "" when none is the process's own
	cgroup  uint64 // its oom_kill count when watching began
	vmstat  uint64 // the machine's oom_kill count (/proc/vmstat) then
	vmstatK bool   // vmstat was readable
}

// OOMVerdict is what Check found: OOM is "yes", "no" or "unknown" (the
// values of steward.Exit.OOM) and Detail says how it knows.
type OOMVerdict struct {
	OOM    string
	Detail string
}
