package daemon

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/bus"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/events"
	"github.com/stewardhq/steward/internal/kinds/workbook"
	"github.com/stewardhq/steward/internal/run"
	"github.com/stewardhq/steward/internal/store"
)

var (
	errNoBus       = steward.Errorf(steward.ECONFLICT, "no bus configured: add a bus: section to the configuration")
	errBusStarting = steward.Errorf(steward.EUNAVAILABLE, "bus starting")
)

var _ api.Bus = (*busHost)(nil)

// busHost runs the bus of the configuration in force, when it has a bus:
// section. The bus starts in the background, so that a large store never
// delays the services; until it is ready, its API answers "bus starting".
// It is safe for concurrent use.
type busHost struct {
	dataDir string
	events  *events.Recorder
	log     *slog.Logger
	creds   *bus.Credentials
	// ready, when set, is called once a bus runs for cfg; what it returns
	// is called when that bus stops (the fleet joins and leaves so).
	ready func(ctx context.Context, srv *bus.Server, cfg *config.Config) func()

	mu      sync.Mutex
	cfg     *config.Config // the configuration the bus runs (or starts) for; nil before start
	srv     *bus.Server    // nil while none runs
	failed  error          // why the last start failed
	cancel  context.CancelFunc
	done    chan struct{} // closed when the start and the forwarder of srv ended
	secured bool          // bus.listen serves TLS
	bridges bridges       // the file bridges of the running bus
}

func newBusHost(dataDir string, rec *events.Recorder, log *slog.Logger) *busHost {
	return &busHost{dataDir: dataDir, events: rec, log: log, creds: bus.NewCredentials(), bridges: bridges{log: log}}
}

// start starts the bus of cfg in the background, when cfg has one. The
// caller holds the daemon's applyMu, or has not shared it yet.
func (h *busHost) start(cfg *config.Config) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.cfg = cfg
	if cfg.Bus == nil {
		return
	}
	var tlsConf *tls.Config
	h.secured = cfg.Bus.Listen != "" && bus.NeedsTLS(cfg.Bus.Listen)
	if h.secured {
		certs, err := listenerCerts(cfg, h.log)
		if err != nil {
			h.failed = fmt.Errorf("start bus: %w", err)
			h.log.Error("bus not started", "err", err)
			return
		}
		tlsConf = &tls.Config{GetCertificate: certs.GetCertificate, MinVersion: tls.VersionTLS12}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	h.cancel, h.done, h.failed = cancel, done, nil
	opts := bus.Options{
		Config: *cfg.Bus, Node: cfg.Node, StoreDir: filepath.Join(cfg.DataDir, "bus"),
		TLS: tlsConf, Credentials: h.creds, Services: slices.Clone(cfg.Order), Workbooks: workbook.Callers(cfg), Logger: h.log,
	}
	if cfg.Bus.Fleet() {
		secret, err := bus.ReadFleetSecret(cfg.Bus.FleetSecretFile)
		if err != nil {
			h.failed = fmt.Errorf("start bus: %w", err)
			h.log.Error("bus not started", "err", err)
			return
		}
		opts.FleetSecret = secret
	}
	go func() {
		defer close(done)
		if err := os.MkdirAll(opts.StoreDir, 0o700); err != nil {
			h.startFailed(ctx, fmt.Errorf("start bus: %w", err))
			return
		}
		began := time.Now()
		srv, err := bus.Start(ctx, opts)
		if err != nil {
			h.startFailed(ctx, err)
			return
		}
		h.mu.Lock()
		if ctx.Err() != nil {
			h.mu.Unlock()
			srv.Close()
			return
		}
		h.srv = srv
		h.bridges.start(ctx, srv, h.cfg.Bus) // the bus: in force, which a reload may have changed
		h.mu.Unlock()
		defer h.bridges.stop()
		h.log.Info("bus ready", "listen", cfg.Bus.Listen, "took", time.Since(began).Round(time.Millisecond))
		if h.ready != nil {
			defer h.ready(ctx, srv, cfg)()
		}
		srv.ForwardEvents(ctx, eventSource{h.events})
	}()
}

func (h *busHost) startFailed(ctx context.Context, err error) {
	if ctx.Err() != nil {
		return
	}
	h.log.Error("bus not started", "err", err)
	h.mu.Lock()
	h.failed = err
	h.mu.Unlock()
}

// stop stops the bus, if one runs or starts, and waits for it.
func (h *busHost) stop() {
	h.mu.Lock()
	cancel, done, srv := h.cancel, h.done, h.srv
	h.cancel, h.done, h.srv, h.failed = nil, nil, nil, nil
	h.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	<-done
	if srv != nil {
		srv.Close()
	}
}

// apply moves the bus to cfg's bus: section without touching the services.
// Users, raised limits and the events stream's max age change in the
// running server; a new listen address, TLS or lower limits restart the
// embedded server (its clients reconnect; services keep the NATS_URL they
// started with). The caller holds the daemon's applyMu.
func (h *busHost) apply(ctx context.Context, cfg *config.Config) {
	h.mu.Lock()
	old, srv := h.cfg, h.srv
	h.mu.Unlock()
	switch {
	case old != nil && old.Bus == nil && cfg.Bus == nil:
		h.mu.Lock()
		h.cfg = cfg
		h.mu.Unlock()
		return
	case srv != nil && cfg.Bus != nil && old.API.TLS == cfg.API.TLS:
		err := srv.Reload(ctx, *cfg.Bus, slices.Clone(cfg.Order), workbook.Callers(cfg))
		if err == nil {
			h.mu.Lock()
			h.cfg = cfg
			h.mu.Unlock()
			h.bridges.update(cfg.Bus)
			return
		}
		if !errors.Is(err, bus.ErrRestart) {
			h.log.Warn("bus reload failed; restarting the bus", "err", err)
		}
	}
	h.stop()
	h.start(cfg)
}

// env is the environment the bus gives a service: NATS_URL with its own
// credentials when bus.listen is set, or the deployment of bus.url with
// steward's credentials.
func (h *busHost) env(service string) []string {
	h.mu.Lock()
	cfg, secured := h.cfg, h.secured
	h.mu.Unlock()
	if cfg == nil || cfg.Bus == nil {
		return nil
	}
	if x := cfg.Bus.External; x != nil {
		return bus.ExternalEnv(*x)
	}
	if cfg.Bus.Listen == "" {
		return nil
	}
	return []string{"NATS_URL=" + h.creds.URL(cfg.Bus.Listen, service, secured)}
}

// server returns the running bus, or why there is none.
func (h *busHost) server() (*bus.Server, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.srv != nil:
		return h.srv, nil
	case h.cfg == nil || h.cfg.Bus == nil:
		return nil, errNoBus
	case h.failed != nil:
		return nil, steward.Wrap(steward.EUNAVAILABLE, h.failed, "the bus did not start")
	}
	return nil, errBusStarting
}

// Publish publishes m on the running bus.
func (h *busHost) Publish(ctx context.Context, m bus.Message) (bus.Published, error) {
	srv, err := h.server()
	if err != nil {
		return bus.Published{}, err
	}
	return srv.Publish(ctx, m)
}

// Request sends m and returns the reply.
func (h *busHost) Request(ctx context.Context, m bus.Message, timeout time.Duration) (bus.Message, error) {
	srv, err := h.server()
	if err != nil {
		return bus.Message{}, err
	}
	return srv.Request(ctx, m, timeout)
}

// Subscribe calls fn with the messages on subject.
func (h *busHost) Subscribe(ctx context.Context, subject string, o bus.SubscribeOptions, fn func(bus.Message) error) error {
	srv, err := h.server()
	if err != nil {
		return err
	}
	return srv.Subscribe(ctx, subject, o, fn)
}

// Streams lists the streams.
func (h *busHost) Streams(ctx context.Context) ([]bus.StreamInfo, error) {
	srv, err := h.server()
	if err != nil {
		return nil, err
	}
	return srv.Streams(ctx)
}

// eventSource is the event recorder as the bus reads it.
type eventSource struct{ r *events.Recorder }

func (s eventSource) Subscribe() (<-chan steward.Event, func()) { return s.r.Subscribe() }

func (s eventSource) After(ctx context.Context, id int64, since time.Time, limit int) ([]steward.Event, error) {
	return s.r.List(ctx, store.EventFilter{AfterID: id, Since: since, Limit: limit})
}

// runBus is the bus host as the run engine uses it: the publish steps and
// subject triggers of workflows.
type runBus struct{ h *busHost }

var _ run.Bus = runBus{}

// Publish publishes data on subject.
func (b runBus) Publish(ctx context.Context, subject string, data []byte) error {
	_, err := b.h.Publish(ctx, bus.Message{Subject: subject, Data: data})
	return err
}

// Subscribe calls fn with each message on subject until ctx ends.
func (b runBus) Subscribe(ctx context.Context, subject string, ready func(), fn func(subject string, data []byte)) error {
	return b.h.Subscribe(ctx, subject, bus.SubscribeOptions{Ready: ready}, func(m bus.Message) error {
		fn(m.Subject, m.Data)
		return nil
	})
}
