// Package web provides steward's dashboard: server-rendered HTML pages with
// their own CSS and JavaScript, embedded in the binary (nothing is fetched at
// run time), live through the API's event and log streams, and a login that
// turns the API token into a session cookie. Its Handler stands in front of
// the API's TCP handler: the browser drives steward through the same API as
// the CLI, with the session cookie and a CSRF token in place of the bearer
// token. The daemon wiring mounts it; nothing else imports it.
package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/api"
)

// Options configure a Handler.
type Options struct {
	// API is the API's TCP handler, which authenticates every request but
	// GET /healthz by its bearer token (api.Server.TCPHandler).
	API http.Handler
	// Tokens decides which tokens log in: the ones API accepts. A session
	// acts with its token's principal and role.
	Tokens api.Authenticator
	// IdleTimeout ends a session not used for that long (default 12h);
	// MaxAge ends any session that old (default 7 days).
	IdleTimeout, MaxAge time.Duration
	Logger              *slog.Logger
	// Now is the clock of sessions and of relative times; nil means time.Now.
	Now func() time.Time
}

// Handler serves the dashboard at / and passes the API's paths (/v1/...,
// /healthz, /metrics) to the API: as they are for a request with a bearer
// token, on behalf of the session for one with a session cookie, which a
// state-changing request must back with the session's CSRF token. It is safe
// for concurrent use.
type Handler struct {
	o        Options
	log      *slog.Logger
	now      func() time.Time
	sessions *sessions
	limiter  *limiter
	origins  *http.CrossOriginProtection
	mux      *http.ServeMux
	pages    map[string]*template.Template
	assets   map[string]asset
}

// New returns the dashboard's Handler.
func New(o Options) *Handler {
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = defaultIdle
	}
	if o.MaxAge <= 0 {
		o.MaxAge = defaultMaxAge
	}
	h := &Handler{o: o, log: o.Logger, now: o.Now}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	h.sessions = newSessions(o.IdleTimeout, o.MaxAge, h.now)
	h.origins = http.NewCrossOriginProtection()
	h.limiter = &limiter{max: 10, window: time.Minute, now: h.now, fail: map[string][]time.Time{}}
	h.assets = loadAssets()
	h.pages = parsePages(h.funcs())

	m := http.NewServeMux()
	m.HandleFunc("/v1/", h.serveAPI)
	m.HandleFunc("/healthz", h.serveAPI)
	m.HandleFunc("/metrics", h.serveAPI)
	m.HandleFunc("GET /assets/{file}", h.serveAsset)
	m.HandleFunc("GET /login", h.loginPage)
	m.HandleFunc("POST /login", h.login)
	m.HandleFunc("POST /logout", h.logout)
	m.Handle("GET /{$}", h.page(h.overview))
	m.Handle("GET /services", h.page(h.servicesPage))
	m.Handle("GET /services/{name}", h.page(h.servicePage))
	m.Handle("GET /alerts", h.page(h.alertsPage))
	m.Handle("GET /events", h.page(h.eventsPage))
	m.Handle("GET /runs", h.page(h.runsPage))
	m.Handle("GET /runs/{id}", h.page(h.runPage))
	m.Handle("GET /bus", h.page(h.busPage))
	m.Handle("GET /fleet", h.page(h.fleetPage))
	m.Handle("GET /fleet/{node}", h.page(h.nodePage))
	m.Handle("GET /config", h.page(h.configPage))
	m.Handle("GET /report", h.page(h.reportPage))
	m.Handle("/", h.page(h.notFound))
	h.mux = m
	return h
}

// contentSecurityPolicy allows nothing but this origin's own scripts,
// styles, images and connections: no inline script, no framing.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// ServeHTTP sets the security headers of every response and routes r.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", contentSecurityPolicy)
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin") // not no-referrer: a form would then send Origin: null
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
	hd.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
	if r.TLS != nil {
		hd.Set("Strict-Transport-Security", "max-age=31536000")
	}
	h.mux.ServeHTTP(w, r)
}

// serveAPI passes an API request on: as it is when it carries a bearer token
// or has no session (the API answers 401), else with the session's token,
// once a state-changing request has shown the session's CSRF token.
func (h *Handler) serveAPI(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "" {
		h.o.API.ServeHTTP(w, r)
		return
	}
	s := h.sessions.get(r)
	if s == nil {
		h.o.API.ServeHTTP(w, r)
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		if !h.sameOrigin(r) {
			writeAPIError(w, http.StatusForbidden, "cross-origin request refused")
			return
		}
		if !equal(r.Header.Get(csrfHeader), s.csrf) {
			writeAPIError(w, http.StatusForbidden, "missing or invalid CSRF token: send the session's token in the "+csrfHeader+" header")
			return
		}
	}
	r2 := r.Clone(api.FromDashboard(r.Context()))
	r2.Header.Del("Cookie")
	r2.Header.Set("Authorization", "Bearer "+s.token)
	h.o.API.ServeHTTP(w, r2)
}

// writeAPIError writes an error in the API's format.
func writeAPIError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(steward.ErrorResponse{Error: steward.ErrorBody{Code: steward.EFORBIDDEN, Message: msg}})
}

// apiError is an error answer of the API to the dashboard's own call.
type apiError struct {
	status int
	body   steward.ErrorBody
}

func (e *apiError) Error() string { return e.body.Message }

// unavailable reports whether err says a part of the API is not enabled.
func unavailable(err error) bool {
	var ae *apiError
	return errors.As(err, &ae) && ae.status == http.StatusServiceUnavailable
}

// call makes the API request method path on behalf of session s, in the
// process, and decodes its JSON answer into out (a *string takes the body
// as text).
func (h *Handler) call(r *http.Request, s *session, method, path string, out any) error {
	req, err := http.NewRequestWithContext(api.FromDashboard(r.Context()), method, path, http.NoBody)
	if err != nil {
		return err
	}
	req.RemoteAddr = r.RemoteAddr
	req.Header.Set("Authorization", "Bearer "+s.token)
	rec := httptest.NewRecorder() // its Code is 200 until the handler says otherwise
	h.o.API.ServeHTTP(rec, req)
	if rec.Code >= 400 {
		var body steward.ErrorResponse
		if json.Unmarshal(rec.Body.Bytes(), &body) != nil || body.Error.Message == "" {
			body.Error.Message = fmt.Sprintf("%s %s: %s", method, path, http.StatusText(rec.Code))
		}
		return &apiError{status: rec.Code, body: body.Error}
	}
	if p, ok := out.(*string); ok {
		*p = rec.Body.String()
		return nil
	}
	if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
		return fmt.Errorf("decode %s %s: %w", method, path, err)
	}
	return nil
}

// clientAddr is the address part of r's remote address.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// loginData is what the login page shows.
type loginData struct {
	CSRF  string
	Next  string
	Error string
	Asset func(string) string
}

// loginPage serves the login form, with a fresh CSRF token in a cookie and
// in the form.
func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	if h.sessions.get(r) != nil {
		http.Redirect(w, r, localPath(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	h.renderLogin(w, r, http.StatusOK, "")
}

func (h *Handler) renderLogin(w http.ResponseWriter, r *http.Request, status int, msg string) {
	tok := randomString()
	setCookie(w, r, loginCookie, tok, 3600)
	next := r.URL.Query().Get("next")
	if r.Method == http.MethodPost {
		next = r.PostFormValue("next")
	}
	h.render(w, status, "login", loginData{CSRF: tok, Next: localPath(next), Error: msg, Asset: h.assetURL})
}

// login checks the form's CSRF token and API token and starts a session.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		h.renderLogin(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	c, err := r.Cookie(loginCookie)
	if err != nil || !equal(c.Value, r.PostFormValue(csrfField)) || !h.sameOrigin(r) {
		h.renderLogin(w, r, http.StatusForbidden, "The form expired. Please try again.")
		return
	}
	addr := clientAddr(r)
	if !h.limiter.allow(addr) {
		h.log.Warn("dashboard login refused: too many failures", "addr", addr)
		h.renderLogin(w, r, http.StatusTooManyRequests, "Too many failed attempts. Wait a minute and try again.")
		return
	}
	token := strings.TrimSpace(r.PostFormValue("token"))
	p, err := h.o.Tokens.Authenticate(r.Context(), token)
	if token == "" || err != nil {
		h.limiter.failed(addr)
		h.log.Warn("dashboard login failed", "addr", addr)
		h.renderLogin(w, r, http.StatusUnauthorized, "That token is not valid.")
		return
	}
	s := h.sessions.create(token, p.Role, p.Tenant)
	h.log.Info("dashboard login", "addr", addr, "who", p.Who, "role", p.Role, "tenant", p.Tenant)
	setCookie(w, r, loginCookie, "", -1)
	setCookie(w, r, sessionCookie, s.id, 0)
	http.Redirect(w, r, localPath(r.PostFormValue("next")), http.StatusSeeOther)
}

// logout ends the session; its form carries the CSRF token.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	s := h.sessions.get(r)
	if s == nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	if !h.sameOrigin(r) || !equal(r.PostFormValue(csrfField), s.csrf) {
		http.Error(w, "missing or invalid CSRF token", http.StatusForbidden)
		return
	}
	h.sessions.end(s.id)
	setCookie(w, r, sessionCookie, "", -1)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// localPath returns p when it is a path on this site, else "/": the only
// places a login may lead to.
func localPath(p string) string {
	u, err := url.Parse(p)
	if err != nil || p == "" || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") ||
		strings.Contains(p, "\\") || u.Scheme != "" || u.Host != "" {
		return "/"
	}
	return p
}

// page adapts a page's data function to http.Handler: without a session it
// sends the browser to the login page; a request with the header
// X-Steward-Partial gets only the page's main part, which the JavaScript
// swaps in when an event arrives.
func (h *Handler) page(fn func(r *http.Request, s *session, v *view) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := h.sessions.get(r)
		if s == nil {
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		v := &view{}
		// The layout first: it notes the last event, so that the page's
		// stream resumes after it and misses nothing the page did not show.
		err := h.layout(r, s, v)
		if err == nil {
			err = fn(r, s, v)
		}
		if err != nil {
			var ae *apiError
			if errors.As(err, &ae) && ae.status == http.StatusUnauthorized {
				h.sessions.end(s.id)
				http.Redirect(w, r, "/login", http.StatusSeeOther)
				return
			}
			status := http.StatusInternalServerError
			msg := "Something went wrong on steward's side; its log says more."
			if errors.As(err, &ae) {
				status, msg = ae.status, ae.body.Message
			} else {
				h.log.Error("dashboard page", "path", r.URL.Path, "err", err)
			}
			v.Template, v.Title, v.Nav, v.Status, v.Data = "error", http.StatusText(status), "", status, msg
			v.LiveTypes, v.Refresh = "", 0
		}
		w.Header().Set("Vary", "X-Steward-Partial")
		name := "layout"
		if r.Header.Get("X-Steward-Partial") != "" {
			name = "main"
		}
		status := v.Status
		if status == 0 {
			status = http.StatusOK
		}
		h.renderPage(w, status, v.Template, name, v)
	})
}

// render executes the standalone template name (the login page).
func (h *Handler) render(w http.ResponseWriter, status int, name string, data any) {
	h.renderPage(w, status, name, name, data)
}

// renderPage executes template name of page's set into a buffer and sends
// it, so a failure still gets a proper status.
func (h *Handler) renderPage(w http.ResponseWriter, status int, page, name string, data any) {
	var b bytes.Buffer
	if err := h.pages[page].ExecuteTemplate(&b, name, data); err != nil {
		h.log.Error("dashboard template", "page", page, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	io.Copy(w, &b)
}
