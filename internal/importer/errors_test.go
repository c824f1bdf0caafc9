package importer

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDetect(t *testing.T) {
	for _, c := range []struct {
		name, data string
		want       Format
	}{
		{"/etc/systemd/system/api.service", "", Systemd},
		{"Procfile", "", Procfile},
		{"Procfile.dev", "", Procfile},
		{"/etc/supervisor/supervisord.conf", "", Supervisord},
		{"app.conf", "[program:x]\ncommand=y\n", Supervisord},
		{"docker-compose.yml", "", Compose},
		{"compose.yaml", "", Compose},
		{"ecosystem.config.js", "", PM2},
		{"processes.json", `{"apps": []}`, PM2},
		{"x", "[program:a]\n", Supervisord},
		{"x", "[Unit]\n[Service]\nExecStart=/bin/true\n", Systemd},
		{"x", "services:\n  a: {command: x}\n", Compose},
		{"x", "web: ./web\n", Procfile},
	} {
		got, err := Detect(c.name, []byte(c.data))
		if err != nil || got != c.want {
			t.Errorf("Detect(%q, %q) = %q, %v; want %q", c.name, c.data, got, err, c.want)
		}
	}
	if _, err := Detect("notes.txt", []byte("hello world")); err == nil || !strings.Contains(err.Error(), "--from") {
		t.Errorf("Detect of an unknown file: %v, want an error naming --from", err)
	}
}

func TestParseFormat(t *testing.T) {
	for _, s := range []string{"supervisord", "PM2", "compose", "docker-compose", "procfile", "systemd"} {
		if _, err := ParseFormat(s); err != nil {
			t.Errorf("ParseFormat(%q): %v", s, err)
		}
	}
	if _, err := ParseFormat("nomad"); err == nil || !strings.Contains(err.Error(), "supervisord, pm2") {
		t.Errorf("ParseFormat(nomad) = %v, want an error listing the formats", err)
	}
}

// TestBadInput: a file that cannot be read in its format is an error that
// says where, and nothing is imported.
func TestBadInput(t *testing.T) {
	for _, c := range []struct {
		name   string
		format Format
		data   string
		want   string
	}{
		{"a.conf", Supervisord, "[program:a\ncommand=x\n", "a.conf:1: a section header needs a closing ]"},
		{"a.conf", Supervisord, "command=x\n", "a.conf:1: \"command=x\" is outside any [section]"},
		{"a.conf", Supervisord, "[program:a]\nautostart=maybe\ncommand=x\n", "a.conf:2: autostart: want true or false"},
		{"a.conf", Supervisord, "[program:a]\nnumprocs=2\ncommand=x\n", "needs %(process_num)"},
		{"a.conf", Supervisord, "[program:a]\ndirectory=/srv\n", "[program:a] has no command"},
		{"a.conf", Supervisord, "[program:a]\ncommand=x\nenvironment=A=\"b\n", "unterminated quote"},
		{"a.conf", Supervisord, "[program:a]\ncommand=x\nstartsecs=soon\n", "not a number of seconds"},
		{"a.conf", Supervisord, "[supervisord]\nlogfile=x\n", "no service could be imported"},
		{"a.service", Systemd, "[Unit]\nDescription=x\n", "no [Service] section"},
		{"a.service", Systemd, "[Service]\nType=simple\n", "has no ExecStart"},
		{"a.service", Systemd, "[Service]\nExecStart=/bin/x\nRestart=sometimes\n", "Restart=sometimes is not one"},
		{"a.service", Systemd, "[Service]\nExecStart=/bin/x\nRestartSec=soon\n", "line 3: RestartSec"},
		{"a.service", Systemd, "[Service]\nExecStart=/bin/x\nEnvironment=novalue\n", "want NAME=value"},
		{"a.service", Systemd, "[Service]\nExecStart=/bin/x\nStartLimitBurst=many\n", "not a whole number"},
		{"Procfile", Procfile, "web ./web\n", "Procfile:1: want NAME: command"},
		{"Procfile", Procfile, "# nothing\n", "no service could be imported"},
		{"c.yaml", Compose, "services: [a]\n", "no services: mapping"},
		{"c.yaml", Compose, "services:\n  a: x\n", `service "a": want a mapping`},
		{"c.yaml", Compose, "services:\n  a: {command: x, restart: sometimes}\n", "is not no, always"},
		{"c.yaml", Compose, "services:\n  a: {command: x, depends_on: {b: {condition: service_ok}}}\n", `unknown condition "service_ok"`},
		{"c.yaml", Compose, "services:\n  a: {command: x, healthcheck: {test: [PING]}}\n", "want [CMD, ...]"},
		{"c.yaml", Compose, "services:\n  a: {command: x, stop_grace_period: soon}\n", "stop_grace_period"},
		{"c.yaml", Compose, "services:\n  a: {command: x, environment: [\"=x\"]}\n", "want NAME=value"},
		{"c.yaml", Compose, "services: {a: {command: x}}\n\t- bad\n", "c.yaml: yaml:"},
		{"c.yaml", Compose, "services:\n  a: {image: nginx}\n", "no service could be imported:\n  service a runs nginx"},
		{"e.json", PM2, `{"apps": [{"name": "x"}]}`, "app 1: no script"},
		{"e.json", PM2, `{"apps": [1]}`, "app 1: want an object"},
		{"e.json", PM2, `"x"`, "want an object with apps"},
		{"e.json", PM2, `{"apps": [`, "e.json: unexpected end of JSON input"},
		{"e.json", PM2, `{"script": "a.js", "min_uptime": "soon"}`, "min_uptime"},
		{"e.json", PM2, `{"script": "a.js", "args": "'open"}`, "args: unterminated single quote"},
		{"e.json", PM2, `{"script": "a.js", "env": {"A": [1]}}`, `env "A"`},
		{"c.yaml", Compose, "services:\n  a: {command: [x], depends_on: {b: started}}\n  b: {command: [y], depends_on: [a]}\n", "dependency cycle"},
	} {
		out, err := Import([]Input{{Path: c.name, Data: []byte(c.data), Format: c.format}}, Options{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("import of %s %q: %v, want an error with %q\n%s", c.format, c.data, err, c.want, out)
		}
	}
	if _, err := Import([]Input{{Path: "x", Data: []byte("x"), Format: "nomad"}}, Options{}); err == nil {
		t.Error("import of an unknown format: no error")
	}
	if _, err := Import([]Input{{Path: "x", Data: make([]byte, MaxFileSize+1), Format: Procfile}}, Options{}); err == nil {
		t.Error("import of a file over MaxFileSize: no error")
	}
}

// TestNames: names that steward would reject are made valid, and unique
// even where they differ only in case; dependencies follow the renames.
func TestNames(t *testing.T) {
	in := "services:\n" +
		"  \"web app\": {command: [a]}\n" +
		"  Web-App: {command: [b], depends_on: [\"web app\"]}\n" +
		"  con: {command: [c]}\n" +
		"  \"...\": {command: [d]}\n" +
		"  " + strings.Repeat("x", 70) + ".: {command: [e]}\n"
	out, err := Import([]Input{{Path: "c.yaml", Data: []byte(in), Format: Compose}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"  Web-App:\n", "  web-app-2:\n", "web-app-2: started", "  svc-con:\n", "  service:\n", "  " + strings.Repeat("x", 64) + ":\n"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestNodeEval evaluates a JavaScript ecosystem file with the real node.
func TestNodeEval(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
	path, err := filepath.Abs("testdata/ecosystem.config.js")
	if err != nil {
		t.Fatal(err)
	}
	got, err := NodeEval(path)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"apps":[{"max_restarts":3,"kill_timeout":3000,"name":"web","script":"app.js","env":{"PORT":"4001"}}]}`
	if string(got) != want {
		t.Errorf("NodeEval = %s, want %s", got, want)
	}
	if _, err := NodeEval(filepath.Join(t.TempDir(), "missing.js")); err == nil || !strings.Contains(err.Error(), "evaluate") {
		t.Errorf("NodeEval of a missing file: %v", err)
	}
	t.Setenv("PATH", t.TempDir())
	if _, err := NodeEval(path); err == nil || !strings.Contains(err.Error(), "node is not installed") {
		t.Errorf("NodeEval without node: %v", err)
	}
}

func TestUnits(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Duration
	}{{"90", 90 * time.Second}, {"1.5", 1500 * time.Millisecond}, {"5min 20s", 5*time.Minute + 20*time.Second},
		{"1h", time.Hour}, {"2d", 48 * time.Hour}, {"1w", 7 * 24 * time.Hour}, {"250ms", 250 * time.Millisecond}, {"3sec", 3 * time.Second}} {
		if got, err := duration(c.in, time.Second); err != nil || got != c.want {
			t.Errorf("duration(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "soon", "-1", "-5s", "1e30", "xd"} {
		if _, err := duration(bad, time.Second); err == nil {
			t.Errorf("duration(%q): no error", bad)
		}
	}
	for in, want := range map[string]int64{"512": 512, "10K": 10 << 10, "300M": 300 << 20, "1G": 1 << 30, "2T": 2 << 40, "10MB": 10 << 20, "4KiB": 4 << 10} {
		if got, err := size(in); err != nil || got != want {
			t.Errorf("size(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "big", "-1", "99999999999999999T"} {
		if _, err := size(bad); err == nil {
			t.Errorf("size(%q): no error", bad)
		}
	}
	for in, want := range map[string]string{"SIGTERM": "TERM", "int": "INT", "9": "KILL", "15": "TERM", "1": "HUP", "2": "INT", "3": "QUIT", "10": "USR1", "12": "USR2", "SIGWINCH": ""} {
		if got := signal(in); got != want {
			t.Errorf("signal(%q) = %q, want %q", in, got, want)
		}
	}
	if got := sizeText(1000); got != "1000" {
		t.Errorf("sizeText(1000) = %q", got)
	}
}
