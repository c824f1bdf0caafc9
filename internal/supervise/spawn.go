package supervise

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/logcap"
	"github.com/stewardhq/steward/internal/proc"
)

// instance is one run of the service's process.
type instance struct {
	n       int
	p       Process
	started time.Time
	cancel  context.CancelFunc // ends its readiness check
	done    chan exitResult    // receives the exit of the main process
	ready   chan error         // receives the outcome of the readiness check
	// notReady, when set, says why the instance was killed as not ready;
	// its exit then counts as a failed run with this reason.
	notReady   string
	healthStop context.CancelFunc // ends its health checks
	// probe names the failing readiness, health or watchdog check that
	// ended the instance, for its exit record.
	probe    string
	captured sync.WaitGroup // the captures of its output
	notify   *notifySocket  // its NOTIFY_SOCKET with ready.notify; else nil
}

type exitResult struct {
	state   ExitStatus
	err     error
	builtin bool                 // the end of a built-in kind's Runner
	oom     <-chan proc.OOMWatch // the OOM kill counters at its start; nil for none
}

// clean reports whether the instance finished successfully: exit status
// 0, or a Runner that returned nil.
func (e exitResult) clean() bool {
	if e.builtin {
		return e.err == nil
	}
	return e.state != nil && e.state.ExitCode() == 0
}

// spawn starts a new instance of the process.
func (s *service) spawn(ctx context.Context, ls *loopState, why string) {
	cfg, baseDir := s.snapshotConfig()
	ls.count++
	inst := &instance{n: ls.count, done: make(chan exitResult, 1), ready: make(chan error, 1)}
	if newRunner, ok := s.sup.opts.Kinds[cfg.Kind]; ok {
		s.spawnRunner(ctx, ls, inst, newRunner, cfg, why)
		return
	}

	env, err := buildEnv(cfg, s.sup.Config().SecretEnv, s.sup.opts.Env)
	if err != nil {
		s.startFailed(ctx, ls, err)
		return
	}
	if cfg.Ready.Notify {
		if env, err = s.notifyEnv(inst, env); err != nil {
			s.startFailed(ctx, ls, err)
			return
		}
	}
	dir := cfg.WorkingDir
	if dir == "" {
		dir = baseDir
	}
	path := cfg.Command[0]
	if !filepath.IsAbs(path) && filepath.Base(path) != path {
		path = filepath.Join(dir, path)
	}
	outR, outW, err := logcap.Pipe()
	if err != nil {
		s.startFailed(ctx, ls, err)
		return
	}
	errR, errW, err := logcap.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		s.startFailed(ctx, ls, err)
		return
	}
	var lines <-chan logcap.Line
	var unsubscribe func()
	if cfg.Ready.Log != "" {
		lines, unsubscribe = s.log.Subscribe()
	}
	p, err := s.sup.opts.Starter.Start(proc.Spec{
		Path:   path,
		Args:   cfg.Command,
		Env:    env,
		Dir:    dir,
		User:   cfg.User,
		Group:  cfg.Group,
		Stdout: outW,
		Stderr: errW,
		Tag:    s.sup.opts.Tag + "." + s.name + "." + strconv.Itoa(inst.n),
		Limits: kernelLimits(cfg.Limits),
	})
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		if unsubscribe != nil {
			unsubscribe()
		}
		if inst.notify != nil {
			inst.notify.Close()
		}
		if errors.Is(err, fs.ErrNotExist) {
			// The kernel says ENOENT for a missing working_dir too.
			if _, serr := os.Stat(dir); serr != nil {
				err = fmt.Errorf("working_dir: %w", serr)
			}
		}
		s.startFailed(ctx, ls, err)
		return
	}
	inst.p, inst.started = p, s.sup.opts.Clock.Now()
	ls.inst = inst
	s.setLive(true)
	for _, f := range [...]struct {
		r      *os.File
		stream string
	}{{outR, logcap.Stdout}, {errR, logcap.Stderr}} {
		inst.captured.Go(func() { s.log.Capture(f.r, f.stream) }) // it closes f.r at the end
	}
	if inst.notify != nil {
		go inst.notify.serve(ctx, inst.n, p.Pid(), s.notifyC, func(msg string, args ...any) {
			s.sup.opts.Logger.Warn(msg, append(args, "service", s.name)...)
		})
	}
	var oom chan proc.OOMWatch
	if w, ok := p.(oomWatcher); ok {
		// Read beside the wait, so that an exit is never noticed later.
		oom = make(chan proc.OOMWatch, 1)
		go func() { oom <- w.WatchOOM() }()
	}
	go func() {
		st, err := p.Wait()
		inst.done <- exitResult{state: st, err: err, oom: oom}
	}()

	desc, ok := describeReady(cfg.Ready)
	if !ok {
		s.running(ctx, ls, why)
		return
	}
	s.set(ctx, steward.StateStarting, p.Pid(), why+"; waiting until ready ("+desc+")")
	rctx, cancel := withClockTimeout(ctx, s.sup.opts.Clock, cfg.Ready.Timeout)
	inst.cancel = cancel
	go func() {
		if unsubscribe != nil {
			defer unsubscribe()
		}
		inst.ready <- checkReady(rctx, cfg, env, dir, s.sup.opts.Tag+"."+s.name+".ready", output{lines: lines, tail: s.log.Tail, since: inst.started})
	}()
}

// kernelLimits returns the limits the kernel is to enforce on a run, nil
// unless they say enforce: kernel.
func kernelLimits(l *config.Limits) *proc.Limits {
	if l == nil || l.Enforce != config.EnforceKernel {
		return nil
	}
	return &proc.Limits{Memory: l.Memory, CPU: l.CPU, Tasks: l.Tasks}
}

// startFailed handles an instance that could not be started: a final
// error fails the service, any other counts as a failed run.
func (s *service) startFailed(ctx context.Context, ls *loopState, err error) {
	s.mu.Lock()
	s.st.ExitCode = nil
	s.mu.Unlock()
	how := "start: " + err.Error()
	if finalStartError(err) {
		s.giveUp(ctx, ls, how+"; not retried")
		return
	}
	s.afterRun(ctx, ls, how, false, time.Time{})
}

// readied handles the outcome of the current instance's readiness check.
func (s *service) readied(ctx context.Context, ls *loopState, err error) {
	ls.inst.cancel()
	if s.status().State != steward.StateStarting {
		return
	}
	if err == nil {
		s.running(ctx, ls, "ready")
		return
	}
	ls.inst.notReady = "not ready: " + err.Error()
	ls.inst.probe = ls.inst.notReady
	s.set(ctx, steward.StateStopping, ls.inst.p.Pid(), ls.inst.notReady)
	s.killTree(ls.inst)
}

// running makes the current instance running: its health checks begin,
// and when it was restarted after a crash, a timer of restart.stable
// ends the crashing once it keeps running that long.
func (s *service) running(ctx context.Context, ls *loopState, why string) {
	s.set(ctx, steward.StateRunning, ls.inst.p.Pid(), why)
	s.startHealth(ctx, ls.inst)
	s.mu.Lock()
	crashing, stable := s.crashing, s.cfg.Restart.Stable
	s.mu.Unlock()
	if crashing {
		stopTimer(&ls.stable)
		ls.stable = s.sup.opts.Clock.NewTimer(stable)
	}
	if ls.restarted {
		ls.restarted = false
		s.restartDependents()
	}
}
