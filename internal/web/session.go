package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"sync"
	"time"
)

// Cookie and header names.
const (
	sessionCookie = "steward_session"
	loginCookie   = "steward_login" // the login form's CSRF token, before a session exists
	csrfHeader    = "X-CSRF-Token"
	csrfField     = "csrf"
)

// Session bounds.
const (
	defaultIdle   = 12 * time.Hour
	defaultMaxAge = 7 * 24 * time.Hour
	maxSessions   = 1000
)

// session is one logged-in browser.
type session struct {
	id      string
	csrf    string
	token   string // the API token it logged in with, sent on its behalf
	role    string // that token's role: what the pages offer (the API decides)
	tenant  string // that token's tenant: the pages leave out what is no tenant's
	created time.Time
	seen    time.Time
}

// sessions is the server-side session table. It is safe for concurrent use.
type sessions struct {
	idle, maxAge time.Duration
	now          func() time.Time

	mu sync.Mutex
	m  map[string]*session
}

func newSessions(idle, maxAge time.Duration, now func() time.Time) *sessions {
	return &sessions{idle: idle, maxAge: maxAge, now: now, m: map[string]*session{}}
}

// create starts a session for token of role and tenant, evicting expired sessions and, past
// maxSessions, the least recently seen one.
func (ss *sessions) create(token, role, tenant string) *session {
	now := ss.now()
	s := &session{id: randomString(), csrf: randomString(), token: token, role: role, tenant: tenant, created: now, seen: now}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	var oldest *session
	for id, o := range ss.m {
		if ss.expired(o, now) {
			delete(ss.m, id)
		} else if oldest == nil || o.seen.Before(oldest.seen) {
			oldest = o
		}
	}
	if len(ss.m) >= maxSessions && oldest != nil {
		delete(ss.m, oldest.id)
	}
	ss.m[s.id] = s
	return s
}

func (ss *sessions) expired(s *session, now time.Time) bool {
	return now.Sub(s.seen) >= ss.idle || now.Sub(s.created) >= ss.maxAge
}

// get returns the live session the request's cookie names, marking it seen,
// or nil.
func (ss *sessions) get(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	now := ss.now()
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s := ss.m[c.Value]
	if s == nil {
		return nil
	}
	if ss.expired(s, now) {
		delete(ss.m, s.id)
		return nil
	}
	s.seen = now
	return s
}

// end removes the session with id.
func (ss *sessions) end(id string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.m, id)
}

// len returns the number of sessions held.
func (ss *sessions) len() int {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return len(ss.m)
}

// randomString returns 32 random bytes, base64url-encoded.
func randomString() string {
	var b [32]byte
	rand.Read(b[:]) // never fails: crypto/rand panics on an unusable source
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// equal reports whether a and b are equal, in time that depends on neither.
func equal(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1 && a != "" && b != ""
}

// setCookie sets an HttpOnly, SameSite=Strict cookie for the whole site,
// Secure on a TLS connection; maxAge < 0 deletes it.
func setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   r.TLS != nil,
		SameSite: http.SameSiteStrictMode,
	})
}

// sameOrigin reports whether a state-changing request comes from a page of
// this site, by http.CrossOriginProtection: its Sec-Fetch-Site header, or
// else the host of its Origin header, which holds behind a proxy that
// terminates TLS too. SameSite=Strict cookies and the CSRF token are the
// main defence; this rejects cross-site requests before they reach either.
func (h *Handler) sameOrigin(r *http.Request) bool {
	return h.origins.Check(r) == nil
}

// limiter bounds failed logins per client address: at most max in window.
// It is safe for concurrent use.
type limiter struct {
	max    int
	window time.Duration
	now    func() time.Time

	mu   sync.Mutex
	fail map[string][]time.Time
}

// allow reports whether addr may try to log in now.
func (l *limiter) allow(addr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.recent(addr)) < l.max
}

// failed records a failed login from addr.
func (l *limiter) failed(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.fail) > 10000 { // many addresses: forget them rather than grow
		clear(l.fail)
	}
	l.fail[addr] = append(l.recent(addr), l.now())
}

// recent returns addr's failures within the window; l.mu is held.
func (l *limiter) recent(addr string) []time.Time {
	ts := l.fail[addr]
	cut := l.now().Add(-l.window)
	i := 0
	for i < len(ts) && !ts[i].After(cut) {
		i++
	}
	ts = ts[i:]
	if len(ts) == 0 {
		delete(l.fail, addr)
		return nil
	}
	l.fail[addr] = ts
	return ts
}
