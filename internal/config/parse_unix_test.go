//go:build unix

package config

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// mustParseAt parses src as file and fails the test on any error.
func mustParseAt(t *testing.T, file, src string) *Config {
	t.Helper()
	c, err := Parse(file, []byte(src), testRegistry())
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, src)
	}
	return c
}

func TestParseFull(t *testing.T) {
	src := `# A comment.
node: web-01
data_dir: data
api:
  socket: run/steward.sock
  socket_group: steward
  listen: 10.0.0.1:7070
  token_file: token
  tls: {cert: /etc/ssl/c.pem, key: k.pem}
services:
  db:
    command: ["postgres", "-D", "/srv/pg"]
    ready: {tcp: 127.0.0.1:5432, timeout: 1m}
    stop: {signal: SIGint, timeout: 1m30s}
    logs: {max_size: 10MiB, keep: 0}
  api:
    kind: exec
    command: ./api --name "my api" 'a b' c\ d
    depends_on: [db]
    env: {PORT: 8080, DEBUG: true, HEX: 0x1F, NAME: x}
    env_file: api.env
    working_dir: /srv/api
    user: www
    group: www
    disabled: true
    restart: {policy: always, backoff: 0, max_backoff: 1s, max_restarts: 0, window: 2m, stable: 0s}
  probe:
    command: [sleep, 1]
    ready: {exec: "check --quick"}
  late:
    command: x
    ready: {log: "listening on :\\d+", timeout: ~}
    user: ~
  slow:
    command: x
    ready: {after: 2s}
  web:
    command: x
    ready: {http: "https://127.0.0.1:8443/health"}
`
	c := mustParseAt(t, "/etc/steward/steward.yaml", src)
	if got, want := c.Node, "web-01"; got != want {
		t.Errorf("Node: got %q, want %q", got, want)
	}
	if got, want := c.DataDir, "/etc/steward/data"; got != want {
		t.Errorf("DataDir: got %q, want %q", got, want)
	}
	wantAPI := API{
		Socket:      "/etc/steward/run/steward.sock",
		SocketGroup: "steward",
		Listen:      "10.0.0.1:7070",
		TokenFile:   "/etc/steward/token",
		TLS:         TLS{Cert: "/etc/ssl/c.pem", Key: "/etc/steward/k.pem"},
	}
	if c.API != wantAPI {
		t.Errorf("API:\ngot  %+v\nwant %+v", c.API, wantAPI)
	}
	if got, want := c.Order, []string{"db", "api", "probe", "late", "slow", "web"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Order: got %q, want %q", got, want)
	}
	if string(c.Source) != src {
		t.Errorf("Source differs from the text parsed")
	}

	db := defaultService("db", "postgres", "-D", "/srv/pg")
	db.Ready = Ready{TCP: "127.0.0.1:5432", Timeout: time.Minute}
	db.Stop = Stop{Signal: "INT", Timeout: 90 * time.Second}
	db.Logs = Logs{MaxSize: 10 << 20, Keep: 0}

	api := defaultService("api", "./api", "--name", "my api", "a b", "c d")
	api.DependsOn = []string{"db"}
	api.Env = map[string]string{"PORT": "8080", "DEBUG": "true", "HEX": "0x1F", "NAME": "x"}
	api.EnvFile = "/etc/steward/api.env"
	api.WorkingDir = "/srv/api"
	api.User, api.Group = "www", "www"
	api.Disabled = true
	api.Restart = Restart{Policy: RestartAlways, MaxBackoff: time.Second, Window: 2 * time.Minute}

	probe := defaultService("probe", "sleep", "1")
	probe.Ready.Exec = []string{"check", "--quick"}

	late := defaultService("late", "x")
	late.Ready.Log = `listening on :\d+`

	slow := defaultService("slow", "x")
	slow.Ready.After = 2 * time.Second

	web := defaultService("web", "x")
	web.Ready.HTTP = "https://127.0.0.1:8443/health"

	for _, want := range []*Service{db, api, probe, late, slow, web} {
		if got := c.Services[want.Name]; got == nil || !sameService(got, want) {
			t.Errorf("service %s:\ngot  %+v\nwant %+v", want.Name, got, want)
		}
	}
}

func TestParseRelativePaths(t *testing.T) {
	src := "data_dir: var\nservices:\n  a: {command: x, env_file: ../a.env, working_dir: .}\n"
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		file     string
		wantDir  string // the base of relative paths
		wantFile string
	}{
		{"/etc/steward/steward.yaml", "/etc/steward", "/etc/steward/steward.yaml"},
		{"conf/steward.yaml", filepath.Join(cwd, "conf"), filepath.Join(cwd, "conf", "steward.yaml")},
		{"", cwd, ""},
	}
	for _, tt := range tests {
		c := mustParseAt(t, tt.file, src)
		a := c.Services["a"]
		got := []string{c.File, c.DataDir, c.API.Socket, a.EnvFile, a.WorkingDir}
		want := []string{
			tt.wantFile,
			filepath.Join(tt.wantDir, "var"),
			filepath.Join(tt.wantDir, "var", "steward.sock"),
			filepath.Join(filepath.Dir(tt.wantDir), "a.env"),
			tt.wantDir,
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Parse(%q):\ngot  %q\nwant %q", tt.file, got, want)
		}
	}
}

func TestParseSocketTooLong(t *testing.T) {
	dir := "/" + strings.Repeat("d", maxSocketPath-len("/steward.sock"))
	socket := "/" + strings.Repeat("s", maxSocketPath)
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"data_dir", "data_dir: " + dir + "\n", []string{fmt.Sprintf(
			`steward.yaml:1:11: data_dir: the default api.socket in it is too long, set api.socket: socket path "%s/steward.sock" is %d bytes long, more than the %d this OS allows`,
			dir, maxSocketPath+1, maxSocketPath)}},
		{"api.socket", "api:\n  socket: " + socket + "\n", []string{fmt.Sprintf(
			`steward.yaml:2:11: api.socket: socket path "%s" is %d bytes long, more than the %d this OS allows`,
			socket, maxSocketPath+1, maxSocketPath)}},
	}
	for _, tt := range tests {
		if got := parseErrors(t, tt.src); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\ngot  %q\nwant %q", tt.name, got, tt.want)
		}
	}
	// One byte less fits.
	c := mustParseAt(t, "/etc/steward.yaml", "data_dir: "+dir[:len(dir)-1]+"\n")
	if got, want := len(c.API.Socket), maxSocketPath; got != want {
		t.Errorf("socket length: got %d, want %d", got, want)
	}
}

func TestCompareDataDirMovesSocket(t *testing.T) {
	d := Compare(mustParse(t, "data_dir: /a\n"), mustParse(t, "data_dir: /b\n"))
	if want := []string{"data_dir"}; !reflect.DeepEqual(d.Settings, want) {
		t.Errorf("Settings: got %q, want %q", d.Settings, want)
	}
	if want := []string{"api"}; !reflect.DeepEqual(d.Sections, want) {
		t.Errorf("Sections: got %q, want %q (the default socket moves with data_dir)", d.Sections, want)
	}
}
