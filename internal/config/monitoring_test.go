package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseMonitoring(t *testing.T) {
	c := mustParse(t, `
metrics: {every: 5s, keep_raw: 12h, keep_1m: 240h, keep_1h: 2400h,
  collectors: {app: {command: ./collect.sh, every: 30s, timeout: 5s}}}
alerts:
  repeat: 2h
  flap_window: 5m
  routes:
    - {match: {severity: critical, subject: "web-*"}, to: [ops-mail], group_wait: 10s, repeat: 1h}
notify:
  ops-mail: {hook: {url: "https://h/"}}
services:
  web:
    command: ./web
    health: {http: "http://127.0.0.1:8080/health", interval: 10s, timeout: 2s, retries: 3, start_period: 30s}
    limits: {memory: 500MB, cpu: 90%, for: 1m, action: alert}
  db:
    command: ./db
    health: {exec: [pg_isready, -q], on_unhealthy: alert}
    limits: {memory: 1GiB}
  hog:
    command: ./hog
    limits: {memory: 256MB, cpu: 0.5, tasks: 100, enforce: kernel}
checks:
  db-port: {tcp: "127.0.0.1:5432", interval: 30s}
  nightly-file: {file: export.csv, max_age: 26h, min_size: 1KB, max_size: 1GB, severity: critical, for: 5m}
  site: {http: "https://example.com/"}
  nginx: {process: nginx}
  disk-smart: {exec: "check_smart -d /dev/sda", timeout: 20s}
`)
	web := c.Services["web"]
	if h := web.Health; h == nil || h.HTTP == "" || h.Interval != 10*time.Second || h.Timeout != 2*time.Second ||
		h.Retries != 3 || h.StartPeriod != 30*time.Second || h.OnUnhealthy != ActionRestart {
		t.Errorf("web health = %+v", web.Health)
	}
	if l := web.Limits; l == nil || l.Memory != 5e8 || l.CPU != 90 || l.For != time.Minute || l.Action != ActionAlert {
		t.Errorf("web limits = %+v", web.Limits)
	}
	db := c.Services["db"]
	if db.Health.Exec[0] != "pg_isready" || db.Health.OnUnhealthy != ActionAlert || db.Health.Interval != DefaultHealthInterval ||
		db.Limits.Memory != 1<<30 || db.Limits.Action != ActionRestart {
		t.Errorf("db = %+v %+v", db.Health, db.Limits)
	}
	if l := c.Services["hog"].Limits; l == nil || l.Memory != 256e6 || l.CPU != 50 || l.Tasks != 100 || l.Enforce != EnforceKernel {
		t.Errorf("hog limits = %+v", l)
	}
	if l := web.Limits; l.Enforce != EnforceSample {
		t.Errorf("web limits.enforce = %q, want the default %q", l.Enforce, EnforceSample)
	}
	if len(c.Checks) != 5 || !reflect.DeepEqual(c.CheckOrder, []string{"db-port", "nightly-file", "site", "nginx", "disk-smart"}) {
		t.Errorf("checks = %v", c.CheckOrder)
	}
	f := c.Checks["nightly-file"]
	if !strings.HasSuffix(f.File, "export.csv") || f.MaxAge != 26*time.Hour || f.MinSize != 1000 || f.MaxSize != 1e9 ||
		f.Severity != "critical" || f.For != 5*time.Minute || f.Interval != DefaultCheckInterval {
		t.Errorf("nightly-file = %+v", f)
	}
	if c.Checks["disk-smart"].Timeout != 20*time.Second || c.Checks["nginx"].Process != "nginx" {
		t.Errorf("checks = %+v %+v", c.Checks["disk-smart"], c.Checks["nginx"])
	}
	if c.Alerts.Repeat != 2*time.Hour || c.Alerts.FlapWindow != 5*time.Minute || len(c.Alerts.Routes) != 1 ||
		c.Alerts.Routes[0].Match["subject"] != "web-*" || c.Alerts.Routes[0].Repeat != time.Hour {
		t.Errorf("alerts = %+v", c.Alerts)
	}
	if mt := c.Metrics; mt.Every != 5*time.Second || mt.KeepRaw != 12*time.Hour || len(mt.Collectors) != 1 ||
		mt.Collectors[0].Every != 30*time.Second {
		t.Errorf("metrics = %+v", mt)
	}

	d := mustParse(t, "")
	if d.Alerts.Repeat != DefaultAlertRepeat || d.Metrics.KeepRaw != DefaultMetricsKeepRaw {
		t.Errorf("defaults: %+v %+v", d.Alerts, d.Metrics)
	}
}

func TestMonitoringErrors(t *testing.T) {
	for _, tt := range []struct {
		name, src string
		want      []string
	}{
		{"health", "services:\n  w:\n    command: x\n    health: {retries: 0, on_unhealthy: stop, interval: 0s}\n",
			[]string{
				`steward.yaml:4:13: health needs one of http, tcp and exec`,
				`steward.yaml:4:23: health.retries must be at least 1`,
				`steward.yaml:4:40: health.on_unhealthy "stop" is not one of restart and alert`,
				`steward.yaml:4:56: health.interval must be more than 0`,
			}},
		{"health two probes", "services:\n  w:\n    command: x\n    health: {http: \"http://h/\", tcp: \"h:1\"}\n",
			[]string{`steward.yaml:4:33: health: tcp and http (at 4:14) cannot both be set`}},
		{"health bad probes", "services:\n  w:\n    command: x\n    health: {tcp: nope}\n  v:\n    command: x\n    health: {http: ftp://x}\n",
			[]string{`steward.yaml:4:19: health.tcp must be host:port, e.g. 127.0.0.1:5432`, `steward.yaml:7:20: health.http must be an http:// or https:// URL`}},
		{"limits", "services:\n  w:\n    command: x\n    limits: {memory: 0, cpu: lots, action: kill}\n",
			[]string{
				`steward.yaml:4:13: limits needs memory, cpu or tasks`,
				`steward.yaml:4:22: limits.memory must be more than 0`,
				`steward.yaml:4:30: limits.cpu: invalid CPU limit "lots", want e.g. 90% (of one core) or 0.9 (cores)`,
				`steward.yaml:4:44: limits.action "kill" is not one of restart, stop and alert`,
			}},
		{"limits zero cpu", "services:\n  w:\n    command: x\n    limits: {cpu: 0%, memory: 1 apple}\n",
			[]string{`steward.yaml:4:13: limits needs memory, cpu or tasks`, `steward.yaml:4:19: limits.cpu: must be more than 0%`, `steward.yaml:4:31: limits.memory: invalid size "1 apple", want e.g. 512, 10KB or 50MiB`}},
		{"limits kernel", "services:\n  w:\n    command: x\n    limits: {cpu: -1, tasks: 0, enforce: cgroup}\n  v:\n    command: x\n    limits: {memory: 1MB, enforce: kernel, for: 1m}\n  u:\n    command: x\n    limits: {tasks: 5}\n",
			[]string{
				`steward.yaml:4:13: limits needs memory, cpu or tasks`,
				`steward.yaml:4:19: limits.cpu: "-1" cores must be more than 0`,
				`steward.yaml:4:30: limits.tasks must be more than 0`,
				`steward.yaml:4:42: limits.enforce "cgroup" is not one of sample and kernel`,
				`steward.yaml:7:44: limits.for is for enforce: sample; the kernel acts at once (an OOM kill is restarted under the restart policy)`,
				`steward.yaml:10:21: limits.tasks needs enforce: kernel`,
			}},
		{"checks", "checks:\n  \"bad name\": {tcp: \"h:1\"}\n  none: {interval: 1s}\n  both: {tcp: \"h:1\", file: /x}\n  sizes: {file: /x, min_size: 10, max_size: 5}\n  notfile: {tcp: \"h:1\", max_age: 1h}\n  sev: {process: x, severity: page, process: y}\n",
			[]string{
				`steward.yaml:2:3: check name "bad name" must be 1 to 64 letters, digits, '_', '.' and '-', starting with a letter or digit`,
				`steward.yaml:3:3: check "none" needs one of http, tcp, exec, file, process and os_service`,
				`steward.yaml:4:22: check "both": file and tcp (at 4:10) cannot both be set`,
				`steward.yaml:5:45: check "sizes": max_size must not be less than min_size`,
				`steward.yaml:6:13: check "notfile": max_age, min_size and max_size are for file checks`,
				`steward.yaml:7:31: severity "page" is not one of info, warning and critical`,
				`steward.yaml:7:37: duplicate key "process" (first at 7:9)`,
			}},
		{"check sizes", "checks:\n  f: {file: /x, min_size: big, max_age: 0, process: \"\"}\n",
			[]string{
				`steward.yaml:2:27: min_size: invalid size "big", want e.g. 512, 10KB or 50MiB`,
				`steward.yaml:2:41: max_age must be more than 0`,
				`steward.yaml:2:44: check "f": process and file (at 2:7) cannot both be set`,
			}},
		{"alerts", "alerts:\n  repeat: soon\n  routes:\n    - {match: {host: a, rule: \"[\"}, to: ops}\n  flap_window: 1\n",
			[]string{
				`steward.yaml:2:11: alerts.repeat: invalid duration "soon", want e.g. 100ms, 10s or 1m30s`,
				`steward.yaml:4:16: route.match: unknown label "host", want rule, subject, severity or service`,
				`steward.yaml:4:31: route.match.rule: invalid pattern "["`,
				`steward.yaml:4:41: route.to must be a list of notifier names`,
				`steward.yaml:5:16: alerts.flap_window: duration needs a unit, e.g. 10s`,
			}},
		{"alerts routes not a list", "alerts: {routes: {a: 1}}\n",
			[]string{`steward.yaml:1:18: alerts.routes must be a list of routes`}},
		{"metrics", "metrics: {every: 0, collectors: {\"x y\": {command: a}, c: {every: 1}}}\n",
			[]string{
				`steward.yaml:1:18: metrics.every must be more than 0`,
				`steward.yaml:1:34: collector name "x y" must be 1 to 64 letters, digits, '_', '.' and '-', starting with a letter or digit`,
				`steward.yaml:1:55: collector "c" has no command`,
				`steward.yaml:1:66: every: duration needs a unit, e.g. 10s`,
			}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := parseErrors(t, tt.src)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestOSServiceCheck(t *testing.T) {
	cfg, err := Parse("steward.yaml", []byte("checks:\n  ssh: {os_service: sshd.service, interval: 30s}\n"), testRegistry())
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Checks["ssh"]; got == nil || got.OSService != "sshd.service" || got.Interval != 30*time.Second {
		t.Errorf("check = %+v", got)
	}
	_, err = Parse("steward.yaml", []byte("checks:\n  ssh: {os_service: sshd.service, process: sshd}\n"), testRegistry())
	if err == nil || !strings.Contains(err.Error(), "cannot both be set") {
		t.Errorf("two probes: err = %v", err)
	}
}
