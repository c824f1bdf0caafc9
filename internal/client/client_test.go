package client_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/api/apitest"
	"github.com/stewardhq/steward/internal/client"
	"github.com/stewardhq/steward/internal/logcap"
)

const configText = "services:\n  web:\n    command: [sleep, \"100\"]\n"

var t0 = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

type fixture struct {
	services *apitest.Services
	events   *apitest.Events
	configs  *apitest.Configs
	client   *client.Client
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	file := filepath.Join(t.TempDir(), "steward.yaml")
	os.WriteFile(file, []byte(configText), 0o600)
	configs, err := apitest.NewConfigs(file, []byte(configText))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{
		services: apitest.NewServices(steward.ServiceStatus{Name: "web", Kind: "exec", State: steward.StateStopped, Since: t0}),
		events:   &apitest.Events{},
		configs:  configs,
	}
	s := api.New(api.Options{Services: f.services, Events: f.events, Configs: f.configs, Version: "v9", Node: "n"})
	f.client = client.New(apitest.Serve(t, s.Handler()))
	t.Cleanup(f.client.Close)
	return f
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var se *steward.Error
	if !errors.As(err, &se) || se.Code != code {
		t.Fatalf("error %v (%T), want a *steward.Error with code %q", err, err, code)
	}
}

func TestEveryMethod(t *testing.T) {
	f := newFixture(t)
	c := f.client
	ctx := context.Background()
	if err := c.Health(ctx); err != nil {
		t.Fatal(err)
	}
	if doc, err := c.OpenAPI(ctx); err != nil || !strings.Contains(string(doc), `"openapi"`) {
		t.Errorf("OpenAPI = %.40s, %v", doc, err)
	}
	if info, err := c.Info(ctx); err != nil || info.Version != "v9" || info.ConfigVersion != 1 {
		t.Errorf("Info = %+v, %v", info, err)
	}
	if list, err := c.Services(ctx); err != nil || len(list) != 1 {
		t.Errorf("Services = %+v, %v", list, err)
	}
	if st, err := c.Service(ctx, "web"); err != nil || st.Name != "web" {
		t.Errorf("Service = %+v, %v", st, err)
	}
	for name, act := range map[string]func() ([]steward.ServiceStatus, error){
		"Start":      func() ([]steward.ServiceStatus, error) { return c.Start(ctx, "web") },
		"Stop":       func() ([]steward.ServiceStatus, error) { return c.Stop(ctx, "web") },
		"Restart":    func() ([]steward.ServiceStatus, error) { return c.Restart(ctx, "web") },
		"StartAll":   func() ([]steward.ServiceStatus, error) { return c.StartAll(ctx) },
		"StopAll":    func() ([]steward.ServiceStatus, error) { return c.StopAll(ctx) },
		"RestartAll": func() ([]steward.ServiceStatus, error) { return c.RestartAll(ctx) },
		"Start two":  func() ([]steward.ServiceStatus, error) { return c.Start(ctx, "web", "web") },
	} {
		if got, err := act(); err != nil || len(got) != 1 {
			t.Errorf("%s = %+v, %v", name, got, err)
		}
	}
	_, err := c.Stop(ctx)
	wantCode(t, err, steward.EINVALID)
	// The name "-" means all to the API, so it goes in the body.
	_, err = c.Stop(ctx, "-")
	wantCode(t, err, steward.ENOTFOUND)

	f.services.LogOf("web").Add(logcap.Line{Time: t0, Stream: logcap.Stdout, Text: "hello"})
	if lines, err := c.Logs(ctx, "web", 10); err != nil || len(lines) != 1 || lines[0].Text != "hello" {
		t.Errorf("Logs = %+v, %v", lines, err)
	}
	f.events.Record(steward.Event{Type: steward.EventSystem, Reason: "started", Time: t0})
	f.events.Record(steward.Event{Type: steward.EventState, Service: "web", Reason: "x", Time: t0})
	if evs, err := c.Events(ctx, steward.EventQuery{Since: t0, Service: "web", Limit: 5}); err != nil || len(evs) != 1 || evs[0].ID != 2 {
		t.Errorf("Events = %+v, %v", evs, err)
	}
	if ct, err := c.Config(ctx); err != nil || ct.Text != configText {
		t.Errorf("Config = %+v, %v", ct, err)
	}
	if err := c.ValidateConfig(ctx, []byte(configText)); err != nil {
		t.Errorf("ValidateConfig = %v", err)
	}
	err = c.ValidateConfig(ctx, []byte("services:\n  web: {}\n"))
	var ce *client.ConfigError
	if !errors.As(err, &ce) || len(ce.Problems) != 1 || ce.Problems[0].Line != 2 {
		t.Fatalf("ValidateConfig(invalid) = %v", err)
	}
	if !strings.HasSuffix(err.Error(), `:2:3: service "web" has no command`) {
		t.Errorf("ConfigError = %q", err)
	}
	wantCode(t, err, steward.EINVALID)
	if a, err := c.ApplyConfig(ctx, []byte(configText+"  db:\n    command: [x]\n")); err != nil || a.Version != 2 {
		t.Errorf("ApplyConfig = %+v, %v", a, err)
	}
	if vs, err := c.ConfigVersions(ctx); err != nil || len(vs) != 2 {
		t.Errorf("ConfigVersions = %+v, %v", vs, err)
	}
	if v, err := c.ConfigVersion(ctx, 2); err != nil || v.N != 2 {
		t.Errorf("ConfigVersion = %+v, %v", v, err)
	}
	if d, err := c.ConfigDiff(ctx, 1, 2); err != nil || !strings.Contains(d, "+  db:") {
		t.Errorf("ConfigDiff = %q, %v", d, err)
	}
	_, err = c.ConfigDiff(ctx, 1, 9)
	wantCode(t, err, steward.ENOTFOUND)
	if a, err := c.Rollback(ctx, 1); err != nil || a.Version != 3 {
		t.Errorf("Rollback = %+v, %v", a, err)
	}
	if a, err := c.Reload(ctx); err != nil || a.Version != 4 {
		t.Errorf("Reload = %+v, %v", a, err)
	}
}

func TestNotRunning(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "steward.sock")
	c := client.New(path)
	_, err := c.Services(context.Background())
	wantCode(t, err, steward.EUNAVAILABLE)
	if want := "steward is not running (no socket at " + path + ")"; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	if c.Address() != path {
		t.Errorf("Address = %q", c.Address())
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = client.New("http://" + addr).Services(context.Background())
	wantCode(t, err, steward.EUNAVAILABLE)
	if !strings.Contains(err.Error(), "steward is not reachable at http://"+addr) {
		t.Errorf("TCP error = %q", err)
	}
}

func TestContextEnds(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.client.Services(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Services(canceled) = %v, want context.Canceled", err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := f.client.FollowEvents(ctx, steward.EventQuery{}, func(steward.Event) error { return nil })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("FollowEvents = %v, want context.DeadlineExceeded", err)
	}
}

// TestForeignServer checks answers that are not the API's JSON.
func TestForeignServer(t *testing.T) {
	var status int
	var body, ctype string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ctype != "" {
			w.Header().Set("Content-Type", ctype)
		}
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	defer srv.Close()
	c := client.New(srv.URL)
	defer c.Close()
	ctx := context.Background()
	for _, tt := range []struct {
		status int
		body   string
		code   string
		msg    string
	}{
		{502, "bad gateway\nmore", steward.EUNAVAILABLE, "502 Bad Gateway: bad gateway"},
		{404, "", steward.ENOTFOUND, "404 Not Found: Not Found"},
		{400, "{}", steward.EINVALID, "400 Bad Request: {}"},
		{409, "", steward.ECONFLICT, ""},
		{413, "", steward.ETOOLARGE, ""},
		{401, "", steward.EUNAUTHORIZED, ""},
		{403, "", steward.EFORBIDDEN, ""},
		{500, "", steward.EINTERNAL, ""},
		{418, `{"error":{"code":"teapot","message":"short and stout"}}`, "teapot", "short and stout"},
	} {
		status, body = tt.status, tt.body
		_, err := c.Info(ctx)
		wantCode(t, err, tt.code)
		if tt.msg != "" && err.Error() != tt.msg {
			t.Errorf("%d: message %q, want %q", tt.status, err, tt.msg)
		}
	}

	status, body = 200, "not json"
	if _, err := c.Info(ctx); err == nil || !strings.Contains(err.Error(), "decode answer") {
		t.Errorf("Info(not JSON) = %v", err)
	}
	if _, err := c.Logs(ctx, "web", 1); err == nil || !strings.Contains(err.Error(), "read logs") {
		t.Errorf("Logs(not JSON) = %v", err)
	}
	body = "data: {\n\n"
	if err := c.FollowEvents(ctx, steward.EventQuery{}, func(steward.Event) error { return nil }); err == nil || !strings.Contains(err.Error(), "read events") {
		t.Errorf("FollowEvents(not JSON) = %v", err)
	}
	// Multi-line data, comments and other fields of the SSE format.
	body = ": hi\nevent: x\ndata: {\"id\":7,\ndata: \"reason\":\"r\"}\nretry: 5\n\n\n" + strings.Repeat("x", 10)
	var got []steward.Event
	err := c.FollowEvents(ctx, steward.EventQuery{}, func(ev steward.Event) error {
		got = append(got, ev)
		return nil
	})
	if err != nil || len(got) != 1 || got[0].ID != 7 || got[0].Reason != "r" {
		t.Errorf("FollowEvents = %+v, %v", got, err)
	}
	body = "\n{\"text\":\"a\"}\n\n"
	if lines, err := c.Logs(ctx, "web", 1); err != nil || len(lines) != 1 {
		t.Errorf("Logs with blank lines = %+v, %v", lines, err)
	}
	body = strings.Repeat("x", 5<<20)
	if _, err := c.Logs(ctx, "web", 1); err == nil {
		t.Errorf("Logs with a 5 MiB line succeeded")
	}
	if _, err := client.New("http://bad host").Info(ctx); err == nil {
		t.Errorf("a bad URL worked")
	}
}

func TestBrokenStream(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		w.Write([]byte("{\"text\":\"a\"}\n"))
	}))
	defer srv.Close()
	c := client.New(srv.URL)
	_, err := c.Logs(context.Background(), "web", 1)
	if err == nil || !strings.Contains(err.Error(), "read logs") {
		t.Errorf("Logs cut short = %v", err)
	}
	if _, err := c.ConfigDiff(context.Background(), 1, 2); err == nil {
		t.Errorf("ConfigDiff cut short succeeded")
	}
	if _, err := c.OpenAPI(context.Background()); err == nil {
		t.Errorf("OpenAPI cut short succeeded")
	}
}

func TestTLSAndToken(t *testing.T) {
	var auth string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		w.Write([]byte(`{"status":"ok"}`))
	}))
	defer srv.Close()
	pool := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	c := client.New(srv.URL, client.WithToken("tok"), client.WithTLSConfig(&tls.Config{RootCAs: pool}))
	defer c.Close()
	if err := c.Health(context.Background()); err != nil {
		t.Fatal(err)
	}
	if auth != "Bearer tok" {
		t.Errorf("Authorization = %q", auth)
	}
	err := client.New(srv.URL).Health(context.Background())
	if err == nil || steward.ErrorCode(err) != steward.EINTERNAL {
		t.Errorf("Health with an unknown CA = %v", err)
	}
}
