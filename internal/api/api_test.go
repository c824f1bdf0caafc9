package api_test

import (
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
	"reflect"
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

func newFixture(t *testing.T, opts ...func(*api.Options)) *fixture {
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
	o := api.Options{
		Services: f.services, Events: f.events, Configs: f.configs,
		Node: "node-1", Version: "1.2.3", Started: since,
		Logger: slog.New(slog.NewTextHandler(lockedWriter{f.logMu, f.logs}, nil)),
	}
	for _, opt := range opts {
		opt(&o)
	}
	f.server = api.New(o)
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
	if !reflect.DeepEqual(info, want) {
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
	if !strings.Contains(log, "action=stop") || !strings.Contains(log, "who="+strconv.Quote(socketUser(t))) {
		t.Errorf("audit log = %q, want the action and who", log)
	}
}

// socketUser is how the API names this process's user on the socket.
func socketUser(t *testing.T) string {
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	return "uid:" + u.Uid + ":" + u.Username + " (admin, via socket)"
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

// TestUncleanPath checks that an unclean path gets JSON, not the mux's
// HTML: a redirect to the clean path for GET, a 404 for other methods.
func TestUncleanPath(t *testing.T) {
	f := newFixture(t)
	f.raw.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for _, tt := range []struct {
		method, path string
		status       int
		location     string
	}{
		{"GET", "/v1//services", 301, "/v1/services"},
		{"GET", "//v1/services?x=1", 301, "/v1/services?x=1"},
		{"GET", "/v1/services/../services/web", 301, "/v1/services/web"},
		{"POST", "//v1/services/web/stop", 404, ""},
	} {
		req, _ := http.NewRequest(tt.method, "http://steward"+tt.path, nil)
		resp, err := f.raw.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		e := errorOf(t, body)
		if resp.StatusCode != tt.status || resp.Header.Get("Location") != tt.location || e.Code != steward.ENOTFOUND {
			t.Errorf("%s %s: %d to %q (%s), want %d to %q", tt.method, tt.path, resp.StatusCode, resp.Header.Get("Location"), body, tt.status, tt.location)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s %s: Content-Type %q, want application/json", tt.method, tt.path, ct)
		}
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
	if got := f.configs.Who; !slices.Equal(got, []string{"local (admin, via socket)"}) {
		t.Errorf("who without ConnContext = %q, want local (admin, via socket)", got)
	}
}
