package proc

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// cpuPeriod is the CFS period of a CPU limit, in microseconds: the
// kernel's default, 100 ms.
const cpuPeriod = 100000

// attachable holds the cgroup v1 hierarchies that limits attach to a
// tree besides the pids one: memory and cpu. Each is found on first use.
var attachable struct {
	mu sync.Mutex
	h  map[string]*hierarchy // by controller; created (own set) on first attach
}

// limitHierarchies returns the v1 memory and cpu hierarchies that are
// mounted, for the sweep; nil on v2, where the trees' cgroups hold every
// controller.
func limitHierarchies() []*hierarchy {
	if h := cgroupHierarchy(); h == nil || h.version != cgroupV1 {
		return nil
	}
	var out []*hierarchy
	for _, c := range [...]string{"memory", "cpu"} {
		if h, err := v1Hierarchy(c, false); err == nil {
			out = append(out, h)
		}
	}
	return out
}

// v1Hierarchy returns the v1 hierarchy of controller, with this process's
// directory in it created when create says so.
func v1Hierarchy(controller string, create bool) (*hierarchy, error) {
	attachable.mu.Lock()
	defer attachable.mu.Unlock()
	if attachable.h == nil {
		attachable.h = map[string]*hierarchy{}
	}
	h := attachable.h[controller]
	if h == nil {
		var err error
		if h, err = findV1(controller); err != nil {
			return nil, err
		}
		attachable.h[controller] = h
	}
	if create && h.own == "" {
		if err := h.create(); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("create cgroup in %s: %w", h.mount, err)
		}
	}
	return h, nil
}

// limitTree gives the tree's cgroup cg the limits l; without a cgroup
// (steward cannot create them here) it fails.
func limitTree(cg *cgroup, l Limits) error {
	if cg == nil {
		reason := "steward cannot create cgroups here"
		if trees.err != nil {
			reason += ": " + trees.err.Error()
		}
		return limitsUnsupported("limits", errors.New(reason))
	}
	return cg.limit(l)
}

// limit gives c the limits l: on v2 in c's own files, with the controllers
// enabled down to it; on v1 pids.max in c and memory and cpu cgroups
// attached to it. Call it before any process is in c.
func (c *cgroup) limit(l Limits) error {
	if c.h.version == cgroupV2 {
		return c.limitV2(l)
	}
	if l.Tasks > 0 {
		if err := writeFile(filepath.Join(c.dir, "pids.max"), strconv.Itoa(l.Tasks)); err != nil {
			return limitsUnsupported("tasks", err)
		}
	}
	name := filepath.Base(c.dir)
	if l.Memory > 0 {
		m, err := c.attach("memory", name)
		if err != nil {
			return limitsUnsupported("memory", err)
		}
		limit := strconv.FormatInt(l.Memory, 10)
		if err := writeFile(filepath.Join(m.dir, "memory.limit_in_bytes"), limit); err != nil {
			return limitsUnsupported("memory", err)
		}
		// With swap accounting, swap counts too: the limit is one of
		// memory, not a push into swap.
		if err := writeFile(filepath.Join(m.dir, "memory.memsw.limit_in_bytes"), limit); err != nil && !errors.Is(err, os.ErrNotExist) {
			return limitsUnsupported("memory", err)
		}
		c.oomFile = filepath.Join(m.dir, "memory.oom_control")
	}
	if l.CPU > 0 {
		cpu, err := c.attach("cpu", name)
		if err != nil {
			return limitsUnsupported("cpu", err)
		}
		if err := writeFile(filepath.Join(cpu.dir, "cpu.cfs_period_us"), strconv.Itoa(cpuPeriod)); err != nil {
			return limitsUnsupported("cpu", err)
		}
		if err := writeFile(filepath.Join(cpu.dir, "cpu.cfs_quota_us"), strconv.FormatInt(cpuQuota(l.CPU), 10)); err != nil {
			return limitsUnsupported("cpu", err)
		}
	}
	return nil
}

// attach creates the cgroup name in this process's directory of the v1
// hierarchy of controller and attaches it to c.
func (c *cgroup) attach(controller, name string) (*cgroup, error) {
	h, err := v1Hierarchy(controller, true)
	if err != nil {
		return nil, err
	}
	a := &cgroup{h: h, dir: filepath.Join(h.own, name)}
	if err := os.Mkdir(a.dir, 0o755); err != nil {
		return nil, err
	}
	c.attached = append(c.attached, a)
	return a, nil
}

// limitV2 writes l into c's files, once the memory, cpu and pids
// controllers it needs are enabled from the root of the hierarchy down to
// c's parent.
func (c *cgroup) limitV2(l Limits) error {
	var need []string
	if l.Memory > 0 {
		need = append(need, "memory")
	}
	if l.CPU > 0 {
		need = append(need, "cpu")
	}
	if l.Tasks > 0 {
		need = append(need, "pids")
	}
	if err := c.h.enable(need); err != nil {
		return limitsUnsupported(strings.Join(need, ", "), err)
	}
	if l.Memory > 0 {
		if err := writeFile(filepath.Join(c.dir, "memory.max"), strconv.FormatInt(l.Memory, 10)); err != nil {
			return limitsUnsupported("memory", err)
		}
		if err := writeFile(filepath.Join(c.dir, "memory.swap.max"), "0"); err != nil && !errors.Is(err, os.ErrNotExist) {
			return limitsUnsupported("memory", err)
		}
		c.oomFile = filepath.Join(c.dir, "memory.events")
	}
	if l.CPU > 0 {
		v := strconv.FormatInt(cpuQuota(l.CPU), 10) + " " + strconv.Itoa(cpuPeriod)
		if err := writeFile(filepath.Join(c.dir, "cpu.max"), v); err != nil {
			return limitsUnsupported("cpu", err)
		}
	}
	if l.Tasks > 0 {
		if err := writeFile(filepath.Join(c.dir, "pids.max"), strconv.Itoa(l.Tasks)); err != nil {
			return limitsUnsupported("tasks", err)
		}
	}
	return nil
}

// enable enables the controllers need in the subtrees of the root of h,
// of steward's directory and of this process's, unless they are already:
// the kernel offers a cgroup's files of a controller only when its
// parent's cgroup.subtree_control has it.
func (h *hierarchy) enable(need []string) error {
	avail, err := os.ReadFile(filepath.Join(h.mount, "cgroup.controllers"))
	if err != nil {
		return err
	}
	for _, c := range need {
		if !slices.Contains(strings.Fields(string(avail)), c) {
			return fmt.Errorf("the cgroup v2 hierarchy at %s has no %s controller (cgroup.controllers: %q)", h.mount, c, strings.TrimSpace(string(avail)))
		}
	}
	for _, dir := range [...]string{h.mount, filepath.Join(h.mount, cgroupDir), h.own} {
		file := filepath.Join(dir, "cgroup.subtree_control")
		on, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		var add []string
		for _, c := range need {
			if !slices.Contains(strings.Fields(string(on)), c) {
				add = append(add, "+"+c)
			}
		}
		if len(add) == 0 {
			continue
		}
		if err := writeFile(file, strings.Join(add, " ")); err != nil {
			return fmt.Errorf("enable %s in %s: %w", strings.Join(add, " "), file, err)
		}
	}
	return nil
}

// cpuQuota is the CFS quota, per cpuPeriod, of pct percent of one core.
func cpuQuota(pct float64) int64 {
	return max(int64(pct*cpuPeriod/100), 1000) // the kernel's least is 1 ms
}

// LimitControllers says which cgroup controllers kernel-enforced limits
// can use on this machine ("cgroup v1: memory, cpu, pids"), and whether
// steward can use them at all: it needs cgroups of its own (TreeMechanism).
func LimitControllers() (string, bool) {
	h := cgroupHierarchy()
	if h == nil {
		return "none: " + trees.err.Error(), false
	}
	if h.version == cgroupV2 {
		b, err := os.ReadFile(filepath.Join(h.mount, "cgroup.controllers"))
		if err != nil {
			return "cgroup v2: " + err.Error(), false
		}
		var have []string
		for _, c := range [...]string{"memory", "cpu", "pids"} {
			if slices.Contains(strings.Fields(string(b)), c) {
				have = append(have, c)
			}
		}
		return "cgroup v2: " + strings.Join(have, ", "), len(have) > 0
	}
	have := []string{}
	for _, c := range [...]string{"memory", "cpu"} {
		if _, err := v1Hierarchy(c, false); err == nil {
			have = append(have, c)
		}
	}
	return "cgroup v1: " + strings.Join(append(have, "pids"), ", "), true
}
