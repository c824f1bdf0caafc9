// Package supervise runs the services of a configuration: it starts them in
// dependency order once each dependency meets its condition (started, ready,
// healthy or completed), restarts them by policy with exponential backoff and
// restart intensity, stops them dependents-first, and applies a new
// configuration as a diff. Every state change is recorded as an event before
// anyone else can see it. Processes start through a Starter and time comes
// from a Clock, so that tests can drive it with fakes. It is imported by the
// daemon wiring.
package supervise

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/clock"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/logcap"
)

// Recorder stores an event and then publishes it.
type Recorder interface {
	Record(ctx context.Context, ev steward.Event) (steward.Event, error)
}

// Options configure a Supervisor.
type Options struct {
	Events Recorder
	// LogDir holds each service's captured output.
	LogDir string
	// Tag prefixes the marker every child carries in its environment
	// (STEWARD_TAG), so the trees of this run can be told from others'.
	Tag    string
	Logger *slog.Logger
	// Clock is the time the supervisor goes by; nil means the system clock.
	Clock Clock
	// Starter starts the process trees of services; nil means proc.Start.
	Starter Starter
	// Kinds makes the runners of the built-in kinds, by kind name: a
	// service of such a kind runs in steward's process instead of as a
	// process.
	Kinds map[string]NewRunner
	// Env, when set, gives a service's processes environment entries of
	// steward's (the bus's NATS_URL), which its env_file and env override.
	Env func(service string) []string
	// Monitor, when set, hears of services failing, crash-looping, turning
	// unhealthy and exceeding limits (with action alert).
	Monitor Monitor
	// Exits, when set, takes the record of every exit of a service.
	Exits ExitSink
	// Exit, when set, is called when a service with on_exit: exit ends:
	// steward is to stop every service and exit with code. Without it,
	// on_exit: exit stops every service as stop-all does.
	Exit func(service string, code int)
}

// Supervisor runs a set of services. It is safe for concurrent use.
type Supervisor struct {
	opts Options
	ctx  context.Context // lives until Close; parent of every service loop

	mu       sync.Mutex
	cfg      *config.Config
	services map[string]*service
	closed   bool
	wg       sync.WaitGroup // service loops
	// cleanups are the kills of what is left of a tree after its main
	// process exited; Close waits for them, so steward never exits
	// before they are done.
	cleanups sync.WaitGroup
	cancel   context.CancelFunc
	conds    chan condition // to the Monitor
}

// New returns a Supervisor for cfg's services. Nothing starts until Start.
func New(cfg *config.Config, opts Options) (*Supervisor, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Clock == nil {
		opts.Clock = clock.System{}
	}
	if opts.Starter == nil {
		opts.Starter = procStarter{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Supervisor{opts: opts, ctx: ctx, cancel: cancel, cfg: cfg, services: map[string]*service{}}
	if opts.Monitor != nil {
		s.conds = make(chan condition, 256)
		s.wg.Go(s.monitorLoop)
	}
	for _, name := range cfg.Order {
		if err := s.add(cfg, name); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// add creates the service name of cfg and its loop. Callers hold s.mu or
// have not shared s yet.
func (s *Supervisor) add(cfg *config.Config, name string) error {
	sc := cfg.Services[name]
	svc := newService(s, sc, filepath.Dir(cfg.File))
	opts := logRotation(sc.Logs)
	opts.Dir, opts.Name, opts.Ring, opts.OnFile = s.opts.LogDir, name, config.DefaultLogRing, svc.logFileChanged
	opts.OnError = func(err error) { s.opts.Logger.Warn("rotated logs", "service", name, "err", err) }
	lg, err := logcap.Open(opts)
	if err != nil {
		return fmt.Errorf("open log of %s: %w", name, err)
	}
	svc.log = lg
	s.services[name] = svc
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		svc.loop(s.ctx)
	}()
	return nil
}

// logRotation returns the rotation options of a service's logs config.
func logRotation(l config.Logs) logcap.Options {
	return logcap.Options{MaxSize: l.MaxSize, Keep: l.Keep, Every: l.Every, MaxAge: l.MaxAge, MaxTotal: l.MaxTotal, Compress: l.Compress}
}

// Config returns the configuration the supervisor runs now.
func (s *Supervisor) Config() *config.Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg
}

// lookup returns the services named, or ENOTFOUND naming the first unknown
// one. No names means every service in name order.
func (s *Supervisor) lookup(names []string) ([]*service, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(names) == 0 {
		all := make([]*service, 0, len(s.services))
		for _, svc := range s.services {
			all = append(all, svc)
		}
		slices.SortFunc(all, func(a, b *service) int { return cmp.Compare(a.name, b.name) })
		return all, nil
	}
	out := make([]*service, 0, len(names))
	for _, n := range names {
		svc, ok := s.services[n]
		if !ok {
			return nil, steward.Errorf(steward.ENOTFOUND, "no service %q", n)
		}
		out = append(out, svc)
	}
	return out, nil
}

// service returns the named service or nil.
func (s *Supervisor) service(name string) *service {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.services[name]
}

// List returns the status of every service, sorted by name.
func (s *Supervisor) List() []steward.ServiceStatus {
	svcs, _ := s.lookup(nil)
	out := make([]steward.ServiceStatus, len(svcs))
	for i, svc := range svcs {
		out[i] = svc.status()
	}
	return out
}

// Get returns the status of the named service.
func (s *Supervisor) Get(name string) (steward.ServiceStatus, error) {
	svc := s.service(name)
	if svc == nil {
		return steward.ServiceStatus{}, steward.Errorf(steward.ENOTFOUND, "no service %q", name)
	}
	return svc.status(), nil
}

// Log returns the captured output of the named service.
func (s *Supervisor) Log(name string) (*logcap.Log, error) {
	svc := s.service(name)
	if svc == nil {
		return nil, steward.Errorf(steward.ENOTFOUND, "no service %q", name)
	}
	return svc.log, nil
}

// StartAll asks every enabled service to start, each once its dependencies
// are ready, and returns without waiting for them.
func (s *Supervisor) StartAll() {
	svcs, _ := s.lookup(nil)
	s.requestStarts(slices.DeleteFunc(svcs, func(svc *service) bool { return svc.config().Disabled }))
}

// requestStarts asks svcs and every service they depend on, directly or
// not, to start. It asks layer by layer of the dependency graph, so that a
// dependent waiting for a dependency never sees it stopped, and in parallel
// within a layer.
func (s *Supervisor) requestStarts(svcs []*service) {
	depth := map[*service]int{}
	var visit func(svc *service) int
	visit = func(svc *service) int {
		if d, ok := depth[svc]; ok {
			return d
		}
		depth[svc] = 0 // the config has no cycles; this only ends recursion
		d := 0
		for _, name := range svc.config().DependsOn {
			if dep := s.service(name); dep != nil {
				d = max(d, visit(dep)+1)
			}
		}
		depth[svc] = d
		return d
	}
	var layers [][]*service
	for _, svc := range svcs {
		visit(svc)
	}
	for svc, d := range depth {
		for len(layers) <= d {
			layers = append(layers, nil)
		}
		layers[d] = append(layers[d], svc)
	}
	for _, layer := range layers {
		var wg sync.WaitGroup
		for _, svc := range layer {
			wg.Go(svc.requestStart)
		}
		wg.Wait()
	}
}

// Start starts the named services (no names: every enabled one) and the
// services they depend on, and waits until each named one is running or
// exited, or has failed to start.
func (s *Supervisor) Start(ctx context.Context, names []string) error {
	svcs, err := s.lookup(names)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		svcs = slices.DeleteFunc(svcs, func(svc *service) bool { return svc.config().Disabled })
	}
	s.requestStarts(svcs)
	return waitAll(ctx, svcs, (*service).waitStarted)
}

// Stop stops the named services (no names: every service, dependents
// before their dependencies) and waits until they have stopped.
func (s *Supervisor) Stop(ctx context.Context, names []string) error {
	svcs, err := s.lookup(names)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return s.stopInOrder(ctx, svcs)
	}
	for _, svc := range svcs {
		svc.sendWhy(reqStop, stopWhy(ctx))
	}
	return waitAll(ctx, svcs, (*service).waitStopped)
}

// stopInOrder stops svcs in parallel, each only once every service of svcs
// that depends on it has stopped.
func (s *Supervisor) stopInOrder(ctx context.Context, svcs []*service) error {
	dependents := map[string][]*service{}
	for _, svc := range svcs {
		for _, d := range svc.config().DependsOn {
			dependents[d] = append(dependents[d], svc)
		}
	}
	errs := make([]error, len(svcs))
	var wg sync.WaitGroup
	for i, svc := range svcs {
		wg.Go(func() {
			for _, dep := range dependents[svc.name] {
				if err := dep.waitStopped(ctx); err != nil {
					errs[i] = err
					return
				}
			}
			svc.sendWhy(reqStop, stopWhy(ctx))
			errs[i] = svc.waitStopped(ctx)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Restart stops and starts the named services (no names: every active
// one): it stops them dependents first, as Stop does, then starts them in
// dependency order.
func (s *Supervisor) Restart(ctx context.Context, names []string) error {
	svcs, err := s.lookup(names)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		svcs = slices.DeleteFunc(svcs, func(svc *service) bool { return !svc.status().State.Active() })
	}
	if err := s.stopInOrder(ctx, svcs); err != nil {
		return err
	}
	s.requestStarts(svcs)
	return waitAll(ctx, svcs, (*service).waitStarted)
}

// Apply makes the supervisor run cfg: services that are unchanged keep
// running untouched, removed ones stop, changed ones stop and start again
// with their new configuration (if they were active or are new), and added
// ones start. cfg must be valid. Starting follows dependency readiness as
// at start-up; Apply returns once removed and changed services have stopped.
func (s *Supervisor) Apply(ctx context.Context, cfg *config.Config) (config.Diff, error) {
	s.mu.Lock()
	old := s.cfg
	s.mu.Unlock()
	diff := config.Compare(old, cfg)

	var gone, changed []*service
	for _, n := range diff.Removed {
		gone = append(gone, s.service(n))
	}
	for _, n := range diff.Changed {
		changed = append(changed, s.service(n))
	}
	restart := map[string]bool{}
	for _, svc := range changed {
		restart[svc.name] = svc.status().State.Active()
	}
	if err := s.stopInOrder(ctx, append(slices.Clone(gone), changed...)); err != nil {
		return diff, fmt.Errorf("stop services for the new config: %w", err)
	}

	s.mu.Lock()
	s.cfg = cfg
	for _, svc := range gone {
		delete(s.services, svc.name)
		svc.retire()
		if err := svc.log.Close(); err != nil {
			s.opts.Logger.Warn("close log", "service", svc.name, "err", err)
		}
	}
	for _, svc := range changed {
		sc := cfg.Services[svc.name]
		svc.setConfig(sc, filepath.Dir(cfg.File))
		if err := svc.log.SetRotation(logRotation(sc.Logs)); err != nil {
			s.opts.Logger.Warn("log rotation", "service", svc.name, "err", err)
		}
	}
	var added []*service
	var err error
	for _, n := range diff.Added {
		if err = s.add(cfg, n); err != nil {
			break
		}
		added = append(added, s.services[n])
	}
	s.mu.Unlock()
	if err != nil {
		return diff, err
	}

	var start []*service
	for _, svc := range changed {
		if restart[svc.name] && !svc.config().Disabled {
			start = append(start, svc)
		}
	}
	for _, svc := range added {
		if !svc.config().Disabled {
			start = append(start, svc)
		}
	}
	s.requestStarts(start)
	return diff, nil
}

// Shutdown stops every service, dependents before their dependencies, and
// waits for them until ctx ends.
func (s *Supervisor) Shutdown(ctx context.Context) error {
	svcs, _ := s.lookup(nil)
	return s.stopInOrder(ctx, svcs)
}

// Close ends every service loop and closes the logs. Services still running
// are killed; call Shutdown first for an orderly stop.
func (s *Supervisor) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	s.cleanups.Wait()
	var errs []error
	for _, svc := range s.services {
		errs = append(errs, svc.log.Close())
	}
	return errors.Join(errs...)
}

// waitAll runs wait for each service in parallel and joins the errors.
func waitAll(ctx context.Context, svcs []*service, wait func(*service, context.Context) error) error {
	errs := make([]error, len(svcs))
	var wg sync.WaitGroup
	for i, svc := range svcs {
		wg.Go(func() { errs[i] = wait(svc, ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}
