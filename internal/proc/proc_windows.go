package proc

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Process is a started process and the job object that holds it and every
// process it starts. Its methods are safe for concurrent use.
type Process struct {
	pid  int
	proc *os.Process

	mu     sync.Mutex
	job    windows.Handle // 0 once KillTree has ended the tree and closed it
	exited bool           // Wait has returned: the pid may name another process
	// memPeak and memLimit are the job's peak committed memory and its
	// memory limit (0 for none), read when the main process exited.
	memPeak, memLimit uint64
}

// Start starts the process spec describes in a new process group and a job
// object of its own that kills all its processes when steward exits
// (JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE).
// The process is created suspended and resumed once it is in the job, so
// no child it starts can escape the job. Call KillTree once done with the
// Process, also after Wait: it closes the job object.
func Start(spec Spec) (*Process, error) {
	p, err := start(spec)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", spec.Path, err)
	}
	return p, nil
}

func start(spec Spec) (*Process, error) {
	if spec.User != "" || spec.Group != "" {
		return nil, errUnsupported("run as another user or group")
	}
	env := childEnv(spec.Env, spec.Tag)
	path, err := lookPath(spec.Path, spec.Dir, env)
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
	job, err := newJob(spec.Limits)
	if err != nil {
		return nil, err
	}
	proc, err := os.StartProcess(path, argv, &os.ProcAttr{
		Dir:   spec.Dir,
		Env:   env,
		Files: files,
		Sys:   &syscall.SysProcAttr{CreationFlags: windows.CREATE_NEW_PROCESS_GROUP | windows.CREATE_SUSPENDED},
	})
	if err != nil {
		windows.CloseHandle(job)
		return nil, err
	}
	if err := assignAndResume(job, proc.Pid); err != nil {
		proc.Kill()
		proc.Wait()
		windows.CloseHandle(job)
		return nil, err
	}
	return &Process{pid: proc.Pid, proc: proc, job: job}, nil
}

// newJob creates a job object that kills its processes when its last
// handle is closed, with the limits l (nil for none). The handle is not
// inheritable, so only steward holds it.
func newJob(l *Limits) (windows.Handle, error) {
	job, err := windows.CreateJobObject(nil, nil)
	if err != nil {
		return 0, fmt.Errorf("create job object: %w", err)
	}
	if err := limitJob(job, l); err != nil {
		windows.CloseHandle(job)
		return 0, err
	}
	return job, nil
}

// assignAndResume puts the suspended process pid in job, then resumes it.
func assignAndResume(job windows.Handle, pid int) error {
	h, err := windows.OpenProcess(windows.PROCESS_SET_QUOTA|windows.PROCESS_TERMINATE, false, uint32(pid))
	if err != nil {
		return fmt.Errorf("open process %d: %w", pid, err)
	}
	defer windows.CloseHandle(h)
	if err := windows.AssignProcessToJobObject(job, h); err != nil {
		return fmt.Errorf("assign process %d to job object: %w", pid, err)
	}
	return resume(pid)
}

// resume resumes the threads of pid, created suspended: its main thread.
// os.StartProcess closes the thread handle CreateProcess returns, so the
// thread is found in a snapshot of the system's threads.
func resume(pid int) error {
	snap, err := windows.CreateToolhelp32Snapshot(windows.TH32CS_SNAPTHREAD, 0)
	if err != nil {
		return fmt.Errorf("resume process %d: list threads: %w", pid, err)
	}
	defer windows.CloseHandle(snap)
	resumed := 0
	te := windows.ThreadEntry32{Size: uint32(unsafe.Sizeof(windows.ThreadEntry32{}))}
	for err = windows.Thread32First(snap, &te); err == nil; err = windows.Thread32Next(snap, &te) {
		if te.OwnerProcessID != uint32(pid) {
			continue
		}
		th, err := windows.OpenThread(windows.THREAD_SUSPEND_RESUME, false, te.ThreadID)
		if err != nil {
			return fmt.Errorf("resume process %d: open thread %d: %w", pid, te.ThreadID, err)
		}
		_, err = windows.ResumeThread(th)
		windows.CloseHandle(th)
		if err != nil {
			return fmt.Errorf("resume process %d: thread %d: %w", pid, te.ThreadID, err)
		}
		resumed++
	}
	if !errors.Is(err, windows.ERROR_NO_MORE_FILES) {
		return fmt.Errorf("resume process %d: list threads: %w", pid, err)
	}
	if resumed == 0 {
		return fmt.Errorf("resume process %d: no thread found", pid)
	}
	return nil
}

// Pid returns the process id of the main process.
func (p *Process) Pid() int { return p.pid }

// Wait waits for the main process to exit and returns its state. Call it
// once. The rest of the job may live on: KillTree ends it.
func (p *Process) Wait() (*os.ProcessState, error) {
	st, err := p.proc.Wait()
	p.mu.Lock()
	p.exited = true
	if p.job != 0 {
		p.memPeak, p.memLimit, _ = jobMemoryPeak(p.job)
	}
	p.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("wait for process %d: %w", p.pid, err)
	}
	return st, nil
}

// Signal sends sig to the tree. TERM and INT send CTRL_BREAK_EVENT to the
// process group of the main process (CTRL_C_EVENT cannot reach another
// process group), which needs steward and the child to share a console;
// they fail once Wait has returned, with an error wrapping
// os.ErrProcessDone. KILL terminates the job. Windows has no HUP, QUIT,
// USR1 or USR2.
func (p *Process) Signal(sig string) error {
	name := signalName(sig)
	p.mu.Lock()
	defer p.mu.Unlock()
	switch name {
	case "TERM", "INT":
		if p.exited {
			return fmt.Errorf("signal %s to process group %d: %w", name, p.pid, os.ErrProcessDone)
		}
		if err := windows.GenerateConsoleCtrlEvent(windows.CTRL_BREAK_EVENT, uint32(p.pid)); err != nil {
			return fmt.Errorf("send CTRL_BREAK_EVENT to process group %d: %w", p.pid, err)
		}
		return nil
	case "KILL":
		if p.job == 0 {
			return fmt.Errorf("kill job of process %d: %w", p.pid, os.ErrProcessDone)
		}
		if err := windows.TerminateJobObject(p.job, 1); err != nil {
			return fmt.Errorf("kill job of process %d: %w", p.pid, err)
		}
		return nil
	case "HUP", "QUIT", "USR1", "USR2":
		return errUnsupported("signal " + name)
	}
	return fmt.Errorf("signal process group %d: unknown signal %q", p.pid, sig)
}

// KillTree terminates every process in the job, waits until the job is
// empty, for at most two seconds, and closes it. It may be called before or
// after Wait, and again.
func (p *Process) KillTree() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.job == 0 {
		return nil
	}
	if err := windows.TerminateJobObject(p.job, 1); err != nil {
		return fmt.Errorf("kill tree of process %d: %w", p.pid, err)
	}
	deadline := time.Now().Add(killTimeout)
	for delay := time.Millisecond; ; delay = min(2*delay, 50*time.Millisecond) {
		n, err := activeProcesses(p.job)
		if err != nil {
			return fmt.Errorf("kill tree of process %d: %w", p.pid, err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("kill tree of process %d: %d processes still alive after %v", p.pid, n, killTimeout)
		}
		time.Sleep(delay)
	}
	windows.CloseHandle(p.job)
	p.job = 0
	return nil
}

// jobAccounting is JOBOBJECT_BASIC_ACCOUNTING_INFORMATION, which
// golang.org/x/sys/windows does not define.
type jobAccounting struct {
	TotalUserTime             int64
	TotalKernelTime           int64
	ThisPeriodTotalUserTime   int64
	ThisPeriodTotalKernelTime int64
	TotalPageFaultCount       uint32
	TotalProcesses            uint32
	ActiveProcesses           uint32
	TotalTerminatedProcesses  uint32
}

func activeProcesses(job windows.Handle) (uint32, error) {
	var info jobAccounting
	if err := windows.QueryInformationJobObject(job, windows.JobObjectBasicAccountingInformation,
		uintptr(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info)), nil); err != nil {
		return 0, fmt.Errorf("query job object: %w", err)
	}
	return info.ActiveProcesses, nil
}

// Sweep kills nothing on Windows and returns no pids: the job objects of a
// previous run were closed when it ended, however it ended, and that killed
// their processes.
func Sweep(match func(tag string) bool) (killed []int, err error) { return nil, nil }

// Prepare gives steward a console when it has none (see ensureConsole), so
// that the stop signal reaches its children.
func Prepare() error {
	ensureConsole()
	return nil
}

// lookPath resolves file as exec.LookPath would, but against the PATH and
// PATHEXT in env. A name with a path separator is taken relative to dir.
func lookPath(file, dir string, env []string) (string, error) {
	exts := pathExts(env)
	if strings.ContainsAny(file, `:\/`) {
		at := file
		if dir != "" && !filepath.IsAbs(file) {
			at = filepath.Join(dir, file)
		}
		ext, err := findExecutable(at, exts)
		if err != nil {
			return "", fmt.Errorf("look up %s: %w", file, err)
		}
		return file + ext, nil
	}
	dirs, ok := envValue(env, "PATH")
	if !ok {
		dirs = os.Getenv("PATH")
	}
	for _, d := range filepath.SplitList(dirs) {
		if d == "" {
			continue
		}
		path := filepath.Join(d, file)
		ext, err := findExecutable(path, exts)
		if err != nil {
			continue
		}
		if !filepath.IsAbs(path) {
			return "", fmt.Errorf("%s resolves to %s, relative to the current directory: %w", file, path+ext, exec.ErrDot)
		}
		return path + ext, nil
	}
	return "", fmt.Errorf("look up %s in PATH: %w", file, exec.ErrNotFound)
}

// pathExts returns the extensions of PATHEXT in env, lower-cased.
func pathExts(env []string) []string {
	x, ok := envValue(env, "PATHEXT")
	if !ok {
		x = os.Getenv("PATHEXT")
	}
	var exts []string
	for _, e := range strings.Split(strings.ToLower(x), ";") {
		if e == "" {
			continue
		}
		if e[0] != '.' {
			e = "." + e
		}
		exts = append(exts, e)
	}
	if len(exts) == 0 {
		exts = []string{".com", ".exe", ".bat", ".cmd"}
	}
	return exts
}

// findExecutable returns the extension that, added to path, names an
// existing file: "" when path has one of exts already and exists. It fails
// with os.ErrNotExist.
func findExecutable(path string, exts []string) (string, error) {
	isFile := func(p string) bool {
		fi, err := os.Stat(p)
		return err == nil && !fi.IsDir()
	}
	if slices.Contains(exts, strings.ToLower(filepath.Ext(path))) && isFile(path) {
		return "", nil
	}
	for _, e := range exts {
		if isFile(path + e) {
			return e, nil
		}
	}
	return "", os.ErrNotExist
}

// TreeMechanism names what KillTree uses to find every process of a tree:
// on Windows "job object".
func TreeMechanism() string { return "job object" }
