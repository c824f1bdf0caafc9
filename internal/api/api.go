// Package api serves steward's HTTP API: the one interface through which the
// CLI, the dashboard and other nodes drive steward. It routes with the
// standard library's ServeMux, speaks JSON, streams logs as NDJSON and events
// as Server-Sent Events, and documents itself with an embedded OpenAPI
// document. Its bodies are the wire types of the root package, which the
// handlers convert to from the internal types; a test checks them against
// the document's schemas. The daemon wiring builds a Server from the
// interfaces in deps.go; clients never import it.
package api

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/auth"
	"github.com/stewardhq/steward/internal/ipc"
)

// maxBody is the largest request body accepted; more is a 413.
const maxBody = 1 << 20

// Options configure a Server.
type Options struct {
	Services Services
	Events   Events
	Configs  Configs
	// Alerts, Metrics, Checks and Prometheus (the handler of GET /metrics)
	// are optional: without them their endpoints answer 503.
	Alerts     Alerts
	Metrics    Metrics
	Checks     Checks
	Prometheus http.Handler
	// Notifications is optional too.
	Notifications Notifications
	// Bus is the message bus; without it its endpoints answer 409.
	Bus Bus
	// Runs is the run engine of the jobs; optional too.
	Runs Runs
	// Fleet is the fleet; without it its endpoints answer 409.
	Fleet Fleet

	// Workbooks is optional: without it, /v1/workbooks answers 404.
	Workbooks Workbooks

	// OSServices is the OS service manager.
	OSServices OSServices
	Node       string
	Version    string
	Started    time.Time
	Logger     *slog.Logger
	// Forensics is optional: without it, the why and exits endpoints
	// answer 503.
	Forensics Forensics
	// Platform, when set, says what GET /v1/info tells of the OS, the
	// service manager, the data dir and the capabilities.
	Platform func() steward.Info
}

// Server serves the API. It is safe for concurrent use.
type Server struct {
	opts      Options
	log       *slog.Logger
	mux       *http.ServeMux
	handler   http.Handler
	keepalive time.Duration // comment sent on an idle event stream
	now       func() time.Time
}

// New returns a Server over the parts in o.
func New(o Options) *Server {
	s := &Server{opts: o, log: o.Logger, keepalive: 30 * time.Second, now: time.Now}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.mux = http.NewServeMux()
	for _, rt := range s.routes() {
		s.mux.Handle(rt.method+" "+rt.path, s.endpoint(rt.handle))
	}
	s.handler = http.HandlerFunc(s.serve)
	return s
}

// handlerFunc is an endpoint; a returned error becomes the JSON error
// response, unless the response has started.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// route is one endpoint: a method, a ServeMux path pattern, the action the
// authorizer decides on and its handler.
type route struct {
	method string
	path   string
	action auth.Action // what it does, for the authorizer
	handle handlerFunc
}

// routes is the route table: every endpoint, in the order the OpenAPI
// document lists them.
func (s *Server) routes() []route {
	return []route{
		{"GET", "/healthz", auth.ActionPublic, s.health},
		{"GET", "/v1/openapi.json", auth.ActionPublic, s.openAPI},
		{"GET", "/v1/info", auth.ActionRead, s.info},
		{"GET", "/v1/services", auth.ActionRead, s.listServices},
		{"GET", "/v1/services/{name}", auth.ActionRead, s.getService},
		{"POST", "/v1/services/{name}/start", auth.ActionControl, s.action("start", s.opts.Services.Start)},
		{"POST", "/v1/services/{name}/stop", auth.ActionControl, s.action("stop", s.opts.Services.Stop)},
		{"POST", "/v1/services/{name}/restart", auth.ActionControl, s.action("restart", s.opts.Services.Restart)},
		{"GET", "/v1/services/{name}/logs", auth.ActionRead, s.logs},
		{"GET", "/v1/services/{name}/why", auth.ActionRead, s.why},
		{"GET", "/v1/services/{name}/exits", auth.ActionRead, s.exits},
		{"GET", "/v1/events", auth.ActionRead, s.events},
		{"POST", "/v1/reload", auth.ActionReload, s.reload},
		{"GET", "/v1/config", auth.ActionRead, s.getConfig},
		{"PUT", "/v1/config", auth.ActionConfig, s.putConfig},
		{"POST", "/v1/config/validate", auth.ActionRead, s.validateConfig},
		{"GET", "/v1/config/versions", auth.ActionRead, s.configVersions},
		{"GET", "/v1/config/versions/{n}", auth.ActionRead, s.configVersion},
		{"GET", "/v1/config/diff", auth.ActionRead, s.configDiff},
		{"POST", "/v1/config/rollback/{n}", auth.ActionConfig, s.rollback},
		{"GET", "/v1/alerts", auth.ActionRead, s.listAlerts},
		{"GET", "/v1/alerts/{id}", auth.ActionRead, s.getAlert},
		{"POST", "/v1/alerts/{id}/ack", auth.ActionAck, s.ackAlert},
		{"GET", "/v1/silences", auth.ActionRead, s.listSilences},
		{"POST", "/v1/silences", auth.ActionSilence, s.addSilence},
		{"DELETE", "/v1/silences/{id}", auth.ActionSilence, s.deleteSilence},
		{"GET", "/v1/notifications", auth.ActionRead, s.listNotifications},
		{"GET", "/v1/notifications/{id}", auth.ActionRead, s.getNotification},
		{"POST", "/v1/notifications/{id}/retry", auth.ActionNotify, s.retryNotification},
		{"GET", "/v1/os-services", auth.ActionRead, s.listOSServices},
		{"GET", "/v1/os-services/{name}", auth.ActionRead, s.getOSService},
		{"POST", "/v1/os-services/{name}/start", auth.ActionOSService, s.osServiceAction("start", OSServices.Start)},
		{"POST", "/v1/os-services/{name}/stop", auth.ActionOSService, s.osServiceAction("stop", OSServices.Stop)},
		{"POST", "/v1/os-services/{name}/restart", auth.ActionOSService, s.osServiceAction("restart", OSServices.Restart)},
		{"GET", "/v1/checks", auth.ActionRead, s.listChecks},
		{"GET", "/v1/jobs", auth.ActionRead, s.listJobs},
		{"POST", "/v1/jobs/{name}/run", auth.ActionRunJob, s.runJob},
		{"GET", "/v1/jobs/{name}/next", auth.ActionRead, s.jobNext},
		{"GET", "/v1/runs", auth.ActionRead, s.listRuns},
		{"GET", "/v1/runs/{id}", auth.ActionRead, s.getRun},
		{"GET", "/v1/runs/{id}/logs", auth.ActionRead, s.runLogs},
		{"POST", "/v1/runs/{id}/cancel", auth.ActionRunJob, s.cancelRun},
		{"GET", "/v1/metrics/query", auth.ActionRead, s.queryMetrics},
		{"POST", "/v1/metrics", auth.ActionPushMetric, s.pushMetrics},
		{"POST", "/v1/bus/publish", auth.ActionPublish, s.busPublish},
		{"POST", "/v1/bus/request", auth.ActionPublish, s.busRequest},
		{"GET", "/v1/bus/streams", auth.ActionRead, s.busStreams},
		{"GET", "/v1/bus/subscribe", auth.ActionRead, s.busSubscribe},
		{"GET", "/v1/nodes", auth.ActionRead, s.nodes},
		{"GET", "/v1/nodes/{node}/proxy/{path...}", auth.ActionFleet, s.proxy},
		{"POST", "/v1/nodes/{node}/proxy/{path...}", auth.ActionFleet, s.proxy},
		{"PUT", "/v1/nodes/{node}/proxy/{path...}", auth.ActionFleet, s.proxy},
		{"DELETE", "/v1/nodes/{node}/proxy/{path...}", auth.ActionFleet, s.proxy},
		{"GET", "/v1/fleet/{path...}", auth.ActionFleet, s.fanOut},
		{"GET", "/v1/registry", auth.ActionRead, s.listRegistry},
		{"POST", "/v1/registry", auth.ActionRegister, s.register},
		{"GET", "/v1/registry/{name}", auth.ActionRead, s.getRegistry},
		{"GET", "/v1/registry/{name}/pick", auth.ActionRead, s.pickRegistry},
		{"PUT", "/v1/registry/{id}/heartbeat", auth.ActionRegister, s.heartbeat},
		{"DELETE", "/v1/registry/{id}", auth.ActionRegister, s.deregister},
		{"GET", "/metrics", auth.ActionRead, s.prometheus},
		{"GET", "/v1/workbooks/{service}/sessions", auth.ActionRead, s.listWorkbookSessions},
		{"POST", "/v1/workbooks/{service}/sessions", auth.ActionWorkbook, s.createWorkbookSession},
		{"POST", "/v1/workbooks/{service}/sessions/{id}/write", auth.ActionWorkbook, s.writeWorkbook},
		{"GET", "/v1/workbooks/{service}/sessions/{id}/read", auth.ActionRead, s.readWorkbook},
		{"POST", "/v1/workbooks/{service}/sessions/{id}/save", auth.ActionWorkbook, s.saveWorkbook},
		{"DELETE", "/v1/workbooks/{service}/sessions/{id}", auth.ActionWorkbook, s.closeWorkbookSession},
	}
}

// Handler returns the API for the local endpoint, where the socket's
// permissions are the authentication: every request is trusted, and the
// caller is named by its peer credentials (see ConnContext).
func (s *Server) Handler() http.Handler { return s.handler }

// TCPHandler returns the API for a TCP listener: every request but GET
// /healthz needs an "Authorization: Bearer TOKEN" header with a token that
// tokens accepts, or gets a 401.
func (s *Server) TCPHandler(tokens TokenChecker) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			s.handler.ServeHTTP(w, r)
			return
		}
		tok, ok := bearer(r.Header.Get("Authorization"))
		if !ok || !tokens.CheckToken(tok) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="steward"`)
			s.writeError(w, r, errUnauthorized)
			return
		}
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		via := "tcp:"
		if r.Context().Value(dashboardKey{}) != nil {
			via = "web:"
		}
		ctx := context.WithValue(r.Context(), peerKey{}, &peer{who: via + host})
		s.handler.ServeHTTP(w, r.WithContext(ctx))
	})
}

// serve routes r, answering a request no route takes with a JSON 404 or 405.
// A path that is not clean (//v1/services, /v1/../v1/services) gets a JSON
// error naming the clean one, where the mux would answer with an HTML page:
// a 301 to it for GET and HEAD, which clients may follow, else a 404.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if clean := cleanPath(r.URL.Path); clean != r.URL.Path {
		err := errUncleanPath(r, clean)
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			s.writeError(w, r, err)
			return
		}
		u := *r.URL
		u.Path, u.RawPath = clean, ""
		w.Header().Set("Location", u.RequestURI())
		_, body := errorResponse(err)
		writeJSON(w, http.StatusMovedPermanently, steward.ErrorResponse{Error: body})
		return
	}
	h, pattern := s.mux.Handler(r)
	if pattern != "" {
		s.mux.ServeHTTP(w, r)
		return
	}
	// The mux's own answer is plain text: keep its status and Allow header only.
	var c capture
	h.ServeHTTP(&c, r)
	if c.status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", c.header.Get("Allow"))
		s.writeError(w, r, &methodError{method: r.Method, path: r.URL.Path})
		return
	}
	s.writeError(w, r, errNoRoute(r))
}

// cleanPath returns p cleaned as the mux cleans paths: path.Clean, with
// a trailing slash kept.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	clean := path.Clean(p)
	if strings.HasSuffix(p, "/") && clean != "/" {
		clean += "/"
	}
	return clean
}

// endpoint adapts h to http.Handler: it limits the request body and turns
// h's error into a JSON error response.
func (s *Server) endpoint(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		rw := &responseWriter{ResponseWriter: w}
		if err := h(rw, r); err != nil {
			if rw.wrote {
				s.log.Warn("api request failed after its response started", "method", r.Method, "path", r.URL.Path, "err", err)
				return
			}
			s.writeError(rw, r, err)
		}
	})
}

// responseWriter notes whether the response has started.
type responseWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *responseWriter) WriteHeader(code int) {
	w.wrote = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach Flush.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// capture records the status and header of a response and drops its body.
type capture struct {
	header http.Header
	status int
}

func (c *capture) Header() http.Header {
	if c.header == nil {
		c.header = http.Header{}
	}
	return c.header
}
func (c *capture) Write(b []byte) (int, error) { return len(b), nil }
func (c *capture) WriteHeader(code int)        { c.status = code }

// peerKey keys the caller of a request in its context.
type peerKey struct{}

type dashboardKey struct{}

// FromDashboard marks a request that the web dashboard makes for one of its
// sessions: TCPHandler then names its caller "web:HOST" in audit records,
// where a bearer token's caller is "tcp:HOST".
func FromDashboard(ctx context.Context) context.Context {
	return context.WithValue(ctx, dashboardKey{}, true)
}

// peer is who is on the other end of a connection, looked up when first
// needed.
type peer struct {
	conn net.Conn
	once sync.Once
	who  string
}

func (p *peer) name() string {
	p.once.Do(func() {
		if p.who == "" {
			p.who = ipc.PeerUser(p.conn)
		}
	})
	return p.who
}

// ConnContext is the http.Server ConnContext hook for the local endpoint:
// it lets each request name its caller from the connection's peer
// credentials ("UID:NAME" on linux, "local" elsewhere).
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, peerKey{}, &peer{conn: c})
}

// who names the caller of the request with context ctx, for audit records.
func who(ctx context.Context) string {
	if p, ok := ctx.Value(peerKey{}).(*peer); ok {
		return p.name()
	}
	return "local"
}
