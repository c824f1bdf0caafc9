//go:build linux || darwin

package proc

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Process is a started process and the tree of processes it starts: its
// process group, its descendants and every process carrying its tag. Its
// methods are safe for concurrent use.
type Process struct {
	pid   int
	tag   string
	start uint64 // when the process started, in the units of procInfo.start
	proc  *os.Process
	cg    *cgroup // the tree's cgroup; nil where cgroups are not in use
	// limits are the tree's kernel-enforced limits; nil for none.
	limits *Limits

	mu sync.Mutex // serialises group signals with the reap in Wait
	// reaped is set once Wait has reaped the main process. Until then its pid
	// stays reserved, and with it the id of the process group Start made,
	// so a signal to that group reaches this tree and no other.
	reaped bool
}

// Start starts the process spec describes as the leader of a new process
// group. On Linux the child gets SIGKILL when steward dies (the
// parent-death signal).
func Start(spec Spec) (*Process, error) {
	p, err := start(spec)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", spec.Path, err)
	}
	return p, nil
}

func start(spec Spec) (*Process, error) {
	env := childEnv(spec.Env, spec.Tag)
	path, err := lookPath(spec.Path, env)
	if err != nil {
		return nil, err
	}
	cred, err := credential(spec.User, spec.Group)
	if err != nil {
		return nil, err
	}
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	defer null.Close()
	files := []*os.File{null, null, null}
	if spec.Stdin != nil {
		files[0] = spec.Stdin
	}
	if spec.Stdout != nil {
		files[1] = spec.Stdout
	}
	if spec.Stderr != nil {
		files[2] = spec.Stderr
	}
	argv := spec.Args
	if len(argv) == 0 {
		argv = []string{spec.Path}
	}
	attr := &os.ProcAttr{Dir: spec.Dir, Env: env, Files: files, Sys: sysProcAttr(cred)}
	cg := newCgroup(spec.Tag)
	if spec.Limits != nil {
		if err := limitTree(cg, *spec.Limits); err != nil {
			_ = cg.remove()
			return nil, err
		}
	}
	proc, in, err := startProcess(path, argv, attr, cg)
	if in == nil || err != nil {
		_ = cg.remove() // empty: no child is in it
	}
	if err != nil {
		return nil, err
	}
	if spec.Limits != nil && in == nil {
		// It could not be started in the cgroup that holds its limits.
		_ = proc.Kill()
		_, _ = proc.Wait()
		unregister(&Process{pid: proc.Pid})
		return nil, limitsUnsupported("start in the limited cgroup", errors.New("the spawning thread could not enter it"))
	}
	return &Process{pid: proc.Pid, tag: spec.Tag, start: startTime(proc.Pid), proc: proc, cg: in, limits: spec.Limits}, nil
}

// Pid returns the process id of the main process.
func (p *Process) Pid() int { return p.pid }

// Wait waits for the main process to exit, reaps it and returns its state.
// Call it once. The rest of the tree may live on: KillTree ends it.
func (p *Process) Wait() (*os.ProcessState, error) {
	exited := p.waitExit() == nil
	p.noteOOM()
	if exited {
		p.mu.Lock()
	}
	st, err := p.proc.Wait()
	if !exited {
		p.mu.Lock()
	}
	p.reaped = true
	p.mu.Unlock()
	unregister(p)
	if err != nil {
		return nil, fmt.Errorf("wait for process %d: %w", p.pid, err)
	}
	return st, nil
}

var signals = map[string]unix.Signal{
	"TERM": unix.SIGTERM,
	"INT":  unix.SIGINT,
	"HUP":  unix.SIGHUP,
	"QUIT": unix.SIGQUIT,
	"KILL": unix.SIGKILL,
	"USR1": unix.SIGUSR1,
	"USR2": unix.SIGUSR2,
}

// Signal sends sig ("TERM", "INT", "HUP", "QUIT", "KILL", "USR1" or "USR2")
// to the process group of the main process. Once Wait has returned it fails
// with an error wrapping os.ErrProcessDone: the group id may then name
// another group, and KillTree is the way to end what is left.
func (p *Process) Signal(sig string) error {
	name := signalName(sig)
	s, ok := signals[name]
	if !ok {
		return fmt.Errorf("signal process group %d: unknown signal %q", p.pid, sig)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	err := os.ErrProcessDone
	if !p.reaped {
		err = unix.Kill(-p.pid, s)
	}
	if errors.Is(err, unix.ESRCH) {
		err = os.ErrProcessDone
	}
	if err != nil {
		return fmt.Errorf("signal %s to process group %d: %w", name, p.pid, err)
	}
	return nil
}

// KillTree kills the whole tree with SIGKILL. On Linux, where cgroups are in
// use (TreeMechanism), that is every process in the tree's cgroup, which no
// process leaves by changing its environment, group or session, and its
// process group; elsewhere, or when the cgroup cannot be emptied, it is the
// main process, its process group, its descendants through parent links,
// and every process started at or after it whose environment carries
// STEWARD_TAG=<Tag>, which finds daemons that left the group with setsid
// and were reparented: found in the process table, a read per process on
// the machine. It repeats until none of them is left, since members may
// fork while it kills, and gives up with an error after two seconds; then
// it removes the cgroup. It may be called before or after Wait; the main
// process itself is left for Wait to reap, the tree's orphans are reaped.
func (p *Process) KillTree() error {
	deadline := time.Now().Add(killTimeout)
	_, cgErr := p.cg.kill(deadline)
	var err error
	if p.cg != nil && cgErr == nil {
		p.mu.Lock()
		p.killGroupLocked()
		p.mu.Unlock()
	} else {
		err = p.killMembers(deadline)
	}
	p.noteOOM()
	if cgErr == nil && err == nil {
		cgErr = p.cg.remove()
	}
	if err := errors.Join(cgErr, err); err != nil {
		return fmt.Errorf("kill tree of process %d: %w", p.pid, err)
	}
	return nil
}

// killGroupLocked kills the main process and its group while that is safe:
// while Wait has not reaped it, so that its pid, and so the group's id, is
// still ours. p.mu is held.
func (p *Process) killGroupLocked() {
	if !p.reaped {
		_ = p.proc.Kill() // also when the main process left its group
		_ = unix.Kill(-p.pid, unix.SIGKILL)
	}
}

// killMembers kills the processes members finds until none is left.
func (p *Process) killMembers(deadline time.Time) error {
	for {
		victims, procs, err := p.members()
		if err != nil {
			return err
		}
		if len(victims) == 0 {
			reapOrphans(procs)
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d processes still alive after %v", len(victims), killTimeout)
		}
		if _, err := killAndWait(victims, deadline); err != nil {
			return err
		}
	}
}

// members kills the main process and its group while that is safe, then
// returns the live processes of the tree and the process table they were
// found in. It holds p.mu so that Wait cannot reap the main process, and
// free its pid, between the kill and the scan.
func (p *Process) members() (tree, procs []procInfo, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.killGroupLocked()
	procs, err = freshProcs()
	if err != nil {
		return nil, nil, err
	}
	// Once the main process is reaped, the group is still ours while no
	// process has its pid: the kernel does not hand out the id of a live
	// process group.
	group := !p.reaped || !slices.ContainsFunc(procs, func(pi procInfo) bool { return pi.pid == p.pid })
	tree = liveTree(procs, func(pi procInfo) bool {
		switch {
		case pi.pid == p.pid:
			return !p.reaped
		case pi.pgrp == p.pid:
			return group
		case p.tag != "" && !pi.zombie && !pi.kernel && pi.start >= p.start:
			tag, ok := tagsSeen.tag(pi)
			return ok && tag == p.tag
		}
		return false
	})
	return tree, procs, nil
}

// Sweep kills with SIGKILL every process, other than this one and its
// ancestors, whose STEWARD_TAG satisfies match, and their descendants; and
// on Linux every process in a cgroup that a steward process that is gone
// made for a tree whose tag satisfies match, then removes those cgroups.
// It returns the pids of the processes it killed, in ascending order.
// Steward calls it at start-up to remove what a previous run that was
// killed with SIGKILL left behind; it spares nothing else, so a match that
// accepts the tags of this run's own children kills them too.
func Sweep(match func(tag string) bool) (killed []int, err error) {
	deadline := time.Now().Add(killTimeout)
	inCgroups, cgErr := sweepCgroups(match, deadline)
	killed, err = sweepTagged(match, deadline)
	if cgErr != nil {
		err = errors.Join(fmt.Errorf("sweep: %w", cgErr), err)
	}
	killed = append(killed, inCgroups...)
	slices.Sort(killed)
	return slices.Compact(killed), err
}

// sweepTagged is Sweep for tagged processes.
func sweepTagged(match func(tag string) bool, deadline time.Time) (killed []int, err error) {
	seen := make(map[procKey]bool)
	for {
		procs, err := freshProcs()
		if err != nil {
			return sweptPids(seen), fmt.Errorf("sweep: %w", err)
		}
		spare := ancestors(procs, os.Getpid())
		victims := liveTree(procs, func(pi procInfo) bool {
			if spare[pi.pid] || pi.zombie || pi.kernel {
				return false
			}
			tag, ok := tagsSeen.tag(pi)
			return ok && match(tag)
		})
		if len(victims) == 0 {
			reapOrphans(procs)
			return sweptPids(seen), nil
		}
		if time.Now().After(deadline) {
			return sweptPids(seen), fmt.Errorf("sweep: %d processes still alive after %v", len(victims), killTimeout)
		}
		done, err := killAndWait(victims, deadline)
		for _, pi := range done {
			seen[procKey{pi.pid, pi.start}] = true
		}
		if err != nil {
			return sweptPids(seen), fmt.Errorf("sweep: %w", err)
		}
	}
}

// sweptPids returns the pids of seen in ascending order.
func sweptPids(seen map[procKey]bool) []int {
	pids := make([]int, 0, len(seen))
	for k := range seen {
		pids = append(pids, k.pid)
	}
	slices.Sort(pids)
	return pids
}

// procInfo is one entry of the process table.
type procInfo struct {
	pid, ppid, pgrp int
	zombie          bool
	kernel          bool // a kernel thread
	// start is when the process started: clock ticks since boot on Linux,
	// microseconds since the epoch on macOS. With pid it names one process.
	start uint64
}

// liveTree returns the processes of procs that are not zombies and either
// satisfy isRoot or descend from one that does, never this process itself.
func liveTree(procs []procInfo, isRoot func(procInfo) bool) []procInfo {
	children := make(map[int][]int)
	byPid := make(map[int]procInfo, len(procs))
	var queue []int
	for _, pi := range procs {
		byPid[pi.pid] = pi
		children[pi.ppid] = append(children[pi.ppid], pi.pid)
		if isRoot(pi) {
			queue = append(queue, pi.pid)
		}
	}
	self := os.Getpid()
	in := make(map[int]bool)
	var tree []procInfo
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		if in[pid] || pid == self {
			continue
		}
		in[pid] = true
		if pi := byPid[pid]; !pi.zombie {
			tree = append(tree, pi)
		}
		queue = append(queue, children[pid]...)
	}
	return tree
}

// ancestors returns pid and its ancestors in procs.
func ancestors(procs []procInfo, pid int) map[int]bool {
	parent := make(map[int]int, len(procs))
	for _, pi := range procs {
		parent[pi.pid] = pi.ppid
	}
	anc := make(map[int]bool)
	for pid > 0 && !anc[pid] {
		anc[pid] = true
		pid = parent[pid]
	}
	return anc
}

// tagIn returns the value of STEWARD_TAG in a NUL-separated environment
// block.
func tagIn(env []byte) (string, bool) {
	for len(env) > 0 {
		kv := env
		if i := bytes.IndexByte(env, 0); i >= 0 {
			kv, env = env[:i], env[i+1:]
		} else {
			env = nil
		}
		if len(kv) > len(TagVar) && kv[len(TagVar)] == '=' && string(kv[:len(TagVar)]) == TagVar {
			return string(kv[len(TagVar)+1:]), true
		}
	}
	return "", false
}

// lookPath resolves file as exec.LookPath would, but against the PATH in env.
// A name with a slash is returned as it is: relative to the child's Dir.
func lookPath(file string, env []string) (string, error) {
	if strings.Contains(file, "/") {
		return file, nil
	}
	dirs, ok := envValue(env, "PATH")
	if !ok {
		dirs = os.Getenv("PATH")
	}
	for _, dir := range filepath.SplitList(dirs) {
		if dir == "" {
			dir = "."
		}
		path := filepath.Join(dir, file)
		if fi, err := os.Stat(path); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			continue
		}
		if !filepath.IsAbs(path) {
			return "", fmt.Errorf("%s resolves to %s, relative to the current directory: %w", file, path, exec.ErrDot)
		}
		return path, nil
	}
	return "", fmt.Errorf("look up %s in PATH: %w", file, exec.ErrNotFound)
}

// credential returns the credential to run as userName and groupName (names
// or numeric ids), or nil when both are empty. A user's own group and
// supplementary groups apply unless groupName names another primary group; a
// numeric user id without a passwd entry gets the same number as group id.
// Supplementary groups are set only when running as root, the one case in
// which the kernel allows it.
func credential(userName, groupName string) (*syscall.Credential, error) {
	if userName == "" && groupName == "" {
		return nil, nil
	}
	cred := &syscall.Credential{Uid: uint32(os.Getuid()), Gid: uint32(os.Getgid()), NoSetGroups: true}
	if userName != "" {
		u, err := lookupUser(userName)
		if err != nil {
			return nil, fmt.Errorf("look up user %q: %w", userName, err)
		}
		uid, err := parseID(u.Uid)
		if err != nil {
			return nil, fmt.Errorf("user %q: %w", userName, err)
		}
		gid, err := parseID(u.Gid)
		if err != nil {
			return nil, fmt.Errorf("user %q: %w", userName, err)
		}
		cred.Uid, cred.Gid = uid, gid
		if os.Getuid() == 0 && u.Username != "" {
			ids, err := u.GroupIds()
			if err != nil {
				return nil, fmt.Errorf("look up groups of user %q: %w", userName, err)
			}
			for _, s := range ids {
				if id, err := parseID(s); err == nil {
					cred.Groups = append(cred.Groups, id)
				}
			}
			cred.NoSetGroups = false
		}
	}
	if groupName != "" {
		gid, err := parseID(groupName)
		if err != nil {
			g, lerr := user.LookupGroup(groupName)
			if lerr != nil {
				return nil, fmt.Errorf("look up group %q: %w", groupName, lerr)
			}
			if gid, err = parseID(g.Gid); err != nil {
				return nil, fmt.Errorf("group %q: %w", groupName, err)
			}
		}
		cred.Gid = gid
	}
	return cred, nil
}

// lookupUser looks name up as a user name, then as a numeric id; a number
// with no passwd entry is a user of that id whose group has the same id.
func lookupUser(name string) (*user.User, error) {
	if _, err := parseID(name); err != nil {
		return user.Lookup(name)
	}
	u, err := user.LookupId(name)
	if errors.As(err, new(user.UnknownUserIdError)) {
		return &user.User{Uid: name, Gid: name}, nil
	}
	return u, err
}

func parseID(s string) (uint32, error) {
	id, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("parse id %q: %w", s, err)
	}
	return uint32(id), nil
}
