package metrics

import "time"

// Usage is the resource use of one process tree.
type Usage struct {
	CPUPercent float64 `json:"cpu_percent"` // 100 is one core
	RSS        uint64  `json:"rss_bytes"`
	Threads    int     `json:"threads"`
	OpenFiles  int     `json:"open_files"`
	Procs      int     `json:"procs"`
	// CPUSeconds is the CPU time the tree's live processes have used.
	CPUSeconds float64 `json:"cpu_seconds"`
}

// Samples returns u as samples for the history of service name: its CPU
// and memory. Threads and open files are only in the service's status (and
// so in GET /metrics), which halves what the history writes.
func (u Usage) Samples(name string, t time.Time) []Sample {
	labels := map[string]string{"service": name}
	return []Sample{
		{Name: ServiceCPU, Labels: labels, Value: u.CPUPercent, Time: t},
		{Name: ServiceRSS, Labels: labels, Value: float64(u.RSS), Time: t},
	}
}

// procKey names one process: a pid with its start time, so that a reused
// pid is another process.
type procKey struct {
	pid   int
	start uint64
}

// procStat is what one scan of the process table reads of a process.
type procStat struct {
	key     procKey
	ppid    int
	cpu     float64 // seconds of CPU used since it started
	rss     uint64
	threads int
}

// TreeSampler samples the process trees of services: each root process and
// its descendants. It keeps the CPU times of its last sample to turn them
// into percentages, so the first sample reports 0 % CPU. It is not safe for
// concurrent use.
type TreeSampler struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	prevTime time.Time
	prevCPU  map[procKey]float64
	n        int             // samples taken
	files    map[procKey]int // open files as last counted
	// outside holds the pids that were in no tree when last read: a
	// process does not join a tree but by being born into it, so they are
	// not read again until the next full scan.
	outside map[int]bool
}

// filesEvery is how often (in samples) open files are counted: listing
// /proc/PID/fd costs as much as the rest of a sample, and the count
// changes slowly; in between, the last count of each process is reused.
const filesEvery = 6

// fullEvery is how often (in samples) every process is read, those outside
// the trees included. In between, only the processes of the trees and the
// new ones are, which on a host running more than steward's services is
// most of the cost saved. A pid reused meanwhile for a new child of a
// service goes unread until the next full scan.
const fullEvery = 6

// Sample returns the usage of the tree of each root, by name; a root that
// no longer runs is left out.
func (ts *TreeSampler) Sample(roots map[string]int) (map[string]Usage, error) {
	now := time.Now
	if ts.Now != nil {
		now = ts.Now
	}
	out := make(map[string]Usage, len(roots))
	if len(roots) == 0 {
		ts.prevCPU, ts.prevTime, ts.outside = nil, time.Time{}, nil
		return out, nil
	}
	full := ts.n%fullEvery == 0
	if full {
		ts.outside = nil
	}
	procs, err := scanProcs(func(pid int) bool { return ts.outside[pid] })
	if err != nil {
		return nil, err
	}
	t := now()
	byPid := make(map[int]*procStat, len(procs))
	children := make(map[int][]int, len(procs))
	for i := range procs {
		p := &procs[i]
		byPid[p.key.pid] = p
		children[p.ppid] = append(children[p.ppid], p.key.pid)
	}
	secs := t.Sub(ts.prevTime).Seconds()
	cpuNow := make(map[procKey]float64)
	recount := ts.n%filesEvery == 0
	ts.n++
	files := make(map[procKey]int)
	inTree := make(map[int]bool)
	for name, root := range roots {
		if byPid[root] == nil {
			continue
		}
		var u Usage
		var used float64
		stack := []int{root}
		for len(stack) > 0 {
			pid := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			p := byPid[pid]
			if p == nil || inTree[pid] {
				continue
			}
			inTree[pid] = true
			stack = append(stack, children[pid]...)
			u.Procs++
			u.RSS += p.rss
			u.Threads += p.threads
			u.CPUSeconds += p.cpu
			n, ok := ts.files[p.key]
			if recount || !ok {
				n = openFiles(pid)
			}
			files[p.key] = n
			u.OpenFiles += n
			cpuNow[p.key] = p.cpu
			if prev, ok := ts.prevCPU[p.key]; ok {
				used += max(0, p.cpu-prev)
			} else if !ts.prevTime.IsZero() {
				used += p.cpu // born since the last sample
			}
		}
		if !ts.prevTime.IsZero() && secs > 0 {
			u.CPUPercent = used / secs * 100
		}
		out[name] = u
	}
	if ts.outside == nil {
		ts.outside = make(map[int]bool, len(procs))
	}
	for _, p := range procs {
		if !inTree[p.key.pid] {
			ts.outside[p.key.pid] = true
		}
	}
	ts.prevTime, ts.prevCPU, ts.files = t, cpuNow, files
	return out, nil
}
