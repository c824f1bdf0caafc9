package api

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/auth"
	"github.com/stewardhq/steward/internal/ipc"
)

// Authenticator names the principal of a bearer token (auth.Tokens): an
// error says it grants nothing.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (steward.Principal, error)
}

// LocalPrincipals names the principal of a caller on the local endpoint
// from its peer credentials, as ipc.PeerUser gives them (auth.Local).
type LocalPrincipals interface {
	LocalPrincipal(peer string) steward.Principal
}

var (
	_ Authenticator   = (*auth.Tokens)(nil)
	_ LocalPrincipals = (*auth.Local)(nil)
)

// auditTimeout bounds the write of one audit record.
const auditTimeout = 10 * time.Second

// endpoint adapts rt to http.Handler: it authorizes the request's
// principal for rt's action, audits a change, limits the request body and
// turns the handler's error into a JSON error response.
func (s *Server) endpoint(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		rw := &responseWriter{ResponseWriter: w}
		p, err := s.authorize(r, rt)
		audited := err == nil && auth.Mutates(rt.action) && s.opts.Audit != nil
		if steward.ErrorCode(err) == steward.EFORBIDDEN && auth.Known(rt.action) && auth.Mutates(rt.action) {
			s.audit(r, p, rt.action, "denied")
		}
		if audited && !s.audit(r, p, rt.action, "attempt") {
			err = steward.Errorf(steward.EUNAVAILABLE, "the audit log cannot be written, so nothing is changed; steward's log says why")
		}
		written := func() bool { return false }
		if tx, ok := s.opts.Audit.(txAudit); ok && audited && err == nil {
			var ctx context.Context
			ctx, written = tx.WithAudit(r.Context(), auditRecord(r, p, rt.action, ""))
			r = r.WithContext(ctx)
		}
		if err == nil {
			err = rt.handle(rw, r)
		}
		if audited && !written() { // else the change's transaction wrote it
			s.audit(r, p, rt.action, outcome(rw, err))
		}
		if err != nil {
			if rw.wrote {
				s.log.Warn("api request failed after its response started", "method", r.Method, "path", r.URL.Path, "err", err)
				return
			}
			s.writeError(rw, r, err)
		}
	})
}

// authorize returns the principal of r when it may take rt's action: else
// a 401 when r has none, a 403 naming the action and the role it needs
// when its role is below it, or when the authorizer does not know the
// action; for a principal scoped to a tenant, what guardTenant says.
func (s *Server) authorize(r *http.Request, rt route) (steward.Principal, error) {
	a := rt.action
	p, ok := s.principal(r.Context())
	switch {
	case !auth.Known(a):
		return p, steward.Errorf(steward.EFORBIDDEN, "%s %s names the action %q, which the authorizer does not know: refused", r.Method, r.URL.Path, a)
	case a == auth.ActionPublic:
		return p, nil
	case !ok:
		return p, errUnauthorized
	case !auth.Allowed(p, a):
		return p, steward.Errorf(steward.EFORBIDDEN, "%s %s is the action %q, which needs the role %s; %s has the role %s",
			r.Method, r.URL.Path, a, auth.Needs(a), p.Who, p.Role)
	case p.Tenant != "":
		return p, s.guardTenant(rt, r, s.tenancy(r))
	}
	return p, nil
}

// audit appends a record of p taking action a on r with outcome and
// reports whether it was written; a failure is logged.
func (s *Server) audit(r *http.Request, p steward.Principal, a auth.Action, outcome string) bool {
	if s.opts.Audit == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), auditTimeout)
	defer cancel()
	rec := auditRecord(r, p, a, outcome)
	if _, err := s.opts.Audit.Append(ctx, rec); err != nil {
		s.log.Error("write audit record", "action", a, "target", rec.Target, "outcome", outcome, "err", err)
		return false
	}
	return true
}

// auditRecord is the record of p taking action a on r with outcome.
func auditRecord(r *http.Request, p steward.Principal, a auth.Action, outcome string) steward.AuditRecord {
	return steward.AuditRecord{Principal: p.String(), Action: string(a), Target: r.Method + " " + r.URL.Path, Outcome: outcome}
}

// txAudit is an AuditLog that can have the record of a change written in
// the change's own transaction (auth.Log over the store): for the changes
// it covers, the change and its "ok" record are stored together or not at
// all.
type txAudit interface {
	WithAudit(ctx context.Context, r steward.AuditRecord) (context.Context, func() bool)
}

var _ txAudit = (*auth.Log)(nil)

// outcome says how a request ended, for its audit record: "ok", or
// "failed: STATUS CODE".
func outcome(rw *responseWriter, err error) string {
	status, code := rw.status, ""
	if err != nil {
		var body steward.ErrorBody
		status, body = errorResponse(err)
		code = " " + body.Code
	}
	if status == 0 || status < 400 {
		return "ok"
	}
	return fmt.Sprintf("failed: %d%s", status, code)
}

// principalKey keys the principal of a request that came over TCP in its
// context: a *steward.Principal, nil when the request carries none.
type principalKey struct{}

// principal returns the principal of the request with context ctx: the
// token's on TCP, else the local caller's from the peer credentials.
func (s *Server) principal(ctx context.Context) (steward.Principal, bool) {
	if p, ok := ctx.Value(principalKey{}).(*steward.Principal); ok {
		if p == nil {
			return steward.Principal{}, false
		}
		return *p, true
	}
	if p, ok := ctx.Value(peerKey{}).(*peer); ok {
		return p.principal(s.local), true
	}
	return s.local.LocalPrincipal("local"), true
}

// who names the principal of the request with context ctx, for events,
// logs and audit records.
func (s *Server) who(ctx context.Context) string {
	p, _ := s.principal(ctx)
	return p.String()
}

// Handler returns the API for the local endpoint, where the caller is
// named by its peer credentials (see ConnContext) and given a role by
// Options.Local.
func (s *Server) Handler() http.Handler { return s.handler }

// TCPHandler returns the API for a TCP listener: every request but GET
// /healthz needs an "Authorization: Bearer TOKEN" header with a token
// that authn accepts, or gets a 401; the token's principal makes the
// request. A request of a token that is revoked (RevokeToken) ends then,
// streams too. limit bounds each principal's requests (nil: no bound).
func (s *Server) TCPHandler(authn Authenticator, limit *RateLimiter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			s.handler.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, (*steward.Principal)(nil))))
			return
		}
		tok, ok := bearer(r.Header.Get("Authorization"))
		var p steward.Principal
		var err error = errUnauthorized
		if ok {
			p, err = authn.Authenticate(r.Context(), tok)
		}
		if err != nil {
			if steward.ErrorCode(err) == steward.EUNAUTHORIZED {
				w.Header().Set("WWW-Authenticate", `Bearer realm="steward"`)
			}
			s.writeError(w, r, err)
			return
		}
		if d := limit.wait(p.Who); d > 0 {
			s.tooMany(w, r, p, d)
			return
		}
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		p.Via = "tcp:" + host
		if r.Context().Value(dashboardKey{}) != nil {
			p.Via = "web:" + host
		}
		ctx, cancel := context.WithCancel(context.WithValue(r.Context(), principalKey{}, &p))
		defer s.streams.add(tok, cancel)()
		s.handler.ServeHTTP(w, r.WithContext(ctx))
	})
}

// RevokeToken ends the requests under way of the token with accessor,
// streams among them, as its revocation does.
func (s *Server) RevokeToken(accessor string) { s.streams.end(accessor) }

// streams are the requests under way of each token, by accessor, to end
// when it is revoked. It is safe for concurrent use.
type streams struct {
	mu   sync.Mutex
	next int
	m    map[string]map[int]context.CancelFunc
}

// add notes cancel as that of a request of the token secret and returns
// the function that forgets it. The bootstrap token, which has no
// accessor, cannot be revoked.
func (st *streams) add(secret string, cancel context.CancelFunc) (forget func()) {
	accessor, err := auth.ParseToken(secret)
	if err != nil {
		return cancel
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.m == nil {
		st.m = map[string]map[int]context.CancelFunc{}
	}
	if st.m[accessor] == nil {
		st.m[accessor] = map[int]context.CancelFunc{}
	}
	st.next++
	id := st.next
	st.m[accessor][id] = cancel
	return func() {
		st.mu.Lock()
		defer st.mu.Unlock()
		delete(st.m[accessor], id)
		if len(st.m[accessor]) == 0 {
			delete(st.m, accessor)
		}
		cancel()
	}
}

// end cancels the requests of the token with accessor.
func (st *streams) end(accessor string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, cancel := range st.m[accessor] {
		cancel()
	}
}

// peerKey keys the caller of a request in its context.
type peerKey struct{}

type dashboardKey struct{}

// FromDashboard marks a request that the web dashboard makes for one of its
// sessions: its principal comes "via web:HOST", where a bearer token's
// comes "via tcp:HOST".
func FromDashboard(ctx context.Context) context.Context {
	return context.WithValue(ctx, dashboardKey{}, true)
}

// peer is who is on the other end of a connection of the local endpoint,
// looked up when first needed.
type peer struct {
	conn net.Conn
	once sync.Once
	p    steward.Principal
}

func (p *peer) principal(local LocalPrincipals) steward.Principal {
	p.once.Do(func() { p.p = local.LocalPrincipal(ipc.PeerUser(p.conn)) })
	return p.p
}

// ConnContext is the http.Server ConnContext hook for the local endpoint:
// it lets each request name its caller from the connection's peer
// credentials ("UID:NAME" on linux, "local" elsewhere).
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, peerKey{}, &peer{conn: c})
}

// defaultLocal is the LocalPrincipals of a Server whose Options name
// none: auth.Local without rules, for the user this process runs as.
func defaultLocal() LocalPrincipals { return auth.NewLocal(os.Getuid(), nil) }
