// Package daemon wires steward's parts into one running system: the store,
// the event recorder, the supervisor and the API listeners. It owns the
// applied configuration, its history and live reload. cmd/steward builds it;
// nothing else imports it.
package daemon

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/auth"
	"github.com/stewardhq/steward/internal/backup"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/events"
	"github.com/stewardhq/steward/internal/ipc"
	"github.com/stewardhq/steward/internal/kinds"
	"github.com/stewardhq/steward/internal/lockfile"
	"github.com/stewardhq/steward/internal/proc"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/supervise"
)

// Options configure a Daemon.
type Options struct {
	Version string
	// Kinds are the kinds of service besides exec, those the configuration
	// was parsed with: the daemon builds their runtimes and parses the
	// configurations of reloads with their schemas.
	Kinds  kinds.Registry
	Logger *slog.Logger
	// Ready, when set, is called once the API serves and the services have
	// been asked to start: the moment to report "running" to an OS service
	// manager.
	Ready func()
	// IdleTimeout closes a connection of the API that has gone that long
	// without a request; zero means 60 s.
	IdleTimeout time.Duration
}

// Daemon is one running steward. Its methods are safe for concurrent use.
type Daemon struct {
	opts    Options
	started time.Time
	store   *store.Store
	events  *events.Recorder
	sup     *supervise.Supervisor
	api     *api.Server
	mon     *monitoring
	notes   *notifications
	bus     *busHost
	runs    *runs
	tokens  *auth.Tokens // the API tokens, without the bootstrap one
	local   *auth.Local  // the roles of the local endpoint's callers
	audit   *auth.Log
	// auditHolds is whether the audit log verified as steward started:
	// checkpoints are signed only then.
	auditHolds atomic.Bool
	auditWake  chan struct{}  // a reload changed audit.checkpoint.every
	lock       *lockfile.File // the data dir's; held until Close
	exits      *exitJournal
	exitC      chan *ExitStatus // a service with on_exit: exit ended

	applyMu sync.Mutex // serializes configuration changes, the shutdown and Close
	served  []served   // the API's listeners; guarded by applyMu
	closing bool       // no configuration change begins any more; guarded by applyMu
	closed  bool       // Close ran; guarded by applyMu
	mu      sync.Mutex
	cfg     *config.Config
	version int
}

// New locks the data dir — a steward already running on it is an error
// naming its PID —, removes what an earlier steward on it killed with
// SIGKILL left behind, opens the store, records the sweep and, when cfg
// differs from the last config version, cfg, and prepares the supervisor.
// Nothing runs until Run; Close releases a Daemon that is never run.
func New(ctx context.Context, cfg *config.Config, opts Options) (_ *Daemon, err error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	d := &Daemon{opts: opts, started: time.Now(), cfg: cfg}
	if err := makeDataDir(cfg.DataDir); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	if d.lock, err = lockDataDir(cfg.DataDir); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	if err := proc.Prepare(); err != nil {
		return nil, fmt.Errorf("prepare process control: %w", err)
	}
	run := runTag(cfg.DataDir)
	swept := sweep(cfg.DataDir, run, opts.Logger)
	if len(swept.pids) > 0 {
		opts.Logger.Warn(swept.reason())
	}

	d.store, err = store.Open(ctx, filepath.Join(cfg.DataDir, "steward.db"))
	if err != nil {
		return nil, err
	}
	d.events = events.NewRecorder(d.store, events.WithLogger(opts.Logger))
	if len(swept.pids) > 0 {
		d.record(ctx, swept.reason())
	}
	d.version, err = d.recordVersion(ctx, cfg, "startup")
	if err != nil {
		return nil, err
	}
	d.notes, err = newNotifications(cfg, d.store, d.events, opts.Logger)
	if err != nil {
		return nil, err
	}
	d.mon, err = newMonitoring(ctx, cfg, opts.Kinds, d.store, d.events, opts.Logger, opts.Version, run, d.notes.alert)
	if err != nil {
		return nil, err
	}
	d.notes.firing = d.mon.firing
	d.bus = newBusHost(cfg.DataDir, d.events, opts.Logger)
	fleet := &fleetHost{d: d, bus: d.bus}
	d.bus.ready = d.busReady(fleet)
	d.exits = newExitJournal(d.store, opts.Logger)
	d.exitC = make(chan *ExitStatus, 1)
	d.auditWake = make(chan struct{}, 1)
	d.sup, err = supervise.New(cfg, supervise.Options{
		Env:     d.bus.env,
		Events:  d.events,
		LogDir:  filepath.Join(cfg.DataDir, "logs"),
		Tag:     run,
		Logger:  opts.Logger,
		Kinds:   d.mon.kinds,
		Monitor: d.mon.alerts,
		Exits:   d.exits,
		Exit: func(svc string, code int) {
			select {
			case d.exitC <- &ExitStatus{Service: svc, Code: code}:
			default: // another one is ending steward already
			}
		},
	})
	if err != nil {
		return nil, err
	}
	d.runs, err = newRuns(ctx, d.store, d.mon.alerts, d.sup, d.events, runBus{d.bus}, reports{d}.job, d.mon.workbooks, run, opts.Logger)
	if err != nil {
		return nil, err
	}
	d.tokens = &auth.Tokens{Store: d.store}
	d.local = auth.NewLocal(os.Getuid(), localRules(cfg))
	if d.audit, err = openAudit(cfg.DataDir, d.store); err != nil {
		return nil, err
	}
	d.api = api.New(api.Options{
		Services:      services{d.sup, d.store},
		Events:        d.events,
		Configs:       d,
		Alerts:        d.mon.alerts,
		Metrics:       d.mon.history,
		Checks:        d.mon.checks,
		Prometheus:    d.mon.export,
		Notifications: d.notes,
		Bus:           d.bus,
		Runs:          d.runs,
		Fleet:         fleet,
		Backups:       &backup.Catalog{Config: d.Current},
		OSServices:    osServices{},
		Workbooks:     d.mon.workbooks,
		Node:          cfg.Node,
		Version:       opts.Version,
		Started:       d.started,
		Logger:        opts.Logger,
		Forensics:     services{d.sup, d.store},
		Reports:       reports{d},
		Platform:      d.platform,
		Local:         d.local,
		Tokens:        d.tokens,
		Audit:         auditLog{d.audit, d},
	})
	return d, nil
}

// Run serves the API, starts the services and blocks until ctx ends; then
// it lets a configuration change under way finish, stops every service in
// dependency order within the ShutdownTimeout of the services in force,
// and closes everything (Close).
func (d *Daemon) Run(ctx context.Context) error {
	defer func() {
		if err := d.Close(); err != nil {
			d.opts.Logger.Error("close", "err", err)
		}
	}()
	d.applyMu.Lock()
	if d.closing {
		d.applyMu.Unlock()
		return errors.New("run: the daemon is closed")
	}
	var err error
	d.served, err = d.serve(d.Current())
	if err == nil {
		d.bus.start(d.Current()) // in the background: the services do not wait for it
	}
	d.applyMu.Unlock()
	if err != nil {
		return err
	}
	d.record(ctx, steward.ReasonStarted+" (pid "+fmt.Sprint(os.Getpid())+")")
	d.checkAudit(ctx)
	cpctx, stopCheckpoints := context.WithCancel(ctx)
	cpDone := make(chan struct{})
	go func() {
		defer close(cpDone)
		d.signCheckpoints(cpctx)
	}()
	d.notes.start(ctx)
	d.mon.start(d.sup)
	d.sup.StartAll()
	d.runs.start(ctx, d.Current())
	if d.opts.Ready != nil {
		d.opts.Ready()
	}
	var exit *ExitStatus
	select {
	case <-ctx.Done():
	case exit = <-d.exitC:
		d.opts.Logger.Info("a service with on_exit: exit ended; steward stops", "service", exit.Service, "code", exit.Code)
	}

	d.applyMu.Lock()
	d.closing = true
	timeout := ShutdownTimeout(d.sup.Config()) // the services it runs
	d.applyMu.Unlock()
	d.runs.stop() // no job acts on a service any more
	stopCheckpoints()
	<-cpDone
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err = d.sup.Shutdown(sctx)
	d.record(sctx, steward.ReasonStopped)
	d.checkpoint(sctx, "stop")
	if err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	if exit != nil {
		return exit
	}
	return nil
}

// serve starts the API on the socket and, when configured, on TCP: at
// api.listen, and at the dashboard's own web.listen.
func (d *Daemon) serve(cfg *config.Config) ([]served, error) {
	l, err := ipc.Listen(cfg.API.Socket, cfg.API.SocketGroup)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.API.Socket, err)
	}
	all := []served{d.httpServer(d.api.Handler(), l, nil)}
	if err := d.serveTCP(cfg, &all); err != nil {
		for _, s := range all {
			s.close()
		}
		return nil, err
	}
	return all, nil
}

// relisten moves the API to the listeners cfg sets, as a reload that
// changes api or web does. The old listeners close first, since a new one
// may take the same address, and their requests under way (this reload's
// own among them) still finish. When a new one cannot listen, the old
// settings listen again and the error says why.
func (d *Daemon) relisten(old, cfg *config.Config) error {
	for _, s := range d.served {
		s.l.Close()
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
			defer cancel()
			if s.srv.Shutdown(ctx) != nil {
				s.srv.Close() // streams that outlast the drain end here
			}
		}()
	}
	var err error
	if d.served, err = d.serve(cfg); err == nil {
		return nil
	}
	var back error
	if d.served, back = d.serve(old); back != nil {
		d.opts.Logger.Error("the API does not listen any more", "err", back)
	}
	return steward.Wrap("", err, "the API listens as before, for the new listeners failed")
}

// drainTimeout bounds how long the requests under way on a listener that a
// reload closed may take to finish; streams (logs -f, events -f) are cut
// then.
const drainTimeout = 10 * time.Second

// eventsDrainTimeout bounds how long the events recorded last may take to
// be stored when steward stops.
const eventsDrainTimeout = 5 * time.Second

// closeEvents stores what the event recorder still holds, within
// eventsDrainTimeout; what it cannot store is logged.
func (d *Daemon) closeEvents() {
	ctx, cancel := context.WithTimeout(context.Background(), eventsDrainTimeout)
	defer cancel()
	if err := d.events.Close(ctx); err != nil {
		d.opts.Logger.Error("store the last events", "err", err)
	}
}

// record stores a system event; failures are logged.
func (d *Daemon) record(ctx context.Context, reason string) {
	ev := steward.Event{Type: steward.EventSystem, Reason: reason}
	if _, err := d.events.Record(context.WithoutCancel(ctx), ev); err != nil {
		d.opts.Logger.Error("record event", "err", err)
	}
}

// Reload re-reads the config file and applies it, as Apply does.
func (d *Daemon) Reload(ctx context.Context, who string) (api.Applied, error) {
	file := d.Current().File
	text, err := os.ReadFile(file)
	if err != nil {
		return api.Applied{}, steward.Wrap("", err, "reload")
	}
	return d.apply(ctx, file, text, who)
}

// serveTCP serves the dashboard, and the API behind it, on api.listen and
// web.listen, those that are set, and appends them to all. Both take
// api.tls and the token of api.token_file, generated on first start when
// absent.
func (d *Daemon) serveTCP(cfg *config.Config, all *[]served) error {
	var addrs []string
	for _, a := range []string{cfg.API.Listen, cfg.Web.Listen} {
		if a != "" {
			addrs = append(addrs, a)
		}
	}
	if len(addrs) == 0 {
		return nil
	}
	tokenFile := cfg.API.TokenFile
	if tokenFile == "" {
		tokenFile = filepath.Join(cfg.DataDir, "api.token")
	}
	token, err := api.LoadOrCreateToken(tokenFile)
	if err != nil {
		return err
	}
	var tlsConf *tls.Config
	if cfg.API.TLS.Cert != "" {
		certs, err := listenerCerts(cfg, d.opts.Logger)
		if err != nil {
			return err
		}
		tlsConf = &tls.Config{GetCertificate: certs.GetCertificate, MinVersion: tls.VersionTLS12}
	}
	limit := api.NewRateLimiter(cfg.API.RateLimit.PerSecond, cfg.API.RateLimit.Burst) // one bucket per principal for both
	for _, addr := range addrs {
		l, err := ipc.ListenTCP(addr, tlsConf)
		if err != nil {
			return err
		}
		authn := d.tokens.WithBootstrap(token)
		*all = append(*all, d.httpServer(d.dashboard(l, tlsConf != nil, authn, limit, tokenFile), l, authn))
	}
	return nil
}
