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
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/auth"
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
	// Backups are the backup jobs' archives; optional too.
	Backups Backups
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
	// Reports is optional: without it, GET /v1/report answers 503.
	Reports Reports
	// Platform, when set, says what GET /v1/info tells of the OS, the
	// service manager, the data dir and the capabilities.
	Platform func() steward.Info

	// Local gives the callers on the local endpoint their roles; nil
	// means auth.Local without rules for the user this process runs as.
	Local LocalPrincipals
	// Tokens creates, lists and revokes API tokens; without it the token
	// routes answer 503.
	Tokens Tokens
	// Audit is the audit log of every change; without it nothing is
	// audited and the audit routes answer 503.
	Audit AuditLog
}

// Server serves the API. It is safe for concurrent use.
type Server struct {
	opts      Options
	log       *slog.Logger
	mux       *http.ServeMux
	handler   http.Handler
	keepalive time.Duration // comment sent on an idle event stream
	now       func() time.Time
	local     LocalPrincipals
	streams   streams // the requests under way of each token
}

// New returns a Server over the parts in o.
func New(o Options) *Server {
	s := &Server{opts: o, log: o.Logger, keepalive: 30 * time.Second, now: time.Now}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.local = o.Local; s.local == nil {
		s.local = defaultLocal()
	}
	s.mux = http.NewServeMux()
	for _, rt := range s.routes() {
		s.mux.Handle(rt.method+" "+rt.path, s.endpoint(rt))
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
		{"GET", "/v1/openapi.json", auth.ActionRead, s.openAPI},
		{"GET", "/v1/info", auth.ActionRead, s.info},
		{"GET", "/v1/services", auth.ActionRead, s.listServices},
		{"GET", "/v1/services/{name}", auth.ActionRead, s.getService},
		{"POST", "/v1/services/{name}/start", auth.ActionControl, s.action("start", s.opts.Services.Start)},
		{"POST", "/v1/services/{name}/stop", auth.ActionControl, s.action("stop", s.opts.Services.Stop)},
		{"POST", "/v1/services/{name}/restart", auth.ActionControl, s.action("restart", s.opts.Services.Restart)},
		{"GET", "/v1/services/{name}/logs", auth.ActionRead, s.logs},
		{"POST", "/v1/services/{name}/logs/rotate", auth.ActionControl, s.rotateLog},
		{"POST", "/v1/logs/rotate", auth.ActionControl, s.rotateLogs},
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
		{"GET", "/v1/workflows", auth.ActionRead, s.listWorkflows},
		{"POST", "/v1/workflows/{name}/run", auth.ActionRunJob, s.runWorkflow},
		{"GET", "/v1/backups", auth.ActionRead, s.listBackups},
		{"POST", "/v1/backups/forget", auth.ActionBackup, s.forgetBackups},
		{"GET", "/v1/backups/{id}", auth.ActionRead, s.getBackup},
		{"POST", "/v1/backups/{id}/verify", auth.ActionBackup, s.verifyBackup},
		{"POST", "/v1/backups/{id}/restore", auth.ActionRestore, s.restoreBackup},
		{"GET", "/v1/metrics/query", auth.ActionRead, s.queryMetrics},
		{"GET", "/v1/report", auth.ActionRead, s.report},
		{"POST", "/v1/metrics", auth.ActionPushMetric, s.pushMetrics},
		{"POST", "/v1/bus/publish", auth.ActionPublish, s.busPublish},
		{"POST", "/v1/bus/request", auth.ActionPublish, s.busRequest},
		{"GET", "/v1/bus/streams", auth.ActionRead, s.busStreams},
		{"GET", "/v1/bus/subscribe", auth.ActionRead, s.busSubscribe},
		{"GET", "/v1/bus/dlq", auth.ActionRead, s.busDLQ},
		{"GET", "/v1/bus/dlq/{id}", auth.ActionRead, s.busDLQEntry},
		{"POST", "/v1/bus/dlq/{id}/replay", auth.ActionPublish, s.busDLQReplay},
		{"POST", "/v1/bus/dlq/replay", auth.ActionPublish, s.busDLQReplayAll},
		{"DELETE", "/v1/bus/dlq", auth.ActionPublish, s.busDLQPurge},
		{"GET", "/v1/bus/services", auth.ActionRead, s.busServices},
		{"GET", "/v1/nodes", auth.ActionRead, s.nodes},
		{"GET", "/v1/nodes/{node}/proxy/{path...}", auth.ActionFleet, s.proxy},
		{"POST", "/v1/nodes/{node}/proxy/{path...}", auth.ActionFleet, s.proxy},
		{"PUT", "/v1/nodes/{node}/proxy/{path...}", auth.ActionFleet, s.proxy},
		{"DELETE", "/v1/nodes/{node}/proxy/{path...}", auth.ActionFleet, s.proxy},
		{"GET", "/v1/fleet/{path...}", auth.ActionFleet, s.fanOut},
		{"GET", "/v1/registry", auth.ActionRead, s.listRegistry},
		{"GET", "/v1/registry/{name}", auth.ActionRead, s.getRegistry},
		{"POST", "/v1/registry", auth.ActionRegister, s.register},
		{"GET", "/v1/registry/{name}/pick", auth.ActionRead, s.pick},
		{"PUT", "/v1/registry/{name}/{id}/heartbeat", auth.ActionRegister, s.heartbeat},
		{"DELETE", "/v1/registry/{name}/{id}", auth.ActionRegister, s.deregister},
		{"GET", "/metrics", auth.ActionRead, s.prometheus},
		{"GET", "/v1/workbooks/{service}/sessions", auth.ActionRead, s.listWorkbookSessions},
		{"POST", "/v1/workbooks/{service}/sessions", auth.ActionWorkbook, s.createWorkbookSession},
		{"POST", "/v1/workbooks/{service}/sessions/{id}/write", auth.ActionWorkbook, s.writeWorkbook},
		{"GET", "/v1/workbooks/{service}/sessions/{id}/read", auth.ActionRead, s.readWorkbook},
		{"POST", "/v1/workbooks/{service}/sessions/{id}/save", auth.ActionWorkbook, s.saveWorkbook},
		{"DELETE", "/v1/workbooks/{service}/sessions/{id}", auth.ActionWorkbook, s.closeWorkbookSession},
		{"GET", "/v1/tokens", auth.ActionListTokens, s.listTokens},
		{"POST", "/v1/tokens", auth.ActionTokens, s.createToken},
		{"DELETE", "/v1/tokens/{accessor}", auth.ActionTokens, s.revokeToken},
		{"GET", "/v1/audit", auth.ActionReadAudit, s.listAudit},
		{"POST", "/v1/audit/verify", auth.ActionAudit, s.verifyAudit},
		{"POST", "/v1/audit/checkpoint", auth.ActionAudit, s.checkpointAudit},
	}
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

// responseWriter notes whether the response has started.
type responseWriter struct {
	http.ResponseWriter
	wrote  bool
	status int
}

func (w *responseWriter) WriteHeader(code int) {
	w.wrote = true
	if w.status == 0 {
		w.status = code
	}
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
