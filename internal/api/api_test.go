package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/api/apitest"
	"github.com/stewardhq/steward/internal/client"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/ipc"
	"github.com/stewardhq/steward/internal/logcap"
	"github.com/stewardhq/steward/internal/testwait"
)

const configText = `services:
  web:
    command: [sleep, "100"]
  db:
    command: [sleep, "100"]
`

var since = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

// fixture is a Server over in-memory parts, served on a Unix socket.
type fixture struct {
	services *apitest.Services
	events   *apitest.Events
	configs  *apitest.Configs
	server   *api.Server
	logs     *bytes.Buffer // the server's log
	logMu    *sync.Mutex
	socket   string
	client   *client.Client
	raw      *http.Client // plain HTTP over the socket
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "steward.yaml")
	if err := os.WriteFile(file, []byte(configText), 0o600); err != nil {
		t.Fatal(err)
	}
	configs, err := apitest.NewConfigs(file, []byte(configText))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{
		services: apitest.NewServices(
			steward.ServiceStatus{Name: "web", Kind: "exec", State: steward.StateRunning, PID: 100, Health: steward.HealthHealthy, Since: since},
			steward.ServiceStatus{Name: "db", Kind: "exec", State: steward.StateStopped, Health: steward.HealthUnknown, Since: since},
		),
		events:  &apitest.Events{},
		configs: configs,
		logs:    &bytes.Buffer{},
		logMu:   &sync.Mutex{},
	}
	f.server = api.New(api.Options{
		Services: f.services, Events: f.events, Configs: f.configs,
		Node: "node-1", Version: "1.2.3", Started: since,
		Logger: slog.New(slog.NewTextHandler(lockedWriter{f.logMu, f.logs}, nil)),
	})
	f.socket = apitest.Serve(t, f.server.Handler())
	f.client = client.New(f.socket)
	t.Cleanup(f.client.Close)
	f.raw = &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return ipc.Dial(ctx, f.socket)
	}}}
	t.Cleanup(f.raw.CloseIdleConnections)
	return f
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (w lockedWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(b)
}

func (f *fixture) serverLog() string {
	f.logMu.Lock()
	defer f.logMu.Unlock()
	return f.logs.String()
}

// do makes a raw request over the socket and returns the status, the
// header and the body.
func (f *fixture) do(t *testing.T, method, path string, body io.Reader, header ...string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, "http://steward"+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := f.raw.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// errorOf decodes a JSON error body.
func errorOf(t *testing.T, body []byte) steward.ErrorBody {
	t.Helper()
	var e steward.ErrorResponse
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Code == "" {
		t.Fatalf("body %q is not a JSON error: %v", body, err)
	}
	return e.Error
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var se *steward.Error
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a *steward.Error", err, err)
	}
	if se.Code != code {
		t.Fatalf("error code = %q (%v), want %q", se.Code, err, code)
	}
}

func TestInfoAndServices(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.client.Health(ctx); err != nil {
		t.Fatalf("Health: %v", err)
	}
	info, err := f.client.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := steward.Info{Version: "1.2.3", Node: "node-1", PID: os.Getpid(), Started: since, ConfigVersion: 1}
	if info != want {
		t.Errorf("Info = %+v, want %+v", info, want)
	}
	list, err := f.client.Services(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(list); got != 2 || list[0].Name != "web" || list[1].Name != "db" {
		t.Errorf("Services = %+v, want web and db", list)
	}
	web, err := f.client.Service(ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	if web.PID != 100 || web.State != steward.StateRunning || !web.Since.Equal(since) {
		t.Errorf("Service(web) = %+v", web)
	}
	_, err = f.client.Service(ctx, "nope")
	wantCode(t, err, steward.ENOTFOUND)
	if got, want := err.Error(), `no service "nope"`; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
	doc, err := f.client.OpenAPI(ctx)
	if err != nil || !json.Valid(doc) {
		t.Errorf("OpenAPI: %v, valid JSON %v", err, json.Valid(doc))
	}
}

func TestServicesEmptyList(t *testing.T) {
	f := newFixture(t)
	f.services = apitest.NewServices()
	s := api.New(api.Options{Services: f.services, Events: f.events, Configs: f.configs})
	c := client.New(apitest.Serve(t, s.Handler()))
	defer c.Close()
	_, _, body := rawGet(t, c, "/v1/services")
	if got := strings.TrimSpace(string(body)); got != "[]" {
		t.Errorf("empty service list = %s, want []", got)
	}
}

// rawGet reads path through a fresh raw client on c's socket.
func rawGet(t *testing.T, c *client.Client, path string) (int, http.Header, []byte) {
	t.Helper()
	f := &fixture{socket: c.Address()}
	f.raw = &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return ipc.Dial(ctx, f.socket)
	}}}
	defer f.raw.CloseIdleConnections()
	return f.do(t, "GET", path, nil)
}

func TestActions(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()

	got, err := f.client.Start(ctx, "db")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Name != "db" || got[0].State != steward.StateRunning {
		t.Errorf("Start(db) = %+v", got)
	}
	got, err = f.client.Stop(ctx, "web", "db", "web")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].State != steward.StateStopped || got[1].State != steward.StateStopped {
		t.Errorf("Stop(web, db) = %+v", got)
	}
	got, err = f.client.StartAll(ctx)
	if err != nil || len(got) != 2 {
		t.Fatalf("StartAll = %+v, %v", got, err)
	}
	got, err = f.client.RestartAll(ctx)
	if err != nil || len(got) != 2 || got[0].Restarts != 1 {
		t.Fatalf("RestartAll = %+v, %v", got, err)
	}
	if got, err = f.client.Restart(ctx, "web"); err != nil || got[0].Restarts != 2 {
		t.Fatalf("Restart(web) = %+v, %v", got, err)
	}
	if got, err = f.client.StopAll(ctx); err != nil || len(got) != 2 {
		t.Fatalf("StopAll = %+v, %v", got, err)
	}

	_, err = f.client.Start(ctx, "web", "nope")
	wantCode(t, err, steward.ENOTFOUND)
	_, err = f.client.Stop(ctx, "nope")
	wantCode(t, err, steward.ENOTFOUND)
	_, err = f.client.Start(ctx)
	wantCode(t, err, steward.EINVALID)

	f.services.Err = steward.Errorf(steward.ECONFLICT, "web is being stopped")
	_, err = f.client.Restart(ctx, "web")
	wantCode(t, err, steward.ECONFLICT)
	status, _, body := f.do(t, "POST", "/v1/services/web/restart", nil)
	if status != http.StatusConflict || errorOf(t, body).Message != "web is being stopped" {
		t.Errorf("conflict: %d %s", status, body)
	}

	f.services.Err = errors.New("disk on fire at /dev/sda")
	status, _, body = f.do(t, "POST", "/v1/services/-/stop", nil)
	if e := errorOf(t, body); status != http.StatusInternalServerError || e.Code != steward.EINTERNAL || strings.Contains(e.Message, "disk") {
		t.Errorf("internal error: %d %+v, want 500 with the cause hidden", status, e)
	}
	if !strings.Contains(f.serverLog(), "disk on fire") {
		t.Errorf("internal error not logged: %s", f.serverLog())
	}
}

// TestActionAudit checks that actions are logged with the caller.
func TestActionAudit(t *testing.T) {
	f := newFixture(t)
	if _, err := f.client.Stop(context.Background(), "web"); err != nil {
		t.Fatal(err)
	}
	log := f.serverLog()
	if !strings.Contains(log, "action=stop") || !strings.Contains(log, "who="+socketUser(t)) {
		t.Errorf("audit log = %q, want the action and who", log)
	}
}

// socketUser is how the API names this process's user on the socket.
func socketUser(t *testing.T) string {
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	return u.Uid + ":" + u.Username
}

func TestErrorStatuses(t *testing.T) {
	f := newFixture(t)
	big := strings.Repeat("x", 1<<20+1)
	tests := []struct {
		name, method, path, body string
		header                   []string
		status                   int
		code                     string
	}{
		{"unknown route", "GET", "/v2/nothing", "", nil, 404, steward.ENOTFOUND},
		{"unknown service", "GET", "/v1/services/nope", "", nil, 404, steward.ENOTFOUND},
		{"unknown service logs", "GET", "/v1/services/nope/logs", "", nil, 404, steward.ENOTFOUND},
		{"wrong method", "DELETE", "/v1/services", "", nil, 405, "method_not_allowed"},
		{"wrong method with name", "GET", "/v1/services/web/start", "", nil, 405, "method_not_allowed"},
		{"malformed JSON", "POST", "/v1/services/-/start", `{"names": [`, nil, 400, steward.EINVALID},
		{"JSON of the wrong type", "POST", "/v1/services/-/start", `{"names": "web"}`, nil, 400, steward.EINVALID},
		{"unknown JSON field", "POST", "/v1/services/-/start", `{"name": ["web"]}`, nil, 400, steward.EINVALID},
		{"two JSON values", "POST", "/v1/services/-/start", `{} {}`, nil, 400, steward.EINVALID},
		{"empty names", "POST", "/v1/services/-/start", `{"names": []}`, nil, 400, steward.EINVALID},
		{"empty name", "POST", "/v1/services/-/start", `{"names": [""]}`, nil, 400, steward.EINVALID},
		{"big body", "PUT", "/v1/config", big, nil, 413, steward.ETOOLARGE},
		{"big action body", "POST", "/v1/services/-/stop", big, nil, 413, steward.ETOOLARGE},
		{"empty config", "PUT", "/v1/config", " \n", nil, 400, steward.EINVALID},
		{"malformed config JSON", "PUT", "/v1/config", `{"text": 1}`, []string{"Content-Type", "application/json"}, 400, steward.EINVALID},
		{"empty JSON body", "POST", "/v1/config/validate", ``, []string{"Content-Type", "application/json"}, 400, steward.EINVALID},
		{"invalid config", "PUT", "/v1/config", "services:\n  web: {}\n", nil, 422, steward.EINVALID},
		{"bad n", "GET", "/v1/services/web/logs?n=-1", "", nil, 400, steward.EINVALID},
		{"bad follow", "GET", "/v1/services/web/logs?follow=yes", "", nil, 400, steward.EINVALID},
		{"bad since", "GET", "/v1/events?since=yesterday", "", nil, 400, steward.EINVALID},
		{"negative since", "GET", "/v1/events?since=-5m", "", nil, 400, steward.EINVALID},
		{"bad after", "GET", "/v1/events?after=x", "", nil, 400, steward.EINVALID},
		{"bad limit", "GET", "/v1/events?limit=-2", "", nil, 400, steward.EINVALID},
		{"bad events follow", "GET", "/v1/events?follow=2", "", nil, 400, steward.EINVALID},
		{"bad Last-Event-ID", "GET", "/v1/events?follow=1", "", []string{"Last-Event-ID", "x"}, 400, steward.EINVALID},
		{"bad version", "GET", "/v1/config/versions/abc", "", nil, 400, steward.EINVALID},
		{"version 0", "GET", "/v1/config/versions/0", "", nil, 400, steward.EINVALID},
		{"unknown version", "GET", "/v1/config/versions/99", "", nil, 404, steward.ENOTFOUND},
		{"diff without from", "GET", "/v1/config/diff?to=1", "", nil, 400, steward.EINVALID},
		{"diff with bad to", "GET", "/v1/config/diff?from=1&to=x", "", nil, 400, steward.EINVALID},
		{"diff of unknown version", "GET", "/v1/config/diff?from=1&to=7", "", nil, 404, steward.ENOTFOUND},
		{"rollback to bad version", "POST", "/v1/config/rollback/-1", "", nil, 400, steward.EINVALID},
		{"rollback to unknown version", "POST", "/v1/config/rollback/5", "", nil, 404, steward.ENOTFOUND},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, h, body := f.do(t, tt.method, tt.path, strings.NewReader(tt.body), tt.header...)
			e := errorOf(t, body)
			if status != tt.status || e.Code != tt.code {
				t.Errorf("got %d %q (%s), want %d %q", status, e.Code, e.Message, tt.status, tt.code)
			}
			if ct := h.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			if status == 405 && h.Get("Allow") == "" {
				t.Errorf("405 without an Allow header")
			}
		})
	}
}

func TestRedirectPassesThrough(t *testing.T) {
	f := newFixture(t)
	req, _ := http.NewRequest("GET", "http://steward/v1//services", nil)
	f.raw.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := f.raw.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 3 || resp.Header.Get("Location") != "/v1/services" {
		t.Errorf("unclean path: %d to %q, want a redirect to /v1/services", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestInternalErrorHidden(t *testing.T) {
	f := newFixture(t)
	f.configs.Err = errors.New("sqlite: database is locked at /var/lib/x")
	_, err := f.client.Info(context.Background())
	wantCode(t, err, steward.EINTERNAL)
	if strings.Contains(err.Error(), "sqlite") {
		t.Errorf("internal error shown: %v", err)
	}
	_, err = f.client.ConfigVersions(context.Background())
	wantCode(t, err, steward.EINTERNAL)
	_, err = f.client.Config(context.Background())
	wantCode(t, err, steward.EINTERNAL)
	if !strings.Contains(f.serverLog(), "database is locked") {
		t.Errorf("internal error not logged")
	}
}

func TestTCPAuth(t *testing.T) {
	f := newFixture(t)
	l, err := ipc.ListenTCP("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: f.server.TCPHandler(api.StaticToken("s3cret")), ConnContext: api.ConnContext}
	go srv.Serve(l)
	defer srv.Close()
	url := "http://" + l.Addr().String()
	ctx := context.Background()

	for _, tok := range []string{"", "wrong", "s3cret2", "s3cre"} {
		c := client.New(url, client.WithToken(tok))
		_, err := c.Services(ctx)
		wantCode(t, err, steward.EUNAUTHORIZED)
		c.Close()
	}
	for _, h := range []string{"Basic czNjcmV0", "Bearer", "Bearer  ", "s3cret"} {
		req, _ := http.NewRequest("GET", url+"/v1/services", nil)
		req.Header.Set("Authorization", h)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("Authorization %q: %d, want 401 with WWW-Authenticate", h, resp.StatusCode)
		}
	}
	if err := client.New(url).Health(ctx); err != nil {
		t.Errorf("healthz without a token: %v", err)
	}
	c := client.New(url+"/", client.WithToken("s3cret"))
	defer c.Close()
	list, err := c.Services(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("Services with the token = %v, %v", list, err)
	}
	if _, err := c.ApplyConfig(ctx, []byte(configText)); err != nil {
		t.Fatal(err)
	}
	if got := f.configs.Who; !slices.Equal(got, []string{"tcp:127.0.0.1"}) {
		t.Errorf("who on TCP = %q, want tcp:127.0.0.1", got)
	}
	if got := api.StaticToken("").CheckToken(""); got {
		t.Errorf("an empty StaticToken accepts the empty token")
	}
}

func TestLogs(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	lg := f.services.LogOf("web")
	t0 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	for i := range 5 {
		lg.Add(logcap.Line{Time: t0.Add(time.Duration(i) * time.Millisecond), Stream: logcap.Stdout, Text: "line " + strconv.Itoa(i)})
	}
	lines, err := f.client.Logs(ctx, "web", 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 2 || lines[0].Text != "line 3" || lines[1].Text != "line 4" || lines[1].Stream != "stdout" {
		t.Errorf("Logs(web, 2) = %+v", lines)
	}
	if lines, err = f.client.Logs(ctx, "web", -1); err != nil || len(lines) != 5 {
		t.Errorf("Logs(web, default) = %d lines, %v", len(lines), err)
	}
	if lines, err = f.client.Logs(ctx, "web", 0); err != nil || len(lines) != 0 {
		t.Errorf("Logs(web, 0) = %d lines, %v", len(lines), err)
	}
	_, err = f.client.Logs(ctx, "nope", 2)
	wantCode(t, err, steward.ENOTFOUND)
	status, h, _ := f.do(t, "GET", "/v1/services/web/logs", nil)
	if status != 200 || h.Get("Content-Type") != "application/x-ndjson" {
		t.Errorf("logs: %d %q, want 200 NDJSON", status, h.Get("Content-Type"))
	}
}

func TestLogsFollow(t *testing.T) {
	f := newFixture(t)
	lg := f.services.LogOf("web")
	t0 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	line := func(i int) logcap.Line {
		return logcap.Line{Time: t0.Add(time.Duration(i) * time.Millisecond), Stream: logcap.Stderr, Text: "line " + strconv.Itoa(i)}
	}
	lg.Add(line(0), line(1))
	// A line captured between Subscribe and Tail is in both: sent once.
	lg.OnSubscribe = func() { lg.Add(line(2)) }

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		mu  sync.Mutex
		got []string
	)
	done := make(chan error, 1)
	go func() {
		done <- f.client.FollowLogs(ctx, "web", 10, true, func(l steward.LogLine) error {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, l.Text)
			return nil
		})
	}()
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(got)
	}
	testwait.For(t, 5*time.Second, "the tail", func() bool { return count() == 3 })
	lg.OnSubscribe = nil
	for i := 3; i < 600; i++ {
		lg.Add(line(i))
	}
	testwait.For(t, 5*time.Second, "600 lines", func() bool { return count() >= 600 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("FollowLogs after cancel = %v, want context.Canceled", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 600 {
		t.Fatalf("got %d lines, want 600", len(got))
	}
	for i, text := range got {
		if want := "line " + strconv.Itoa(i); text != want {
			t.Fatalf("line %d = %q, want %q", i, text, want)
		}
	}
	testwait.For(t, 5*time.Second, "the subscription to end", func() bool { return lg.Subscribers() == 0 })
}

func TestLogsFollowEnds(t *testing.T) {
	f := newFixture(t)
	lg := f.services.LogOf("db")
	errc := make(chan error, 1)
	n := 0
	go func() {
		errc <- f.client.FollowLogs(context.Background(), "db", 0, true, func(steward.LogLine) error {
			n++
			return nil
		})
	}()
	testwait.For(t, 5*time.Second, "the subscription", func() bool { return lg.Subscribers() == 1 })
	lg.Add(logcap.Line{Time: since, Stream: logcap.Stdout, Text: "last words"})
	lg.CloseSubscribers()
	if err := <-errc; err != nil || n != 1 {
		t.Errorf("FollowLogs when the log closes = %v after %d lines, want nil after 1", err, n)
	}

	// An error from the callback ends the stream and is returned.
	stop := errors.New("enough")
	lg.Add(logcap.Line{Time: since, Stream: logcap.Stdout, Text: "again"})
	err := f.client.FollowLogs(context.Background(), "db", 5, true, func(steward.LogLine) error { return stop })
	if !errors.Is(err, stop) {
		t.Errorf("FollowLogs = %v, want the callback's error", err)
	}
}

// sse is an SSE reader of a raw follow request.
type sse struct {
	t    *testing.T
	body io.ReadCloser
	sc   *bufio.Scanner
}

func (f *fixture) openSSE(t *testing.T, path string, header ...string) *sse {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://steward"+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := f.raw.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("open %s: %d %q", path, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	t.Cleanup(func() { resp.Body.Close() })
	return &sse{t: t, body: resp.Body, sc: bufio.NewScanner(resp.Body)}
}

// next returns the id and event of the next message, skipping comments.
func (s *sse) next() (string, steward.Event) {
	s.t.Helper()
	var id string
	var ev steward.Event
	for s.sc.Scan() {
		line := s.sc.Text()
		switch {
		case strings.HasPrefix(line, "id: "):
			id = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "data: "):
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &ev); err != nil {
				s.t.Fatal(err)
			}
		case line == "" && id != "":
			return id, ev
		}
	}
	s.t.Fatalf("stream ended: %v", s.sc.Err())
	return "", ev
}

func (f *fixture) record(n int, service string) {
	for range n {
		f.events.Record(steward.Event{Type: steward.EventState, Service: service, From: steward.StateStopped, To: steward.StateRunning, Reason: "test"})
	}
}

func ids(evs []steward.Event) []int64 {
	var out []int64
	for _, ev := range evs {
		out = append(out, ev.ID)
	}
	return out
}

func TestEventsList(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.record(3, "web")
	f.record(2, "db")
	evs, err := f.client.Events(ctx, steward.EventQuery{})
	if err != nil || !slices.Equal(ids(evs), []int64{1, 2, 3, 4, 5}) {
		t.Errorf("Events() = %v, %v", ids(evs), err)
	}
	evs, _ = f.client.Events(ctx, steward.EventQuery{Limit: 2})
	if !slices.Equal(ids(evs), []int64{4, 5}) {
		t.Errorf("Events(limit 2) = %v, want the newest two", ids(evs))
	}
	evs, _ = f.client.Events(ctx, steward.EventQuery{After: 1, Service: "web"})
	if !slices.Equal(ids(evs), []int64{2, 3}) {
		t.Errorf("Events(after 1, web) = %v", ids(evs))
	}
	evs, _ = f.client.Events(ctx, steward.EventQuery{Since: time.Now().Add(time.Hour)})
	if evs == nil || len(evs) != 0 {
		t.Errorf("Events(since later) = %#v, want empty", evs)
	}
	status, _, body := f.do(t, "GET", "/v1/events?since=1h&service=db", nil)
	if status != 200 || !strings.Contains(string(body), `"id":5`) {
		t.Errorf("since as a duration: %d %s", status, body)
	}
	f.events.Err = errors.New("boom")
	_, err = f.client.Events(ctx, steward.EventQuery{})
	wantCode(t, err, steward.EINTERNAL)
	status, _, _ = f.do(t, "GET", "/v1/events?follow=1", nil)
	if status != 500 {
		t.Errorf("follow with a failing store: %d, want 500", status)
	}
}

func TestEventsFollowReplayThenLive(t *testing.T) {
	f := newFixture(t)
	f.record(5, "web")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	evc := make(chan steward.Event, 100)
	done := make(chan error, 1)
	go func() {
		done <- f.client.FollowEvents(ctx, steward.EventQuery{After: 2}, func(ev steward.Event) error {
			evc <- ev
			return nil
		})
	}()
	for want := int64(3); want <= 5; want++ {
		if ev := <-evc; ev.ID != want {
			t.Fatalf("replayed event %d, want %d", ev.ID, want)
		}
	}
	testwait.For(t, 5*time.Second, "the subscription", func() bool { return f.events.Subscribers() == 1 })
	f.record(2, "db")
	for want := int64(6); want <= 7; want++ {
		if ev := <-evc; ev.ID != want || ev.Service != "db" {
			t.Fatalf("live event %+v, want %d of db", ev, want)
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("FollowEvents after cancel = %v", err)
	}
	testwait.For(t, 5*time.Second, "the subscription to end", func() bool { return f.events.Subscribers() == 0 })
}

func TestEventsFollowLastEventID(t *testing.T) {
	f := newFixture(t)
	f.record(6, "web")
	// The reconnect's Last-Event-ID wins over the first request's after.
	s := f.openSSE(t, "/v1/events?follow=1&after=1", "Last-Event-ID", "4")
	for _, want := range []string{"5", "6"} {
		if id, ev := s.next(); id != want || strconv.FormatInt(ev.ID, 10) != want {
			t.Fatalf("replayed id %s (event %d), want %s", id, ev.ID, want)
		}
	}
	testwait.For(t, 5*time.Second, "the subscription", func() bool { return f.events.Subscribers() == 1 })
	f.record(1, "web")
	if id, _ := s.next(); id != "7" {
		t.Fatalf("live id %s, want 7", id)
	}
}

func TestEventsFollowNoGapsNoDuplicates(t *testing.T) {
	f := newFixture(t)
	f.record(2, "web")
	s := f.openSSE(t, "/v1/events?follow=1&after=0")
	for _, want := range []string{"1", "2"} {
		if id, _ := s.next(); id != want {
			t.Fatalf("replayed id %s, want %s", id, want)
		}
	}
	testwait.For(t, 5*time.Second, "the subscription", func() bool { return f.events.Subscribers() == 1 })

	// 3 is stored but never published, 5 is published before 4, and 4 is
	// published twice: the stream still has 3, 4, 5 once each, in order.
	e3 := f.events.Store(steward.Event{Type: steward.EventSystem, Reason: "lost"})
	e4 := f.events.Store(steward.Event{Type: steward.EventSystem, Reason: "late"})
	e5 := f.events.Store(steward.Event{Type: steward.EventSystem, Reason: "early"})
	f.events.Publish(e5)
	f.events.Publish(e4)
	f.events.Publish(e4)
	f.record(1, "db")
	for _, want := range []int64{e3.ID, e4.ID, e5.ID, 6} {
		if _, ev := s.next(); ev.ID != want {
			t.Fatalf("event %d, want %d", ev.ID, want)
		}
	}
}

func TestEventsFollowFiltered(t *testing.T) {
	f := newFixture(t)
	f.record(2, "web")
	f.record(1, "db")
	api.SetKeepalive(f.server, 5*time.Millisecond)
	s := f.openSSE(t, "/v1/events?follow=1&service=db&since=2000-01-01T00:00:00Z")
	if _, ev := s.next(); ev.ID != 3 {
		t.Fatalf("replayed %d, want 3", ev.ID)
	}
	testwait.For(t, 5*time.Second, "the subscription", func() bool { return f.events.Subscribers() == 1 })
	f.record(2, "web")
	// A gap before a filtered event is filled with the filter too.
	f.events.Store(steward.Event{Type: steward.EventState, Service: "db", Reason: "unpublished"})
	f.record(1, "db")
	for _, want := range []int64{6, 7} {
		if _, ev := s.next(); ev.ID != want || ev.Service != "db" {
			t.Fatalf("event %+v, want %d of db", ev, want)
		}
	}
	// Idle: keepalive comments come, then a live event.
	var comments int
	s.sc.Scan()
	for s.sc.Text() == ": keepalive" || s.sc.Text() == "" {
		if s.sc.Text() != "" {
			comments++
		}
		if comments == 2 {
			break
		}
		s.sc.Scan()
	}
	if comments < 2 {
		t.Fatalf("no keepalive comments: %q", s.sc.Text())
	}
}

func TestEventsFollowNewest(t *testing.T) {
	f := newFixture(t)
	f.record(5, "web")
	s := f.openSSE(t, "/v1/events?follow=1&limit=2")
	for _, want := range []int64{4, 5} {
		if _, ev := s.next(); ev.ID != want {
			t.Fatalf("replayed %d, want %d", ev.ID, want)
		}
	}
	testwait.For(t, 5*time.Second, "the subscription", func() bool { return f.events.Subscribers() == 1 })
	f.record(1, "web")
	if _, ev := s.next(); ev.ID != 6 {
		t.Fatalf("live %d, want 6", ev.ID)
	}
}

func TestEventsFollowEmptyStore(t *testing.T) {
	f := newFixture(t)
	evc := make(chan steward.Event, 10)
	errc := make(chan error, 1)
	go func() {
		errc <- f.client.FollowEvents(context.Background(), steward.EventQuery{}, func(ev steward.Event) error {
			evc <- ev
			return nil
		})
	}()
	testwait.For(t, 5*time.Second, "the subscription", func() bool { return f.events.Subscribers() == 1 })
	// The first live event sets the cursor: no gap fill from ID 0.
	e1 := f.events.Store(steward.Event{Type: steward.EventSystem, Reason: "before"})
	_ = e1
	f.record(1, "web")
	if ev := <-evc; ev.ID != 2 {
		t.Fatalf("first live event %d, want 2", ev.ID)
	}
	f.events.CloseSubscribers()
	if err := <-errc; err != nil {
		t.Errorf("FollowEvents when steward ends the stream = %v, want nil", err)
	}
}

func TestEventsFollowReplayPages(t *testing.T) {
	f := newFixture(t)
	f.record(2500, "web")
	s := f.openSSE(t, "/v1/events?follow=1&after=10")
	for want := int64(11); want <= 2500; want++ {
		if _, ev := s.next(); ev.ID != want {
			t.Fatalf("replayed %d, want %d", ev.ID, want)
		}
	}
}

func TestEventsFollowCallbackError(t *testing.T) {
	f := newFixture(t)
	f.record(3, "web")
	stop := errors.New("enough")
	err := f.client.FollowEvents(context.Background(), steward.EventQuery{After: 1}, func(steward.Event) error { return stop })
	if !errors.Is(err, stop) {
		t.Errorf("FollowEvents = %v, want the callback's error", err)
	}
}

func TestConfig(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ct, err := f.client.Config(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ct.Version != 1 || ct.Text != configText || !strings.HasSuffix(ct.File, "steward.yaml") {
		t.Errorf("Config = %+v", ct)
	}
	if err := f.client.ValidateConfig(ctx, []byte(configText)); err != nil {
		t.Errorf("ValidateConfig(valid) = %v", err)
	}
	bad := "services:\n  web: {}\n  db:\n    comand: [x]\n"
	err = f.client.ValidateConfig(ctx, []byte(bad))
	wantCode(t, err, steward.EINVALID)
	var ce *client.ConfigError
	if !errors.As(err, &ce) || len(ce.Problems) != 3 {
		t.Fatalf("ValidateConfig(invalid) = %#v, want a ConfigError with 3 problems", err)
	}
	if p := ce.Problems[0]; p.Line != 2 || p.Col != 3 || !strings.HasSuffix(p.File, "steward.yaml") || p.Message == "" {
		t.Errorf("first problem = %+v", p)
	}
	if !strings.HasSuffix(ce.Problems[0].String(), `steward.yaml:2:3: service "web" has no command`) {
		t.Errorf("problem as text = %q", ce.Problems[0].String())
	}
	if !strings.Contains(err.Error(), "(and 2 more)") {
		t.Errorf("message = %q", err.Error())
	}
	status, _, body := f.do(t, "POST", "/v1/config/validate", strings.NewReader(bad))
	if status != 422 || len(errorOf(t, body).Details) != 3 {
		t.Errorf("validate invalid: %d %s", status, body)
	}
	status, _, body = f.do(t, "POST", "/v1/config/validate", strings.NewReader(`{"text": "services: {}\n"}`), "Content-Type", "application/json; charset=utf-8")
	if status != 200 || strings.TrimSpace(string(body)) != `{"valid":true}` {
		t.Errorf("validate JSON: %d %s", status, body)
	}

	next := configText + "  cache:\n    command: [sleep, \"1\"]\n"
	a, err := f.client.ApplyConfig(ctx, []byte(next))
	if err != nil {
		t.Fatal(err)
	}
	if a.Version != 2 || !slices.Equal(a.Diff.Added, []string{"cache"}) {
		t.Errorf("ApplyConfig = %+v", a)
	}
	if _, err := f.client.ApplyConfig(ctx, []byte(bad)); err == nil {
		t.Errorf("ApplyConfig(invalid) succeeded")
	}
	vs, err := f.client.ConfigVersions(ctx)
	if err != nil || len(vs) != 2 || vs[0].N != 2 || vs[0].Text != "" || vs[0].Source != socketUser(t) {
		t.Errorf("ConfigVersions = %+v, %v", vs, err)
	}
	v1, err := f.client.ConfigVersion(ctx, 1)
	if err != nil || v1.Text != configText || v1.Hash != "hash1" {
		t.Errorf("ConfigVersion(1) = %+v, %v", v1, err)
	}
	_, err = f.client.ConfigVersion(ctx, 9)
	wantCode(t, err, steward.ENOTFOUND)
	diff, err := f.client.ConfigDiff(ctx, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	wantDiff := "--- version 1\n+++ version 2\n@@ -3,3 +3,5 @@\n     command: [sleep, \"100\"]\n   db:\n     command: [sleep, \"100\"]\n+  cache:\n+    command: [sleep, \"1\"]\n"
	if diff != wantDiff {
		t.Errorf("ConfigDiff(1, 2) =\n%s\nwant\n%s", diff, wantDiff)
	}
	if diff, err := f.client.ConfigDiff(ctx, 2, 2); err != nil || diff != "" {
		t.Errorf("ConfigDiff(2, 2) = %q, %v", diff, err)
	}
	_, err = f.client.ConfigDiff(ctx, 1, 5)
	wantCode(t, err, steward.ENOTFOUND)

	a, err = f.client.Rollback(ctx, 1)
	if err != nil || a.Version != 3 || !slices.Equal(a.Diff.Removed, []string{"cache"}) {
		t.Errorf("Rollback(1) = %+v, %v", a, err)
	}
	_, err = f.client.Rollback(ctx, 7)
	wantCode(t, err, steward.ENOTFOUND)

	if err := os.WriteFile(f.configs.Current().File, []byte(next), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err = f.client.Reload(ctx)
	if err != nil || a.Version != 4 {
		t.Errorf("Reload = %+v, %v", a, err)
	}
	if err := os.WriteFile(f.configs.Current().File, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = f.client.Reload(ctx)
	if !errors.As(err, &ce) {
		t.Errorf("Reload(invalid) = %v, want a ConfigError", err)
	}
	os.Remove(f.configs.Current().File)
	_, err = f.client.Reload(ctx)
	wantCode(t, err, steward.ENOTFOUND) // from the cause, fs.ErrNotExist
	if !strings.HasPrefix(err.Error(), "reload: open ") {
		t.Errorf("Reload(no file) = %q, want the cause after reload: ", err)
	}

	who := socketUser(t)
	if got := f.configs.Who; !slices.Equal(got, []string{who, who, who}) {
		t.Errorf("who = %q, want %q each time", got, who)
	}
	if ct, err = f.client.Config(ctx); err != nil || ct.Version != 4 {
		t.Errorf("Config after changes = %+v, %v", ct, err)
	}
}

// versionsOnly hides CurrentVersion, so the API derives it from Versions.
type versionsOnly struct{ api.Configs }

// noConfig is a Configs with no applied configuration yet.
type noConfig struct{ api.Configs }

func (noConfig) Current() *config.Config { return nil }

func TestConfigVersionFromList(t *testing.T) {
	f := newFixture(t)
	if _, err := f.client.ApplyConfig(context.Background(), []byte(configText)); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		configs api.Configs
		want    int
		code    string
	}{
		{"versions", versionsOnly{f.configs}, 2, ""},
		{"none applied", noConfig{f.configs}, 2, steward.EUNAVAILABLE},
	} {
		s := api.New(api.Options{Services: f.services, Events: f.events, Configs: tt.configs})
		c := client.New(apitest.Serve(t, s.Handler()))
		info, err := c.Info(context.Background())
		if err != nil || info.ConfigVersion != tt.want {
			t.Errorf("%s: Info = %+v, %v, want config version %d", tt.name, info, err, tt.want)
		}
		if _, err := c.Config(context.Background()); tt.code != "" {
			wantCode(t, err, tt.code)
		}
		c.Close()
	}
}

func TestNoConnContext(t *testing.T) {
	f := newFixture(t)
	srv := &http.Server{Handler: f.server.Handler()}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Close()
	c := client.New("http://" + l.Addr().String())
	defer c.Close()
	if _, err := c.ApplyConfig(context.Background(), []byte(configText)); err != nil {
		t.Fatal(err)
	}
	if got := f.configs.Who; !slices.Equal(got, []string{"local"}) {
		t.Errorf("who without ConnContext = %q, want local", got)
	}
}

func TestLoadOrCreateToken(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "api.token")
	tok, err := api.LoadOrCreateToken(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) != 64 || strings.Trim(tok, "0123456789abcdef") != "" {
		t.Errorf("token %q is not 32 bytes of hex", tok)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode = %v, %v, want 0600", fi.Mode(), err)
	}
	again, err := api.LoadOrCreateToken(path)
	if err != nil || again != tok {
		t.Errorf("second LoadOrCreateToken = %q, %v, want %q", again, err, tok)
	}
	if !api.StaticToken(tok).CheckToken(again) {
		t.Errorf("StaticToken rejects its own token")
	}

	own := filepath.Join(dir, "own.token")
	os.WriteFile(own, []byte("  mine\n"), 0o600)
	if got, err := api.LoadOrCreateToken(own); err != nil || got != "mine" {
		t.Errorf("LoadOrCreateToken(existing) = %q, %v", got, err)
	}
	empty := filepath.Join(dir, "empty.token")
	os.WriteFile(empty, nil, 0o600)
	if _, err := api.LoadOrCreateToken(empty); err == nil {
		t.Errorf("an empty token file was accepted")
	}
	if _, err := api.LoadOrCreateToken(filepath.Join(empty, "x")); err == nil {
		t.Errorf("a token file under a file was accepted")
	}
}
