package web

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/api/apitest"
	"github.com/stewardhq/steward/internal/auth"
	"github.com/stewardhq/steward/internal/check"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/logcap"
	"github.com/stewardhq/steward/internal/metrics"
	"github.com/stewardhq/steward/internal/store"
)

const token = "s3cret-token"

const configText = `node: web-01
services:
  db:
    command: ["sleep", "3600"]
  web:
    command: ./web --port 8080   # the site
    depends_on: [db]
    env: {PORT: "8080"}

checks:
  port: {tcp: "127.0.0.1:9"}
`

// fakeAlerts is an in-memory api.Alerts.
type fakeAlerts struct {
	mu       sync.Mutex
	alerts   []steward.Alert
	silences []steward.Silence
}

func (f *fakeAlerts) Alerts(_ context.Context, fl store.AlertFilter) ([]steward.Alert, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []steward.Alert
	for _, a := range f.alerts {
		if !fl.Open || a.Open() {
			out = append(out, a)
		}
	}
	return out, nil
}

func (f *fakeAlerts) Alert(_ context.Context, id int64) (steward.Alert, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, a := range f.alerts {
		if a.ID == id {
			return a, nil
		}
	}
	return steward.Alert{}, steward.Errorf(steward.ENOTFOUND, "no alert %d", id)
}

func (f *fakeAlerts) Ack(_ context.Context, id int64, who, comment string) (steward.Alert, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, a := range f.alerts {
		if a.ID == id {
			f.alerts[i].AckedBy, f.alerts[i].AckComment = who, comment
			return f.alerts[i], nil
		}
	}
	return steward.Alert{}, steward.Errorf(steward.ENOTFOUND, "no alert %d", id)
}

func (f *fakeAlerts) Silences() []steward.Silence {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.silences)
}

func (f *fakeAlerts) AddSilence(_ context.Context, s steward.Silence) (steward.Silence, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s.ID = int64(len(f.silences) + 1)
	f.silences = append(f.silences, s)
	return s, nil
}

func (f *fakeAlerts) DeleteSilence(context.Context, int64) error { return nil }

// fakeMetrics answers every query with one series of a few points.
type fakeMetrics struct{ now time.Time }

func (f fakeMetrics) Query(_ context.Context, q metrics.Query) ([]metrics.Series, error) {
	se := metrics.Series{Name: q.Name, Labels: q.Labels, Tier: "raw", Step: 10000}
	if q.Name == metrics.SystemDiskPercent {
		se.Labels = map[string]string{"mount": "/"}
	}
	for i := range 5 {
		t := float64(f.now.Add(time.Duration(i-5) * time.Minute).UnixMilli())
		v := float64(20 + 15*i)
		if q.Name == metrics.ServiceRSS {
			v = float64(50<<20 + i<<20)
		}
		se.Points = append(se.Points, [4]float64{t, v, v, v})
	}
	return []metrics.Series{se}, nil
}

func (fakeMetrics) Record(context.Context, ...metrics.Sample) error { return nil }

// fakeChecks holds one failing check.
type fakeChecks struct{ now time.Time }

func (f fakeChecks) States() []check.State {
	return []check.State{{Name: "port", Check: &config.Check{Name: "port", TCP: "127.0.0.1:9", Interval: time.Minute},
		Last: &check.Result{Status: check.Critical, Message: "connection refused", Time: f.now}}}
}

// fixture is a dashboard over a real api.Server with in-memory parts.
type fixture struct {
	t        *testing.T
	h        *Handler
	services *apitest.Services
	events   *apitest.Events
	configs  *apitest.Configs
	alerts   *fakeAlerts
	clock    *testClock
}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newFixture builds a dashboard; with monitoring false its API has no
// alerts nor metrics.
func newFixture(t *testing.T, monitoring bool) *fixture {
	t.Helper()
	now := time.Now()
	f := &fixture{t: t, clock: &testClock{t: now}, events: &apitest.Events{}, alerts: &fakeAlerts{}}
	f.services = apitest.NewServices(
		steward.ServiceStatus{Name: "db", Kind: "exec", State: steward.StateRunning, PID: 101, Health: steward.HealthHealthy,
			Since: now.Add(-time.Hour), CPUPercent: 1.5, RSSBytes: 12 << 20, Threads: 4, OpenFiles: 9},
		steward.ServiceStatus{Name: "web", Kind: "exec", State: steward.StateBackoff, Health: steward.HealthUnknown,
			Since: now.Add(-time.Minute), Restarts: 3, Reason: "exit status 1; restarting", DependsOn: []string{"db"}},
	)
	f.services.LogOf("web").Add(logcap.Line{Time: now, Stream: "stderr", Text: "listen: address in use"})
	var err error
	f.configs, err = apitest.NewConfigs("/etc/steward.yaml", []byte(configText))
	if err != nil {
		t.Fatal(err)
	}
	f.events.Record(steward.Event{Type: steward.EventSystem, Reason: "steward started"})
	f.events.Record(steward.Event{Type: steward.EventState, Service: "web", From: steward.StateRunning,
		To: steward.StateBackoff, PID: 202, Reason: "exit status 1; restarting"})
	o := api.Options{Services: f.services, Events: f.events, Configs: f.configs, Node: "web-01", Version: "1.2.3", Started: now.Add(-2 * time.Hour)}
	if monitoring {
		f.alerts.alerts = []steward.Alert{
			{ID: 1, Rule: "restarting", Subject: "web", Severity: steward.SeverityWarning, State: steward.AlertFiring,
				Message: "exit status 1", Started: now.Add(-time.Minute), Updated: now},
			{ID: 2, Rule: "check", Subject: "port", Severity: steward.SeverityCritical, State: steward.AlertFiring,
				Message: "connection refused", Started: now.Add(-time.Minute), Updated: now},
			{ID: 3, Rule: "failed", Subject: "db", Severity: steward.SeverityCritical, State: steward.AlertResolved,
				Message: "gave up", Started: now.Add(-time.Hour), Resolved: now.Add(-30 * time.Minute), Updated: now},
		}
		f.alerts.silences = []steward.Silence{
			{ID: 1, Matchers: map[string]string{"subject": "web", "rule": "x", "team": "ops"}, Starts: now, Ends: now.Add(time.Hour), By: "tcp:1.2.3.4", Comment: "deploy"},
			{ID: 2, Matchers: map[string]string{"subject": "old"}, Starts: now.Add(-2 * time.Hour), Ends: now.Add(-time.Hour)},
		}
		o.Alerts = f.alerts
		o.Metrics = fakeMetrics{now: now}
		o.Checks = fakeChecks{now: now}
		o.Reports = fakeReports{}
	}
	srv := api.New(o)
	authn := &auth.Tokens{Bootstrap: token}
	f.h = New(Options{API: srv.TCPHandler(authn, nil), Tokens: authn, Now: f.clock.now,
		IdleTimeout: time.Hour, MaxAge: 4 * time.Hour})
	return f
}

// request is one request to the dashboard.
type request struct {
	method, path string
	form         url.Values
	cookie       string // a session id
	header       map[string]string
}

func (f *fixture) do(rq request) *httptest.ResponseRecorder {
	f.t.Helper()
	var body io.Reader
	if rq.form != nil {
		body = strings.NewReader(rq.form.Encode())
	}
	if rq.method == "" {
		rq.method = "GET"
	}
	r := httptest.NewRequest(rq.method, "http://example.test"+rq.path, body)
	if rq.form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if rq.cookie != "" {
		r.AddCookie(&http.Cookie{Name: sessionCookie, Value: rq.cookie})
	}
	for k, v := range rq.header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	return w
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// login logs in through the form and returns the session id and its CSRF
// token.
func (f *fixture) login() (string, string) {
	f.t.Helper()
	page := f.do(request{path: "/login"})
	m := csrfInput.FindStringSubmatch(page.Body.String())
	if m == nil {
		f.t.Fatalf("no csrf field in the login page:\n%s", page.Body)
	}
	r := httptest.NewRequest("POST", "http://example.test/login", strings.NewReader(url.Values{
		"csrf": {m[1]}, "token": {token}, "next": {"/services"}}.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Origin", "http://example.test")
	for _, c := range page.Result().Cookies() {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/services" {
		f.t.Fatalf("login: %d %s, want 303 to /services:\n%s", w.Code, w.Header().Get("Location"), w.Body)
	}
	var sid string
	for _, c := range w.Result().Cookies() {
		if c.Name == sessionCookie {
			sid = c.Value
			if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" {
				f.t.Errorf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/", c)
			}
		}
	}
	if sid == "" {
		f.t.Fatal("login set no session cookie")
	}
	main := f.do(request{path: "/", cookie: sid})
	m = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)">`).FindStringSubmatch(main.Body.String())
	if m == nil {
		f.t.Fatalf("no csrf meta in the overview:\n%s", main.Body)
	}
	return sid, m[1]
}

func TestSecurityHeaders(t *testing.T) {
	f := newFixture(t, true)
	sid, _ := f.login()
	for _, rq := range []request{
		{path: "/login"},
		{path: "/"},
		{path: "/", cookie: sid},
		{path: "/v1/services"},
		{path: "/v1/services", cookie: sid},
		{path: "/assets/app.js"},
		{path: "/nope", cookie: sid},
	} {
		w := f.do(rq)
		h := w.Header()
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", rq.path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("%s: CSP %q allows unsafe script", rq.path, csp)
		}
		for k, want := range map[string]string{
			"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
		} {
			if got := h.Get(k); got != want {
				t.Errorf("%s: %s = %q, want %q", rq.path, k, got, want)
			}
		}
	}
}

func TestNoInlineScriptOrStyle(t *testing.T) {
	f := newFixture(t, true)
	sid, _ := f.login()
	inline := regexp.MustCompile(`<script>|<script [^>]*>[^<]|<style|\sstyle="|\son[a-z]+="`)
	for _, p := range []string{"/", "/services", "/services/web", "/alerts", "/events", "/config", "/report", "/login"} {
		body := f.do(request{path: p, cookie: sid}).Body.String()
		if p == "/login" {
			body = f.do(request{path: p}).Body.String()
		}
		if m := inline.FindString(body); m != "" {
			t.Errorf("%s has inline script or style %q, which the CSP blocks", p, m)
		}
	}
}

func TestNoDataWithoutSession(t *testing.T) {
	f := newFixture(t, true)
	sid, _ := f.login()
	for _, cookie := range []string{"", "not-a-session"} {
		for _, p := range []string{"/", "/services", "/services/web", "/alerts", "/events", "/config", "/config?view=1", "/report", "/whatever"} {
			w := f.do(request{path: p, cookie: cookie})
			if w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), "/login?next=") {
				t.Errorf("GET %s (cookie %q): %d to %q, want 303 to the login page", p, cookie, w.Code, w.Header().Get("Location"))
			}
			if body := w.Body.String(); strings.Contains(body, "web-01") || strings.Contains(body, "sleep") {
				t.Errorf("GET %s without a session shows data:\n%s", p, body)
			}
		}
		for _, p := range []string{"/v1/services", "/v1/events", "/v1/config", "/v1/alerts", "/v1/report", "/metrics"} {
			w := f.do(request{path: p, cookie: cookie})
			if w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), `"unauthorized"`) {
				t.Errorf("GET %s (cookie %q): %d %s, want a JSON 401", p, cookie, w.Code, w.Body)
			}
		}
		w := f.do(request{method: "POST", path: "/v1/services/db/stop", cookie: cookie})
		if w.Code != http.StatusUnauthorized {
			t.Errorf("POST stop (cookie %q): %d, want 401", cookie, w.Code)
		}
	}
	if w := f.do(request{path: "/healthz"}); w.Code != http.StatusOK {
		t.Errorf("GET /healthz: %d, want 200 without a session", w.Code)
	}
	// The login page does not lead anywhere with a session.
	if w := f.do(request{path: "/login?next=/config", cookie: sid}); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/config" {
		t.Errorf("GET /login with a session: %d to %q, want 303 to /config", w.Code, w.Header().Get("Location"))
	}
}

func TestLogin(t *testing.T) {
	f := newFixture(t, false)
	page := f.do(request{path: "/login?next=/alerts"})
	if page.Code != http.StatusOK || !strings.Contains(page.Body.String(), `name="next" value="/alerts"`) {
		t.Fatalf("login page: %d\n%s", page.Code, page.Body)
	}
	csrf := csrfInput.FindStringSubmatch(page.Body.String())[1]
	var loginC *http.Cookie
	for _, c := range page.Result().Cookies() {
		if c.Name == loginCookie {
			loginC = c
		}
	}
	if loginC == nil || !loginC.HttpOnly || loginC.SameSite != http.SameSiteStrictMode {
		t.Fatalf("login cookie %+v", loginC)
	}
	post := func(form url.Values, origin string, withCookie bool) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "http://example.test/login", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.RemoteAddr = "192.0.2.7:5555"
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		if withCookie {
			r.AddCookie(loginC)
		}
		w := httptest.NewRecorder()
		f.h.ServeHTTP(w, r)
		return w
	}
	good := url.Values{"csrf": {csrf}, "token": {token}, "next": {"/alerts"}}
	for _, tc := range []struct {
		name   string
		form   url.Values
		origin string
		cookie bool
		status int
		text   string
	}{
		{"no login cookie", good, "http://example.test", false, http.StatusForbidden, "form expired"},
		{"wrong csrf", url.Values{"csrf": {"x"}, "token": {token}}, "http://example.test", true, http.StatusForbidden, "form expired"},
		{"other origin", good, "http://evil.test", true, http.StatusForbidden, "form expired"},
		{"null origin", good, "null", true, http.StatusForbidden, "form expired"},
		{"wrong token", url.Values{"csrf": {csrf}, "token": {"guess"}}, "http://example.test", true, http.StatusUnauthorized, "not valid"},
		{"empty token", url.Values{"csrf": {csrf}, "token": {""}}, "http://example.test", true, http.StatusUnauthorized, "not valid"},
	} {
		w := post(tc.form, tc.origin, tc.cookie)
		if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.text) {
			t.Errorf("%s: %d, want %d with %q", tc.name, w.Code, tc.status, tc.text)
		}
		for _, c := range w.Result().Cookies() {
			if c.Name == sessionCookie {
				t.Errorf("%s: a session cookie was set", tc.name)
			}
		}
	}
	w := post(good, "http://example.test", true)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/alerts" {
		t.Fatalf("good login: %d to %q", w.Code, w.Header().Get("Location"))
	}
	if f.h.sessions.len() != 1 {
		t.Errorf("sessions = %d, want 1", f.h.sessions.len())
	}
	// An open redirect is not possible.
	w = post(url.Values{"csrf": {csrf}, "token": {token}, "next": {"//evil.test/x"}}, "", true)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/" {
		t.Errorf("login with next=//evil.test: %d to %q, want /", w.Code, w.Header().Get("Location"))
	}
	// Bad form bodies are refused.
	r := httptest.NewRequest("POST", "http://example.test/login", strings.NewReader("%zz"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, r)
	if rec.Code != http.StatusBadRequest {
		t.Errorf("malformed form: %d, want 400", rec.Code)
	}
}

func TestPages(t *testing.T) {
	f := newFixture(t, true)
	sid, _ := f.login()
	for _, tc := range []struct {
		path string
		want []string
	}{
		{"/", []string{"Overview", "web-01", `class="gauge`, "Disk /", "CPU", "restarting · web", "Needs attention", "steward started"}},
		{"/?range=24h", []string{`href="?range=24h" aria-current="true"`}},
		{"/services", []string{`data-service="db"`, `data-service="web"`, "12.0 MiB", "1.5%", "exit status 1; restarting",
			`data-action="/v1/services/web/stop"`}},
		{"/services/web", []string{`id="logs" data-service="web"`, "Depends on", `href="/services/db"`, "command: ./web --port 8080",
			"Memory (RSS)", "restarting"}},
		{"/services/db", []string{"Needed by", `href="/services/web"`, "12.0 MiB", "4 · 9"}},
		{"/alerts", []string{`data-subject="port"`, `data-ack="2"`, "rule=x subject=web team=ops", "gave up", "tcp 127.0.0.1:9", `class="chip check-CRITICAL"`}},
		{"/events", []string{"steward started", "exit status 1; restarting", `<option value="web"`, `<option value="log"`, `<option value="notification"`}},
		{"/events?service=web&type=state", []string{"exit status 1; restarting", `<option value="state" selected`}},
		{"/config", []string{"/etc/steward.yaml", `data-version="1"`, "Only one version so far"}},
	} {
		w := f.do(request{path: tc.path, cookie: sid})
		if w.Code != http.StatusOK {
			t.Errorf("GET %s: %d\n%s", tc.path, w.Code, w.Body)
			continue
		}
		for _, s := range tc.want {
			if !strings.Contains(w.Body.String(), s) {
				t.Errorf("GET %s lacks %q", tc.path, s)
			}
		}
	}
	body := f.do(request{path: "/events?type=config", cookie: sid}).Body.String()
	if strings.Contains(body, "exit status 1; restarting") {
		t.Error("/events?type=config shows a state event")
	}
	body = f.do(request{path: "/alerts", cookie: sid}).Body.String()
	if strings.Contains(body, "subject=old") {
		t.Error("an ended silence is listed")
	}

	// A partial answer is the page's main part only.
	w := f.do(request{path: "/services", cookie: sid, header: map[string]string{"X-Steward-Partial": "1"}})
	if b := w.Body.String(); strings.Contains(b, "<html") || !strings.Contains(b, `id="services-card" data-live`) {
		t.Errorf("partial /services:\n%s", b)
	}

	// Errors are pages too.
	for path, status := range map[string]int{"/services/nope": 404, "/nope": 404, "/config?view=9": 404} {
		w := f.do(request{path: path, cookie: sid})
		if w.Code != status || !strings.Contains(w.Body.String(), "<html") {
			t.Errorf("GET %s: %d, want an HTML %d", path, w.Code, status)
		}
	}
}

func TestConfigHistoryPage(t *testing.T) {
	f := newFixture(t, false)
	sid, _ := f.login()
	if _, err := f.configs.Apply(context.Background(), []byte(strings.Replace(configText, "sleep", "sleepy", 1)), "tcp:x"); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string][]string{
		"/config":               {`<span class="d-del">-    command: [&#34;sleep&#34;`, `<span class="d-add">&#43;    command: [&#34;sleepy&#34;`, `data-rollback="1" data-current="2"`},
		"/config?view=1":        {"Version 1", "Back to current"},
		"/config?from=2&to=2":   {"are the same"},
		"/config?from=1&to=2&x": {`<span class="d-hunk">@@`},
	} {
		body := f.do(request{path: path, cookie: sid}).Body.String()
		for _, s := range want {
			if !strings.Contains(body, s) {
				t.Errorf("GET %s lacks %q in\n%s", path, s, body)
			}
		}
	}
}

func TestPagesWithoutMonitoring(t *testing.T) {
	f := newFixture(t, false)
	sid, _ := f.login()
	for path, want := range map[string]string{
		"/":             "Metrics are not enabled",
		"/alerts":       "Alerts are not enabled",
		"/services/web": "Metrics are not enabled",
	} {
		w := f.do(request{path: path, cookie: sid})
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), want) {
			t.Errorf("GET %s: %d, want a page saying %q", path, w.Code, want)
		}
	}
	if body := f.do(request{path: "/", cookie: sid}).Body.String(); !strings.Contains(body, `id="nav-firing" hidden`) {
		t.Error("the firing badge shows without alerts")
	}
}

func TestMachineWithoutSysmon(t *testing.T) {
	h := New(Options{API: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/v1/metrics/query":
			io.WriteString(w, `{"series":[]}`)
		default:
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `{"error":{"code":"internal","message":"boom"}}`)
		}
	})})
	s := &session{token: token}
	r := httptest.NewRequest("GET", "/", nil)
	m, err := h.machine(r, s, timeRanges[1])
	if err != nil || !strings.Contains(m.Note, "kind sysmon") {
		t.Errorf("machine without samples = %+v, %v; want a note about sysmon", m, err)
	}
	var v view
	if err := h.layout(r, s, &v); err == nil || err.Error() != "boom" {
		t.Errorf("layout over a failing API: %v, want boom", err)
	}
	// A page whose API call fails with an internal error says so.
	h.sessions.m["sid"] = &session{id: "sid", token: token, created: time.Now(), seen: time.Now()}
	r.AddCookie(&http.Cookie{Name: sessionCookie, Value: "sid"})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusInternalServerError || !strings.Contains(w.Body.String(), "boom") {
		t.Errorf("page over a failing API: %d\n%s", w.Code, w.Body)
	}
}

func TestUnauthorizedAPIEndsSession(t *testing.T) {
	h := New(Options{API: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, "not json")
	})})
	h.sessions.m["sid"] = &session{id: "sid", token: "old", created: time.Now(), seen: time.Now()}
	r := httptest.NewRequest("GET", "/services", nil)
	r.AddCookie(&http.Cookie{Name: sessionCookie, Value: "sid"})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/login" || h.sessions.len() != 0 {
		t.Errorf("a session whose token the API refuses: %d to %q, %d sessions", w.Code, w.Header().Get("Location"), h.sessions.len())
	}
}

func TestAssets(t *testing.T) {
	f := newFixture(t, false)
	for name, typ := range map[string]string{"app.js": "text/javascript", "app.css": "text/css", "favicon.svg": "image/svg+xml"} {
		url := f.h.assetURL(name)
		w := f.do(request{path: url})
		if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), typ) || w.Body.Len() == 0 {
			t.Errorf("GET %s: %d %s", url, w.Code, w.Header().Get("Content-Type"))
		}
		if cc := w.Header().Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Errorf("GET %s: Cache-Control %q", url, cc)
		}
		w = f.do(request{path: "/assets/" + name, header: map[string]string{"If-None-Match": w.Header().Get("ETag")}})
		if w.Code != http.StatusNotModified || w.Header().Get("Cache-Control") != "no-cache" {
			t.Errorf("GET %s again: %d %s", name, w.Code, w.Header().Get("Cache-Control"))
		}
	}
	if w := f.do(request{path: "/assets/nope.js"}); w.Code != http.StatusNotFound {
		t.Errorf("unknown asset: %d", w.Code)
	}
}

// TestPagesKnowTheRole: a page names the session's role on its body and
// marks each action's button with the least role it needs, which the
// stylesheet hides from the roles below it.
func TestPagesKnowTheRole(t *testing.T) {
	f := newFixture(t, true)
	sid, _ := f.login()
	body := f.do(request{path: "/services", cookie: sid}).Body.String()
	for _, want := range []string{`<body data-role="admin"`, `data-needs="operator" data-action="/v1/services/web/stop"`, `data-needs="operator" data-action="/v1/services/-/restart"`} {
		if !strings.Contains(body, want) {
			t.Errorf("/services has no %s", want)
		}
	}
	if _, err := f.configs.Apply(context.Background(), []byte(strings.Replace(configText, "sleep", "sleepy", 1)), "tcp:x"); err != nil {
		t.Fatal(err)
	}
	if body := f.do(request{path: "/config", cookie: sid}).Body.String(); !strings.Contains(body, `data-needs="admin" data-rollback="1"`) {
		t.Errorf("/config: the rollback buttons do not need admin")
	}
	css := f.do(request{path: "/" + strings.TrimPrefix(f.h.assetURL("app.css"), "/")}).Body.String()
	if !strings.Contains(css, `body[data-role="viewer"] [data-needs="operator"]`) {
		t.Errorf("app.css does not hide operator buttons from viewers")
	}
}
