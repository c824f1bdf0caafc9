package supervise

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/logcap"
	"github.com/stewardhq/steward/internal/proc"
)

// service is one supervised service. Its loop goroutine owns the process
// and every decision; other goroutines send it requests and read its
// status, which only the loop writes.
type service struct {
	name string
	sup  *Supervisor
	log  *logcap.Log
	reqs chan request

	mu      sync.Mutex
	cfg     *config.Service
	baseDir string // resolves a relative working_dir default and command path
	st      steward.ServiceStatus
	changed chan struct{} // closed and replaced at every status change

	healthC  chan healthResult // health changes, to the loop
	limits   limitState        // owned by the caller of SetUsage
	crashGen int               // unexpected exits so far; under mu
	crashing bool              // the last exit was unexpected and no stable run followed; under mu
}

type requestKind int

const (
	reqStart requestKind = iota
	reqStop
	reqRetire
	reqRecycle // stop the running instance and start again
)

type request struct {
	kind requestKind
	why  string        // the reason of a stop or recycle; "" for the default
	done chan struct{} // closed once the loop has acted on the request
}

// instance is one run of the service's process.
type instance struct {
	n       int
	p       process
	started time.Time
	cancel  context.CancelFunc // ends its readiness check
	done    chan exitResult    // receives the exit of the main process
	ready   chan error         // receives the outcome of the readiness check
	// failReason, when set, makes the instance's exit final: the service
	// becomes failed with this reason instead of following its policy.
	failReason string
	healthStop context.CancelFunc // ends its health checks
}

type exitResult struct {
	state   *os.ProcessState
	err     error
	builtin bool // the end of a built-in kind's Runner
}

// clean reports whether the instance finished successfully: exit status
// 0, or a Runner that returned nil.
func (e exitResult) clean() bool {
	if e.builtin {
		return e.err == nil
	}
	return e.state != nil && e.state.ExitCode() == 0
}

type depsResult struct {
	gen int
	err error
}

func newService(sup *Supervisor, cfg *config.Service, lg *logcap.Log, baseDir string) *service {
	return &service{
		name:    cfg.Name,
		sup:     sup,
		log:     lg,
		reqs:    make(chan request),
		cfg:     cfg,
		baseDir: baseDir,
		st: steward.ServiceStatus{
			Name:      cfg.Name,
			Kind:      cfg.Kind,
			State:     steward.StateStopped,
			Health:    steward.HealthUnknown,
			Since:     sup.opts.Now().UTC(),
			DependsOn: cfg.DependsOn,
		},
		changed: make(chan struct{}),
		healthC: make(chan healthResult),
	}
}

func (s *service) config() *config.Service {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg
}

// setConfig replaces the configuration of a stopped service.
func (s *service) setConfig(cfg *config.Service, baseDir string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg = cfg
	s.baseDir = baseDir
	s.st.Kind = cfg.Kind
	s.st.DependsOn = cfg.DependsOn
}

func (s *service) status() steward.ServiceStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st
}

// send hands a request to the loop and waits until it has acted on it.
func (s *service) send(kind requestKind) { s.sendWhy(kind, "") }

// sendWhy is send with the reason for a stop or recycle.
func (s *service) sendWhy(kind requestKind, why string) {
	r := request{kind: kind, why: why, done: make(chan struct{})}
	select {
	case s.reqs <- r:
		<-r.done
	case <-s.sup.ctx.Done():
	}
}

func (s *service) requestStart() { s.send(reqStart) }
func (s *service) requestStop()  { s.send(reqStop) }
func (s *service) retire()       { s.send(reqRetire) }

// waitFor waits until cond, given the current status, says done.
func (s *service) waitFor(ctx context.Context, cond func(steward.ServiceStatus) (bool, error)) error {
	for {
		s.mu.Lock()
		st, ch := s.st, s.changed
		s.mu.Unlock()
		if done, err := cond(st); done {
			return err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("%s is %s: %w", s.name, st.State, ctx.Err())
		}
	}
}

// waitStarted waits until the service runs (and is ready) or has exited,
// and fails when it stops or fails instead.
func (s *service) waitStarted(ctx context.Context) error {
	return s.waitFor(ctx, func(st steward.ServiceStatus) (bool, error) {
		switch st.State {
		case steward.StateRunning, steward.StateExited:
			return true, nil
		case steward.StateFailed, steward.StateStopped:
			return true, steward.Errorf(steward.ECONFLICT, "%s %s: %s", s.name, st.State, st.Reason)
		}
		return false, nil
	})
}

// waitStopped waits until the service has no process and none is coming.
func (s *service) waitStopped(ctx context.Context) error {
	return s.waitFor(ctx, func(st steward.ServiceStatus) (bool, error) {
		return !st.State.Active() && st.State != steward.StateStopping, nil
	})
}

// waitDependency waits until the service can serve as a ready dependency.
func (s *service) waitDependency(ctx context.Context) error {
	return s.waitFor(ctx, func(st steward.ServiceStatus) (bool, error) {
		switch st.State {
		case steward.StateRunning, steward.StateExited:
			return true, nil
		case steward.StateFailed, steward.StateStopped:
			return true, fmt.Errorf("dependency %s %s: %s", s.name, st.State, st.Reason)
		}
		return false, nil
	})
}

// loopState is what the loop goroutine owns.
type loopState struct {
	want     bool // a start was asked for and no stop since
	spawnNow bool // begin is to spawn once the request is answered
	inst     *instance
	count    int // instances started, for tags
	deps     chan depsResult
	depsGen  int // current dependency wait; older results are stale
	depsStop context.CancelFunc
	backoff  *time.Timer
	killAt   *time.Timer
	history  []time.Time // restarts within the window
	failures int         // consecutive unstable runs, for backoff
}

func (s *service) loop(ctx context.Context) {
	ls := &loopState{deps: make(chan depsResult, 1)}
	defer s.shutdown(ls)
	for {
		var backoffC, killC <-chan time.Time
		var exitC <-chan exitResult
		var readyC <-chan error
		if ls.inst != nil {
			exitC, readyC = ls.inst.done, ls.inst.ready
		}
		if ls.backoff != nil {
			backoffC = ls.backoff.C
		}
		if ls.killAt != nil {
			killC = ls.killAt.C
		}
		if ls.spawnNow {
			ls.spawnNow = false
			if ls.want && ls.inst == nil && s.status().State == steward.StateStarting {
				s.spawn(ctx, ls, "started")
			}
			continue
		}
		select {
		case <-ctx.Done():
			return
		case r := <-s.reqs:
			retire := s.handle(ctx, ls, r)
			close(r.done)
			if retire {
				return
			}
		case e := <-exitC:
			s.exited(ctx, ls, e)
		case err := <-readyC:
			s.readied(ctx, ls, err)
		case h := <-s.healthC:
			s.healthChanged(ctx, ls, h)
		case d := <-ls.deps:
			if d.gen == ls.depsGen && ls.want && s.status().State == steward.StateStarting && ls.inst == nil {
				ls.depsStop()
				ls.depsStop = nil
				if d.err != nil {
					s.set(ctx, steward.StateFailed, 0, d.err.Error())
					ls.want = false
				} else {
					s.spawn(ctx, ls, "dependencies ready")
				}
			}
		case <-backoffC:
			ls.backoff = nil
			s.spawn(ctx, ls, "backoff over")
		case <-killC:
			ls.killAt = nil
			if ls.inst != nil {
				s.killTree(ls.inst)
			}
		}
	}
}

// handle acts on a request; it reports whether the loop should end.
func (s *service) handle(ctx context.Context, ls *loopState, r request) bool {
	state := s.status().State
	switch r.kind {
	case reqStart:
		ls.want = true
		switch state {
		case steward.StateStopped, steward.StateFailed, steward.StateExited:
			ls.history, ls.failures = nil, 0
			s.begin(ctx, ls)
		}
		// starting, running, backoff: already on its way; stopping: ls.want
		// makes it start again once stopped.
	case reqStop:
		ls.want = false
		s.stop(ctx, ls, cmpOr(r.why, "stop requested"))
	case reqRecycle:
		if state == steward.StateRunning {
			s.recycle(ctx, ls, r.why)
		}
	case reqRetire:
		ls.want = false
		s.stop(ctx, ls, "removed from config")
		return true
	}
	return false
}

// begin starts the service once its dependencies are ready.
func (s *service) begin(ctx context.Context, ls *loopState) {
	deps := s.config().DependsOn
	if len(deps) == 0 {
		s.set(ctx, steward.StateStarting, 0, "start requested")
		ls.spawnNow = true
		return
	}
	s.set(ctx, steward.StateStarting, 0, "waiting for "+strings.Join(deps, ", "))
	ls.depsGen++
	gen := ls.depsGen
	dctx, cancel := context.WithCancel(ctx)
	ls.depsStop = cancel
	go func() {
		var err error
		for _, d := range deps {
			dep := s.sup.service(d)
			if dep == nil {
				err = fmt.Errorf("dependency %s does not exist", d)
				break
			}
			if err = dep.waitDependency(dctx); err != nil {
				break
			}
		}
		select {
		case ls.deps <- depsResult{gen: gen, err: err}:
		case <-dctx.Done():
		}
	}()
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

	env, err := buildEnv(cfg)
	if err != nil {
		s.giveUp(ctx, ls, "start: "+err.Error())
		return
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
		s.giveUp(ctx, ls, "start: "+err.Error())
		return
	}
	errR, errW, err := logcap.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		s.giveUp(ctx, ls, "start: "+err.Error())
		return
	}
	var lines <-chan logcap.Line
	var unsubscribe func()
	if cfg.Ready.Log != "" {
		lines, unsubscribe = s.log.Subscribe()
	}
	p, err := proc.Start(proc.Spec{
		Path:   path,
		Args:   cfg.Command,
		Env:    env,
		Dir:    dir,
		User:   cfg.User,
		Group:  cfg.Group,
		Stdout: outW,
		Stderr: errW,
		Tag:    s.sup.opts.Tag + "." + s.name + "." + strconv.Itoa(inst.n),
	})
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		if unsubscribe != nil {
			unsubscribe()
		}
		s.giveUp(ctx, ls, "start: "+err.Error())
		return
	}
	inst.p, inst.started = p, s.sup.opts.Now()
	ls.inst = inst
	for _, f := range [...]struct {
		r      *os.File
		stream string
	}{{outR, logcap.Stdout}, {errR, logcap.Stderr}} {
		go s.log.Capture(f.r, f.stream) // it closes f.r at the end
	}
	go func() {
		st, err := p.Wait()
		inst.done <- exitResult{state: st, err: err}
	}()

	desc, ok := describeReady(cfg.Ready)
	if !ok {
		s.set(ctx, steward.StateRunning, p.Pid(), why)
		s.startHealth(ctx, inst)
		return
	}
	s.set(ctx, steward.StateStarting, p.Pid(), why+"; waiting until ready ("+desc+")")
	rctx, cancel := context.WithTimeout(ctx, cfg.Ready.Timeout)
	inst.cancel = cancel
	go func() {
		if unsubscribe != nil {
			defer unsubscribe()
		}
		inst.ready <- checkReady(rctx, cfg, env, dir, s.sup.opts.Tag+"."+s.name+".ready", output{lines: lines, tail: s.log.Tail, since: inst.started})
	}()
}

// readied handles the outcome of the current instance's readiness check.
func (s *service) readied(ctx context.Context, ls *loopState, err error) {
	ls.inst.cancel()
	if s.status().State != steward.StateStarting {
		return
	}
	if err == nil {
		s.set(ctx, steward.StateRunning, ls.inst.p.Pid(), "ready")
		s.startHealth(ctx, ls.inst)
		return
	}
	ls.inst.failReason = "not ready: " + err.Error()
	ls.want = false
	s.set(ctx, steward.StateStopping, ls.inst.p.Pid(), ls.inst.failReason)
	s.killTree(ls.inst)
}

// stop ends the service: the stop signal to its process group and a kill
// of its tree after stop.timeout; or, with no process, straight to stopped.
func (s *service) stop(ctx context.Context, ls *loopState, why string) {
	if ls.depsStop != nil {
		ls.depsStop()
		ls.depsStop = nil
	}
	if ls.backoff != nil {
		ls.backoff.Stop()
		ls.backoff = nil
	}
	st := s.status()
	if ls.inst == nil {
		if st.State == steward.StateStarting || st.State == steward.StateBackoff {
			s.set(ctx, steward.StateStopped, 0, why)
		}
		return
	}
	if st.State == steward.StateStopping {
		return
	}
	cfg := s.config()
	s.set(ctx, steward.StateStopping, ls.inst.p.Pid(), why)
	if err := ls.inst.p.Signal(cfg.Stop.Signal); err != nil {
		s.sup.opts.Logger.Warn("stop signal", "service", s.name, "err", err)
		s.killTree(ls.inst)
		return
	}
	ls.killAt = time.NewTimer(cfg.Stop.Timeout)
}

// exited handles the end of an instance's main process.
func (s *service) exited(ctx context.Context, ls *loopState, e exitResult) {
	inst := ls.inst
	if inst.cancel != nil {
		inst.cancel()
	}
	s.stopHealth(inst)
	// The rest of the tree goes with its main process, as systemd does.
	s.sup.cleanups.Go(func() { s.killTree(inst) })
	ls.inst = nil
	if ls.killAt != nil {
		ls.killAt.Stop()
		ls.killAt = nil
	}
	how := describeExit(e.state, e.err)
	if e.builtin {
		how = "finished"
		if e.err != nil {
			how = "failed: " + e.err.Error()
		}
	}
	code := exitCode(e.state)
	s.mu.Lock()
	s.st.ExitCode = code
	s.mu.Unlock()

	state := s.status().State
	switch {
	case inst.failReason != "":
		s.set(ctx, steward.StateFailed, 0, inst.failReason)
		return
	case state == steward.StateStopping:
		s.set(ctx, steward.StateStopped, 0, "stopped ("+how+")")
		if ls.want {
			s.begin(ctx, ls)
		}
		return
	}

	cfg := s.config()
	clean := e.clean()
	switch {
	case cfg.Restart.Policy == config.RestartNever || (clean && cfg.Restart.Policy == config.RestartOnFailure):
		ls.want = false
		if clean {
			s.set(ctx, steward.StateExited, 0, how)
		} else {
			s.set(ctx, steward.StateFailed, 0, how+"; restart policy "+cfg.Restart.Policy)
		}
		return
	}

	now := s.sup.opts.Now()
	if now.Sub(inst.started) >= cfg.Restart.Stable {
		ls.failures = 0
	}
	ls.failures++
	cut := now.Add(-cfg.Restart.Window)
	ls.history = slicesDeleteBefore(ls.history, cut)
	if len(ls.history) >= cfg.Restart.MaxRestarts {
		ls.want = false
		s.set(ctx, steward.StateFailed, 0, fmt.Sprintf("%s; restart intensity exceeded: %d restarts within %s",
			how, len(ls.history), cfg.Restart.Window))
		return
	}
	ls.history = append(ls.history, now)
	s.mu.Lock()
	s.st.Restarts++
	restarts := s.st.Restarts
	s.mu.Unlock()
	s.crashed(how, restarts)

	delay := backoffDelay(cfg.Restart, ls.failures)
	if delay <= 0 {
		s.spawn(ctx, ls, how+"; restarting")
		return
	}
	s.set(ctx, steward.StateBackoff, 0, fmt.Sprintf("%s; restarting in %s", how, delay.Round(time.Millisecond)))
	ls.backoff = time.NewTimer(delay)
}

// giveUp marks a start that cannot succeed as failed.
func (s *service) giveUp(ctx context.Context, ls *loopState, why string) {
	ls.want = false
	s.set(ctx, steward.StateFailed, 0, why)
}

// killTree kills what is left of an instance's process tree.
func (s *service) killTree(inst *instance) {
	if err := inst.p.KillTree(); err != nil {
		s.sup.opts.Logger.Warn("kill process tree", "service", s.name, "pid", inst.p.Pid(), "err", err)
	}
}

// shutdown runs when the loop ends: nothing of the service may survive it.
func (s *service) shutdown(ls *loopState) {
	if ls.depsStop != nil {
		ls.depsStop()
	}
	if ls.backoff != nil {
		ls.backoff.Stop()
	}
	if ls.killAt != nil {
		ls.killAt.Stop()
	}
	if ls.inst != nil {
		if ls.inst.cancel != nil {
			ls.inst.cancel()
		}
		s.stopHealth(ls.inst)
		s.killTree(ls.inst)
		<-ls.inst.done
	}
}

// set records a state change as an event, then makes it visible.
func (s *service) set(ctx context.Context, state steward.State, pid int, reason string) {
	from := s.status().State
	ev := steward.Event{
		Time:    s.sup.opts.Now().UTC(),
		Type:    steward.EventState,
		Service: s.name,
		From:    from,
		To:      state,
		PID:     pid,
		Reason:  reason,
	}
	if s.sup.opts.Events != nil {
		if _, err := s.sup.opts.Events.Record(context.WithoutCancel(ctx), ev); err != nil {
			s.sup.opts.Logger.Error("record event", "service", s.name, "err", err)
		}
	}
	s.mu.Lock()
	s.st.State, s.st.PID, s.st.Reason, s.st.Since = state, pid, reason, ev.Time
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
	s.stateChanged(state, pid, reason)
}

func (s *service) snapshotConfig() (*config.Service, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg, s.baseDir
}

// backoffDelay is the wait before restart number failures (1-based) in a
// row: backoff doubled each time up to max_backoff, with equal jitter (half
// fixed, half random) so restarts of many services spread out.
func backoffDelay(r config.Restart, failures int) time.Duration {
	if r.Backoff <= 0 {
		return 0
	}
	d := r.Backoff
	for i := 1; i < failures && d < r.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, r.MaxBackoff)
	half := d / 2
	return half + rand.N(d-half+1)
}

func cmpOr(s, def string) string {
	if s != "" {
		return s
	}
	return def
}

func slicesDeleteBefore(ts []time.Time, cut time.Time) []time.Time {
	i := 0
	for i < len(ts) && ts[i].Before(cut) {
		i++
	}
	return ts[i:]
}

func describeExit(st *os.ProcessState, err error) string {
	switch {
	case st != nil:
		return st.String()
	case err != nil:
		return "wait: " + err.Error()
	}
	return "exited"
}

func exitCode(st *os.ProcessState) *int {
	if st == nil || st.ExitCode() < 0 {
		return nil
	}
	c := st.ExitCode()
	return &c
}
