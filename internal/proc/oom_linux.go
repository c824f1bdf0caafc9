package proc

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// OOMWatch tells whether the kernel's OOM killer ended a process: WatchOOM
// reads the counters while the process runs, Check compares them once it
// has exited.
type OOMWatch struct {
	file    string // the memory cgroup's counter file, "" when none is the process's own
	cgroup  uint64 // its oom_kill count when watching began
	vmstat  uint64 // the machine's oom_kill count (/proc/vmstat) then
	vmstatK bool   // vmstat was readable
	// tree is set when the memory cgroup is one limits made for the tree:
	// its count starts at 0, and the tree keeps the last one it read, as
	// the cgroup may be gone by the time Check runs.
	tree *Process
}

// WatchOOM watches the process's tree for the kernel's OOM killer: in the
// tree's own memory cgroup when its limits gave it one (the count starts at
// 0, so an OOM kill before this call counts too), else as WatchOOM(pid).
func (p *Process) WatchOOM() OOMWatch {
	if p.cg == nil || p.cg.oomFile == "" {
		return WatchOOM(p.pid)
	}
	w := OOMWatch{file: p.cg.oomFile, tree: p}
	w.vmstat, w.vmstatK = counter("/proc/vmstat", "oom_kill")
	return w
}

// noteOOM reads the oom_kill count of the tree's memory cgroup, where
// limits gave it one, and keeps it for Check: called once the main process
// has exited and before the cgroup is removed.
func (p *Process) noteOOM() {
	if p.cg == nil || p.cg.oomFile == "" {
		return
	}
	if n, ok := counter(p.cg.oomFile, "oom_kill"); ok {
		p.cg.oomKills.Store(max(p.cg.oomKills.Load(), n))
	}
}

// WatchOOM reads the OOM kill counters that concern the process pid: the
// oom_kill count of its memory cgroup (memory.events on cgroup v2,
// memory.oom_control on v1) when it has one of its own (not the root, not
// steward's), and the machine's (oom_kill in /proc/vmstat).
func WatchOOM(pid int) OOMWatch {
	var w OOMWatch
	w.vmstat, w.vmstatK = counter("/proc/vmstat", "oom_kill")
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		return w
	}
	self, _ := os.ReadFile("/proc/self/cgroup")
	own := map[string]bool{}
	for line := range strings.Lines(string(self)) {
		own[strings.TrimSpace(line)] = true
	}
	for line := range strings.Lines(string(data)) {
		parts := strings.SplitN(strings.TrimSpace(line), ":", 3)
		if len(parts) != 3 || parts[2] == "/" || own[strings.TrimSpace(line)] {
			continue
		}
		var file string
		switch {
		case parts[0] == "0" && parts[1] == "":
			file = filepath.Join("/sys/fs/cgroup", parts[2], "memory.events")
		case hasController(parts[1], "memory"):
			file = filepath.Join("/sys/fs/cgroup/memory", parts[2], "memory.oom_control")
		default:
			continue
		}
		if n, ok := counter(file, "oom_kill"); ok {
			w.file, w.cgroup = file, n
			return w
		}
	}
	return w
}

// Check says whether the OOM killer ended the process, which was killed by
// SIGKILL when killed says so: its memory cgroup's count rose (certain),
// or the machine's did while it ran (likely: another process may have been
// the victim).
func (w OOMWatch) Check(killed bool) OOMVerdict {
	if w.tree != nil {
		w.tree.noteOOM()
		n := w.tree.cg.oomKills.Load()
		if n > 0 && killed {
			v := OOMVerdict{"yes", "oom_kill in " + w.file + " rose by " + strconv.FormatUint(n, 10)}
			if l := w.tree.limits; l != nil && l.Memory > 0 {
				v.Detail += ", at the memory limit of " + strconv.FormatInt(l.Memory, 10) + " bytes"
			}
			return v
		}
		return OOMVerdict{"no", "oom_kill in " + w.file + " did not rise"}
	}
	if w.file != "" {
		if n, ok := counter(w.file, "oom_kill"); ok {
			if n > w.cgroup && killed {
				return OOMVerdict{"yes", "oom_kill in " + w.file + " rose by " + strconv.FormatUint(n-w.cgroup, 10)}
			}
			return OOMVerdict{"no", "oom_kill in " + w.file + " did not rise"}
		}
	}
	if !killed {
		return OOMVerdict{"no", "not killed by SIGKILL"}
	}
	if w.vmstatK {
		if n, ok := counter("/proc/vmstat", "oom_kill"); ok {
			if n > w.vmstat {
				return OOMVerdict{"yes", "likely: the kernel's oom_kill count (/proc/vmstat) rose by " + strconv.FormatUint(n-w.vmstat, 10) + " while it ran, and it was killed by SIGKILL"}
			}
			return OOMVerdict{"no", "the kernel's oom_kill count (/proc/vmstat) did not rise while it ran"}
		}
	}
	return OOMVerdict{"unknown", "no memory cgroup of its own and /proc/vmstat has no oom_kill count"}
}

// hasController reports whether the comma-separated list has c.
func hasController(list, c string) bool {
	for name := range strings.SplitSeq(list, ",") {
		if name == c {
			return true
		}
	}
	return false
}

// counter reads the number after key in a "key value" per line file.
func counter(file, key string) (uint64, bool) {
	data, err := os.ReadFile(file)
	if err != nil {
		return 0, false
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " ")
		if ok && k == key {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}
