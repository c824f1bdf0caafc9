// Package bus embeds steward's message bus: a NATS server with JetStream in
// steward's process, steward's own in-process connection to it, the
// envelope of steward's messages as NATS headers, publish, request/reply
// and subscriptions with replay from streams, and the stream of steward's
// events. Nothing of NATS runs until Start: a configuration without bus:
// never calls it. The daemon wiring imports it, and the API takes its
// types through interfaces of its own.
package bus

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/stewardhq/steward/internal/config"
)

// StewardUser is the user name of steward's own connection. Service names
// start with a letter or a digit, so no service takes it.
const StewardUser = "_steward"

// startTimeout bounds how long the server may take to accept connections
// once its store is open.
const startTimeout = 30 * time.Second

// Options configure a Server.
type Options struct {
	Config config.Bus
	Node   string
	// StoreDir holds JetStream's files: data_dir/bus.
	StoreDir string
	// TLS serves bus.listen when it is not on loopback.
	TLS *tls.Config
	// Credentials hold the passwords of steward and of the services.
	Credentials *Credentials
	// Services are the users besides steward's own: every supervised
	// service, whose URL is ServiceURL.
	Services []string
	// Workbooks are the workbook services of the node, each with the
	// services that may publish its commands (callers:).
	Workbooks map[string][]string
	Logger    *slog.Logger
	// FleetSecret authenticates the routes of bus.cluster (cluster.go).
	FleetSecret string
}

// Server is a running embedded NATS server and steward's connection to it.
// Its methods are safe for concurrent use.
type Server struct {
	node  string
	creds *Credentials
	log   *slog.Logger
	ns    *server.Server
	nc    *nats.Conn
	js    jetstream.JetStream
	logs  *logger

	// stop ends the background work (the DLQ's consumer, the transforms)
	// when the server closes.
	stop context.CancelFunc
	ctx  context.Context

	mu         sync.Mutex
	opts       Options // what Reload changed last
	closed     bool
	dlq        *deadLetters // nil while no stream has dead_letter
	transforms *transforms
}

// Start starts the server with opts: it opens the JetStream store, accepts
// connections (on bus.listen too when set), connects steward in-process
// and creates the events stream. It blocks until all that is done or
// failed; on failure nothing is left running. ctx bounds the wait.
func Start(ctx context.Context, opts Options) (*Server, error) {
	s := &Server{node: opts.Node, creds: opts.Credentials, opts: opts, log: cmp.Or(opts.Logger, slog.New(slog.DiscardHandler))}
	s.ctx, s.stop = context.WithCancel(context.Background())
	if x := opts.Config.External; x != nil {
		if err := s.join(ctx, *x); err != nil {
			s.Close()
			return nil, fmt.Errorf("join the bus at %s: %w", redactURLs(x.URL), err)
		}
		return s, nil
	}
	s.logs = newLogger(s.log)
	sopts, err := s.serverOptions(opts)
	if err != nil {
		return nil, err
	}
	ns, err := server.NewServer(sopts)
	if err != nil {
		return nil, fmt.Errorf("start bus: %w", err)
	}
	ns.SetLoggerV2(s.logs, false, false, false)
	s.ns = ns
	ready := make(chan error, 1)
	go func() {
		ns.Start()
		ready <- s.waitReady()
	}()
	select {
	case err = <-ready:
	case <-ctx.Done():
		err = ctx.Err()
		go func() { <-ready }()
	}
	if err == nil {
		err = s.connect(ctx)
	}
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("start bus: %w", err)
	}
	return s, nil
}

// waitReady waits until the server accepts connections or logged a fatal
// error, which it never exits for.
func (s *Server) waitReady() error {
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		if err := s.logs.fatal(); err != nil {
			return err
		}
		if s.ns.ReadyForConnections(50 * time.Millisecond) {
			if !s.ns.JetStreamEnabled() {
				return errors.New("JetStream did not start")
			}
			return nil
		}
	}
	return fmt.Errorf("not ready within %v", startTimeout)
}

// serverOptions are the NATS server's options for opts.
func (s *Server) serverOptions(opts Options) (*server.Options, error) {
	o := &server.Options{
		ServerName:         opts.Node,
		DontListen:         opts.Config.Listen == "",
		NoSigs:             true,
		JetStream:          true,
		StoreDir:           opts.StoreDir,
		JetStreamMaxMemory: opts.Config.JetStream.MaxMemory,
		JetStreamMaxStore:  opts.Config.JetStream.MaxStore,
		// Monitoring, clustering and the rest stay off.
		HTTPPort: 0,
	}
	if l := opts.Config.Listen; l != "" {
		host, port, err := net.SplitHostPort(l)
		if err != nil {
			return nil, fmt.Errorf("bus.listen: %w", err)
		}
		o.Host = host
		if o.Port, err = strconv.Atoi(port); err != nil {
			return nil, fmt.Errorf("bus.listen: %w", err)
		}
		if NeedsTLS(l) {
			if opts.TLS == nil {
				return nil, fmt.Errorf("bus.listen %s is not on loopback and has no TLS", l)
			}
			o.TLSConfig = opts.TLS
		}
	}
	if err := fleetOptions(o, opts); err != nil {
		return nil, err
	}
	o.Users = opts.Credentials.users(opts.Node, opts.Services, opts.Workbooks, func(base string) string { return streamOf(base, opts.Node, opts.Config) })
	return o, nil
}

// NeedsTLS reports whether the listen address addr is off loopback, where
// the bus serves TLS only.
func NeedsTLS(addr string) bool {
	host, _, _ := net.SplitHostPort(addr)
	return !isLoopback(host)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// connect makes steward's in-process connection and the events stream.
func (s *Server) connect(ctx context.Context) error {
	nc, err := nats.Connect("", nats.InProcessServer(s.ns),
		nats.UserInfo(StewardUser, s.creds.Password(StewardUser)),
		nats.Name("steward "+s.node),
		nats.MaxReconnects(-1),
		nats.CustomInboxPrefix(InboxPrefix),
		nats.ErrorHandler(s.errorHandler))
	if err != nil {
		return fmt.Errorf("connect in-process: %w", err)
	}
	return s.use(ctx, nc)
}

// errorHandler logs the asynchronous errors of steward's connection.
func (s *Server) errorHandler(_ *nats.Conn, sub *nats.Subscription, err error) {
	if sub != nil {
		s.log.Warn("bus subscription", "subject", sub.Subject, "err", err)
		return
	}
	s.log.Warn("bus connection", "err", err)
}

// use makes nc steward's connection and sets up what the configuration
// asks for on it.
func (s *Server) use(ctx context.Context, nc *nats.Conn) error {
	s.nc = nc
	var err error
	if s.js, err = jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(eventsPending)); err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	return s.configure(ctx)
}

// configure makes the streams, the DLQ and the transforms of the
// configuration in force.
func (s *Server) configure(ctx context.Context) error {
	if err := s.clusterRetry(ctx, s.ensureEventsStream); err != nil {
		return err
	}
	cfg := s.options().Config
	if err := s.ensureDeadLetters(ctx, cfg); err != nil {
		return err
	}
	return s.applyTransforms(cfg)
}

// Reload applies cfg, services and workbooks (as in Options) to the
// running server: the users and their permissions, raised
// JetStream limits and the events stream's max age. It returns
// ErrRestart when the change needs a new server (another listen address
// or TLS, lower JetStream limits).
func (s *Server) Reload(ctx context.Context, cfg config.Bus, services []string, workbooks map[string][]string) error {
	old := s.options()
	if cfg.Listen != old.Config.Listen || !reflect.DeepEqual(cfg.External, old.Config.External) || fleetChanged(cfg, old.Config) {
		return ErrRestart
	}
	next := old
	next.Config, next.Services, next.Workbooks = cfg, services, workbooks
	if s.ns == nil { // an external deployment: only steward's part changes
		s.mu.Lock()
		s.opts = next
		s.mu.Unlock()
		return s.configure(ctx)
	}
	o, err := s.serverOptions(next)
	if err != nil {
		return err
	}
	if err := s.ns.ReloadOptions(o); err != nil {
		if errors.Is(err, server.ErrConfigReloadNotSupported) {
			return ErrRestart
		}
		return fmt.Errorf("reload bus: %w", err)
	}
	s.mu.Lock()
	s.opts = next
	s.mu.Unlock()
	return s.configure(ctx)
}

// options returns the options in force.
func (s *Server) options() Options {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opts
}

// ErrRestart is Reload's answer to a change that needs a new server.
var ErrRestart = errors.New("the bus must restart for this change")

// Conn returns steward's in-process connection.
func (s *Server) Conn() *nats.Conn { return s.nc }

// Addr returns the TCP address the server listens on, or nil.
func (s *Server) Addr() net.Addr {
	if s.ns == nil || s.options().Config.Listen == "" {
		return nil
	}
	return s.ns.Addr()
}

// Close drains steward's connection and shuts the server down, waiting for
// its goroutines. It is safe after a failed Start and more than once.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	d, t := s.dlq, s.transforms
	s.mu.Unlock()
	s.stop()
	d.close()
	t.close()
	if s.nc != nil {
		s.nc.Close()
	}
	if s.ns != nil {
		s.ns.Shutdown()
		s.ns.WaitForShutdown()
	}
}

// Credentials are the generated passwords of steward and the services, one
// random password per user for the life of steward's process. They are
// safe for concurrent use.
type Credentials struct {
	mu   sync.Mutex
	pass map[string]string
}

// NewCredentials returns an empty set; passwords are made when first asked
// for.
func NewCredentials() *Credentials { return &Credentials{pass: map[string]string{}} }

// Password returns user's password, made on first use.
func (c *Credentials) Password(user string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.pass[user]
	if !ok {
		b := make([]byte, 16)
		rand.Read(b)
		p = hex.EncodeToString(b)
		c.pass[user] = p
	}
	return p
}

// URL returns the NATS URL a client connects to addr with as user, the
// credentials in it: tls:// when secure.
func (c *Credentials) URL(addr, user string, secure bool) string {
	host, port, _ := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	u := url.URL{Scheme: "nats", User: url.UserPassword(user, c.Password(user)), Host: net.JoinHostPort(host, port)}
	if secure {
		u.Scheme = "tls"
	}
	return u.String()
}

// users are the server's users: steward, allowed everything, and each
// service, which may not publish what serviceDeny lists nor subscribe to
// what serviceSubDeny lists; a caller of workbooks may publish their
// commands (callerDeny). streams names steward's streams by their base.
func (c *Credentials) users(node string, services []string, workbooks map[string][]string, streams func(base string) string) []*server.User {
	out := []*server.User{{Username: StewardUser, Password: c.Password(StewardUser)}}
	for _, name := range services {
		deny := serviceDeny(streams)
		if calls(name, workbooks) {
			deny = append(callerDeny(node, name, workbooks), slices.DeleteFunc(deny, func(d string) bool { return d == "steward.>" })...)
		}
		out = append(out, &server.User{
			Username: name,
			Password: c.Password(name),
			Permissions: &server.Permissions{
				Publish:   &server.SubjectPermission{Allow: []string{">"}, Deny: deny},
				Subscribe: &server.SubjectPermission{Allow: []string{">"}, Deny: serviceSubDeny},
			},
		})
	}
	return out
}
