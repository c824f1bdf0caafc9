package web

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/logcap"
	"github.com/stewardhq/steward/internal/testwait"
)

func TestLoginLimit(t *testing.T) {
	f := newFixture(t, false)
	page := f.do(request{path: "/login"})
	csrf := csrfInput.FindStringSubmatch(page.Body.String())[1]
	try := func(tok string) int {
		r := httptest.NewRequest("POST", "http://example.test/login", strings.NewReader(url.Values{"csrf": {csrf}, "token": {tok}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.AddCookie(&http.Cookie{Name: loginCookie, Value: csrf})
		w := httptest.NewRecorder()
		f.h.ServeHTTP(w, r)
		return w.Code
	}
	for i := range 10 {
		if got := try("guess"); got != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d, want 401", i, got)
		}
	}
	if got := try(token); got != http.StatusTooManyRequests {
		t.Errorf("after 10 failures: %d, want 429 even with the right token", got)
	}
	f.clock.add(61 * time.Second)
	if got := try(token); got != http.StatusSeeOther {
		t.Errorf("a minute later: %d, want 303", got)
	}
}

func TestSessionDrivesAPI(t *testing.T) {
	f := newFixture(t, true)
	sid, csrf := f.login()
	w := f.do(request{path: "/v1/services", cookie: sid})
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"name":"db"`) {
		t.Fatalf("GET /v1/services with a session: %d %s", w.Code, w.Body)
	}
	same := "http://example.test"
	for _, tc := range []struct {
		name   string
		header map[string]string
		status int
	}{
		{"no csrf", map[string]string{"Origin": same}, http.StatusForbidden},
		{"wrong csrf", map[string]string{"Origin": same, csrfHeader: "x" + csrf}, http.StatusForbidden},
		{"other origin", map[string]string{"Origin": "http://evil.test", csrfHeader: csrf}, http.StatusForbidden},
		{"cross-site fetch", map[string]string{"Sec-Fetch-Site": "cross-site", csrfHeader: csrf}, http.StatusForbidden},
	} {
		w := f.do(request{method: "POST", path: "/v1/services/db/stop", cookie: sid, header: tc.header})
		if w.Code != tc.status || !strings.Contains(w.Body.String(), `"forbidden"`) {
			t.Errorf("%s: %d %s, want %d", tc.name, w.Code, w.Body, tc.status)
		}
	}
	if st, _ := f.services.Get("db"); st.State != steward.StateRunning {
		t.Fatalf("db is %s after refused stops", st.State)
	}
	w = f.do(request{method: "POST", path: "/v1/services/db/stop", cookie: sid, header: map[string]string{"Origin": same, csrfHeader: csrf}})
	if w.Code != http.StatusOK {
		t.Fatalf("stop with the CSRF token: %d %s", w.Code, w.Body)
	}
	if st, _ := f.services.Get("db"); st.State != steward.StateStopped {
		t.Errorf("db is %s, want stopped", st.State)
	}
	// The audit names the dashboard and its peer; a bearer token's, the TCP peer.
	w = f.do(request{method: "POST", path: "/v1/alerts/2/ack", cookie: sid, header: map[string]string{csrfHeader: csrf, "Content-Type": "application/json"}})
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"acked_by":"token:bootstrap (admin, via web:192.0.2.1)"`) {
		t.Errorf("ack from the dashboard: %d %s", w.Code, w.Body)
	}
	w = f.do(request{method: "POST", path: "/v1/alerts/3/ack", header: map[string]string{"Authorization": "Bearer " + token, "Content-Type": "application/json"}})
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"acked_by":"token:bootstrap (admin, via tcp:192.0.2.1)"`) {
		t.Errorf("ack with the bearer token: %d %s", w.Code, w.Body)
	}
	// A bearer token is passed on as it is, session or not.
	for _, tc := range []struct {
		auth   string
		status int
	}{{"Bearer " + token, http.StatusOK}, {"Bearer nope", http.StatusUnauthorized}} {
		w := f.do(request{method: "POST", path: "/v1/services/db/start", header: map[string]string{"Authorization": tc.auth}})
		if w.Code != tc.status {
			t.Errorf("POST with %q: %d, want %d", tc.auth, w.Code, tc.status)
		}
	}
}

func TestSessionExpiry(t *testing.T) {
	f := newFixture(t, false)
	sid, _ := f.login()
	f.clock.add(50 * time.Minute)
	if w := f.do(request{path: "/", cookie: sid}); w.Code != http.StatusOK {
		t.Fatalf("after 50 idle minutes: %d, want 200", w.Code)
	}
	f.clock.add(61 * time.Minute)
	if w := f.do(request{path: "/", cookie: sid}); w.Code != http.StatusSeeOther {
		t.Errorf("after 61 idle minutes: %d, want 303 to the login page", w.Code)
	}
	if f.h.sessions.len() != 0 {
		t.Errorf("the idle session is still held")
	}
	sid, _ = f.login()
	for range 5 { // in use, but past MaxAge
		f.clock.add(50 * time.Minute)
		f.do(request{path: "/v1/info", cookie: sid})
	}
	if w := f.do(request{path: "/v1/info", cookie: sid}); w.Code != http.StatusUnauthorized {
		t.Errorf("past MaxAge: %d, want 401", w.Code)
	}
}

func TestSessionTable(t *testing.T) {
	c := &testClock{t: time.Now()}
	ss := newSessions(time.Hour, 2*time.Hour, c.now)
	first := ss.create("t", "admin", "")
	c.add(time.Second)
	for range maxSessions - 1 {
		ss.create("t", "admin", "")
	}
	if ss.len() != maxSessions {
		t.Fatalf("len = %d", ss.len())
	}
	ss.create("t", "admin", "")
	if ss.len() != maxSessions {
		t.Errorf("len = %d, want it bounded at %d", ss.len(), maxSessions)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: sessionCookie, Value: first.id})
	if ss.get(r) != nil {
		t.Error("the least recently seen session was not evicted")
	}
	c.add(2 * time.Hour)
	ss.create("t", "admin", "")
	if ss.len() != 1 {
		t.Errorf("len = %d after expiry, want 1", ss.len())
	}
	if equal("", "") || !equal("a", "a") || equal("a", "b") {
		t.Error("equal is wrong")
	}
}

func TestLogout(t *testing.T) {
	f := newFixture(t, false)
	sid, csrf := f.login()
	w := f.do(request{method: "POST", path: "/logout", cookie: sid, form: url.Values{"csrf": {"nope"}}})
	if w.Code != http.StatusForbidden {
		t.Errorf("logout without the CSRF token: %d, want 403", w.Code)
	}
	w = f.do(request{method: "POST", path: "/logout", cookie: sid, form: url.Values{"csrf": {csrf}}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/login" {
		t.Errorf("logout: %d to %q", w.Code, w.Header().Get("Location"))
	}
	if w := f.do(request{path: "/v1/info", cookie: sid}); w.Code != http.StatusUnauthorized {
		t.Errorf("after logout: %d, want 401", w.Code)
	}
	if w := f.do(request{method: "POST", path: "/logout", form: url.Values{}}); w.Code != http.StatusSeeOther {
		t.Errorf("logout without a session: %d, want 303", w.Code)
	}
}

// TestStreamsThroughSession follows the event stream and a log with the
// session cookie, over a real connection: the handler must pass flushes on.
func TestStreamsThroughSession(t *testing.T) {
	f := newFixture(t, false)
	sid, _ := f.login()
	srv := httptest.NewServer(f.h)
	t.Cleanup(srv.Close) // after the streams' cleanups below

	get := func(path string) *bufio.Reader {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: sid})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		t.Cleanup(cancel)
		res, err := http.DefaultClient.Do(req.WithContext(ctx))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", path, res.StatusCode)
		}
		return bufio.NewReader(res.Body)
	}
	events := get("/v1/events?follow=1&after=2")
	testwait.For(t, 5*time.Second, "the event stream's subscription", func() bool { return f.events.Subscribers() > 0 })
	f.events.Record(steward.Event{Type: steward.EventState, Service: "db", Reason: "live one"})
	if line := readUntil(t, events, "data:"); !strings.Contains(line, "live one") {
		t.Errorf("event stream: %q", line)
	}
	logs := get("/v1/services/web/logs?follow=1&n=0")
	testwait.For(t, 5*time.Second, "the log stream's subscription", func() bool { return f.services.LogOf("web").Subscribers() > 0 })
	f.services.LogOf("web").Add(logcap.Line{Time: time.Now(), Stream: "stdout", Text: "fresh line"})
	if line := readUntil(t, logs, "{"); !strings.Contains(line, "fresh line") {
		t.Errorf("log stream: %q", line)
	}
}

func readUntil(t *testing.T, r *bufio.Reader, prefix string) string {
	t.Helper()
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if strings.HasPrefix(line, prefix) {
			return line
		}
	}
}
