package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestParseNotify(t *testing.T) {
	src := `
notify:
  ops-hook:
    webhook:
      url: "https://hooks.example.com/steward?token=${env:HOOK_TOKEN}"
      secret: ${env:HOOK_SECRET}
      format: slack
      headers: {X-Team: ops, X-Key: "${file:key.txt}"}
      timeout: 5s
  ops-mail:
    smtp: {host: "smtp.example.com:587", from: steward@example.com, to: ops@example.com,
      username: steward, password: "${env:SMTP_PASSWORD}", timeout: 20s}
  pager:
    exec: {command: ./page.sh --loud, env: {TOKEN: "${env:PAGER}"}, dir: bin, timeout: 3s}
notifications: {max_age: 2h, min_backoff: 100ms, max_backoff: 1s, keep: 48h}
alerts:
  routes:
    - match: {severity: critical, service: "web*"}
      to: [ops-mail, ops-hook]
      group_wait: 0s
      repeat: 1h
    - {name: rest, to: [pager], continue: true}
`
	c := mustParse(t, src)
	if got, want := c.NotifyOrder, []string{"ops-hook", "ops-mail", "pager"}; !reflect.DeepEqual(got, want) {
		t.Errorf("NotifyOrder = %q, want %q", got, want)
	}
	h := c.Notify["ops-hook"].Webhook
	if h == nil || h.URL.Reveal() != "https://hooks.example.com/steward?token=${env:HOOK_TOKEN}" || h.Secret.Reveal() != "${env:HOOK_SECRET}" ||
		h.Format != "slack" || h.Headers["X-Key"].Reveal() != "${file:key.txt}" || h.Timeout != 5*time.Second {
		t.Errorf("ops-hook = %+v", h)
	}
	m := c.Notify["ops-mail"].SMTP
	if m == nil || m.Host != "smtp.example.com:587" || !reflect.DeepEqual(m.To, []string{"ops@example.com"}) || m.Password.Reveal() != "${env:SMTP_PASSWORD}" {
		t.Errorf("ops-mail = %+v", m)
	}
	x := c.Notify["pager"].Exec
	if x == nil || !reflect.DeepEqual(x.Command, []string{"./page.sh", "--loud"}) || x.Dir != filepath.Join(testDir, "bin") || x.Timeout != 3*time.Second {
		t.Errorf("pager = %+v", x)
	}
	if n := c.Notifications; n != (Notifications{MaxAge: 2 * time.Hour, MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second, Keep: 48 * time.Hour}) {
		t.Errorf("notifications = %+v", n)
	}
	r := c.Alerts.Routes
	if len(r) != 2 || r[0].GroupWait != 0 || r[0].Repeat != time.Hour || r[0].Match["service"] != "web*" ||
		!reflect.DeepEqual(r[0].To, []string{"ops-mail", "ops-hook"}) {
		t.Errorf("route 0 = %+v", r[0])
	}
	if r[1].Name != "rest" || r[1].GroupWait != DefaultGroupWait || !r[1].Continue {
		t.Errorf("route 1 = %+v", r[1])
	}

	d := mustParse(t, "")
	if d.Notifications != defaultNotifications() || len(d.Notify) != 0 {
		t.Errorf("defaults: %+v %+v", d.Notifications, d.Notify)
	}
	// The JSON of a config never holds a secret, even one written as is.
	c = mustParse(t, "notify:\n  h: {webhook: {url: \"https://h/x?token=s3cr3t\", secret: hush}}\n")
	if b, err := json.Marshal(c); err != nil || strings.Contains(string(b), "s3cr3t") || strings.Contains(string(b), "hush") {
		t.Errorf("config JSON = %s, %v", b, err)
	}
}

func TestNotifiers(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "steward.yaml")
	if err := os.WriteFile(filepath.Join(dir, "key.txt"), []byte("from-a-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("STEWARD_TEST_TOKEN", "t0ken")
	src := `notify:
  hook:
    webhook: {url: "https://h.example.com/x?token=${env:STEWARD_TEST_TOKEN}", secret: "${file:key.txt}"}
  missing:
    webhook:
      url: https://h.example.com/
      secret: ${env:STEWARD_TEST_UNSET}
      headers: {X-Key: "${file:nope.txt}"}
`
	c, err := Parse(file, []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Notifiers()
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 1 {
		t.Fatalf("Notifiers = %v, want one error", err)
	}
	// New stops at the first reference it cannot resolve.
	if got := list[0].Error(); !strings.HasPrefix(got, file+":7:15: notifier \"missing\": webhook.secret: environment variable STEWARD_TEST_UNSET is not set") {
		t.Errorf("error = %q", got)
	}
	c, err = Parse(file, []byte(src[:strings.Index(src, "  missing:")]))
	if err != nil {
		t.Fatal(err)
	}
	ns, err := c.Notifiers()
	if err != nil || len(ns) != 1 || ns["hook"] == nil {
		t.Fatalf("Notifiers = %v, %v", ns, err)
	}
	if s := reflect.ValueOf(ns["hook"]).String(); strings.Contains(s, "t0ken") {
		t.Errorf("a notifier prints its secret: %s", s)
	}
}

func TestNotifyErrors(t *testing.T) {
	eventlog := `steward.yaml:11:7: notifier "e": eventlog: the Windows Event Log is only available on Windows: use syslog`
	if runtime.GOOS == "windows" {
		eventlog = `steward.yaml:12:7: notifier "s": syslog: syslog is not available on this OS: use eventlog`
	}
	for _, tt := range []struct {
		name, src string
		want      []string
	}{
		{"notifiers", `notify:
  a: {webhook: {format: xml}}
  b: {webhook: {url: "https://h/"}, exec: {command: x}}
  c: {}
  d: {smtp: {host: h, from: nobody, to: [ok@example.com, bad], tls: none, username: u, password: p}}
  "x y": {exec: {command: x}}
  f: {exec: {command: x, env: {"1X": "${env:}"}}, mail: {}}
  g: {webhook: {url: "${env:}"}}
  h: {webhook: {url: ftp://h/, headers: {Content-Type: x}, timeout: 1}}
  i: {syslog: {network: carrier-pigeon}}
`, []string{
			`steward.yaml:2:7: notifier "a": webhook.url: is required`,
			`steward.yaml:2:25: notifier "a": webhook.format: unknown format "xml", want json, slack or teams`,
			`steward.yaml:3:37: notifier "b": exec: only one kind per notifier, and webhook is already set`,
			`steward.yaml:4:3: notifier "c": needs one of webhook, smtp, exec, syslog or eventlog`,
			`steward.yaml:5:29: notifier "d": smtp.from: invalid address "nobody"`,
			`steward.yaml:5:58: notifier "d": smtp.to[1]: invalid address "bad"`,
			`steward.yaml:5:69: notifier "d": smtp.tls: none would send the password in clear: use starttls or tls`,
			`steward.yaml:6:3: notifier name "x y" must be 1 to 64 letters, digits, '_', '.' and '-', starting with a letter or digit`,
			`steward.yaml:7:51: unknown key "mail"`,
			`steward.yaml:8:22: notifier "g": webhook.url: invalid environment variable name at offset 0: want ${env:NAME} or ${file:PATH}, or $${ for a literal ${`,
			// The problems Validate finds wait for the YAML to be right.
			`steward.yaml:9:69: webhook.timeout: duration needs a unit, e.g. 10s`,
			`steward.yaml:10:25: notifier "i": syslog.network: unknown network "carrier-pigeon", want udp, tcp, unix or unixgram`,
		}},
		{"notifier problems once the YAML is right", `notify:
  f: {exec: {command: x, env: {"1X": "${env:}"}}}
  h: {webhook: {url: ftp://h/}}
`, []string{
			`steward.yaml:2:38: notifier "f": exec.env.1X: invalid environment variable name at offset 0: want ${env:NAME} or ${file:PATH}, or $${ for a literal ${`,
			`steward.yaml:2:38: notifier "f": exec.env.1X: invalid variable name`,
			`steward.yaml:3:22: notifier "h": webhook.url: URL scheme must be http or https`,
		}},
		{"platform", "notify:\n" + strings.Repeat("\n", 9) + "  e: {eventlog: {}}\n  s: {syslog: {}}\n",
			[]string{eventlog}},
		{"routes", `notify:
  ops: {exec: {command: x}}
alerts:
  routes:
    - {to: [opz, ops, ops], match: {service: "["}}
    - {match: {severity: critical}}
    - {name: route-1, to: [], group_wait: -1s}
`, []string{
			`steward.yaml:5:13: route.to: no notifier "opz" in notify (did you mean "ops"?)`,
			`steward.yaml:5:23: route.to lists "ops" twice`,
			`steward.yaml:5:46: route.match.service: invalid pattern "["`,
			`steward.yaml:6:7: route needs to: the notifiers it sends to`,
			`steward.yaml:7:7: route "route-1" is already defined (at 5:7)`,
			`steward.yaml:7:43: route.group_wait: duration must not be negative`,
		}},
		{"notifications", "notifications: {max_age: 0, min_backoff: 2s, max_backoff: 1s, keeep: 1h}\n", []string{
			`steward.yaml:1:26: notifications.max_age must be more than 0`,
			`steward.yaml:1:59: notifications.max_backoff (1s) must not be less than notifications.min_backoff (2s)`,
			`steward.yaml:1:63: unknown key "keeep" (did you mean "keep"?)`,
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

func TestParseLogwatch(t *testing.T) {
	c := mustParse(t, `
services:
  api: {command: ./api}
  applog:
    kind: logwatch
    files: [logs/*.log, ../log/app.log]
    service: api
    start_at: beginning
    poll: 2s
    depends_on: [api]
    rules:
      - match: 'ERROR (?P<what>\w+)'
        exclude: 'ERROR test'
        severity: critical
        when: "5 in 1m"
        message: "error in $what"
      - {name: panics, match: panic}
`)
	s := c.Services["applog"]
	if s.Kind != KindLogwatch || s.Command != nil || s.Logwatch == nil {
		t.Fatalf("applog = %+v", s)
	}
	lw := s.Logwatch
	if lw.Name != "applog" || !reflect.DeepEqual(lw.Files, []string{filepath.Join(testDir, "logs", "*.log"), filepath.Join(testDir, "..", "log", "app.log")}) ||
		!reflect.DeepEqual(lw.Services, []string{"api"}) || lw.StartAt != "beginning" || lw.Poll != 2*time.Second {
		t.Errorf("logwatch = %+v", lw)
	}
	if len(lw.Rules) != 2 || lw.Rules[0].When != "5 in 1m" || lw.Rules[0].Message != "error in $what" || lw.Rules[1].Name != "panics" {
		t.Errorf("rules = %+v", lw.Rules)
	}
	if err := lw.Validate(); err != nil {
		t.Error(err)
	}
	// A config compares equal to itself: a reload leaves the watch alone.
	if d := Compare(c, mustParse(t, string(c.Source))); !d.Empty() {
		t.Errorf("Compare = %+v", d)
	}
}

func TestLogwatchErrors(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, src string
		want      []string
	}{
		{"rules", `services:
  w:
    kind: logwatch
    files: /var/log/x.log
    rules:
      - {match: "ERROR (", severity: page}
      - match: 'a(?P<x>b)'
        when: "5 per minute"
        message: "$y"
      - {exclude: x}
`, []string{
			`steward.yaml:6:17: rules[0].match: invalid regular expression: missing closing ): ` + "`ERROR (`",
			`steward.yaml:6:38: rules[0].severity: unknown severity "page", want info, warning or critical`,
			`steward.yaml:8:15: rules[1].when: invalid condition "5 per minute": want COUNT in DURATION, e.g. "5 in 1m"`,
			`steward.yaml:9:18: rules[1].message: the match has no group named "y"`,
			`steward.yaml:10:9: rules[2].match: is required`,
		}},
		{"what to watch", `services:
  w: {kind: logwatch, rules: [{match: x}]}
  v: {kind: logwatch, service: nope, services: [v], rules: [{match: x}]}
  u: {kind: logwatch, services: [u], rules: [{match: x}], files: ["a/*/b.log"]}
  t: {kind: logwatch, files: /x, rules: [{match: x}], command: x}
`, []string{
			`steward.yaml:2:3: files: a log watch needs files or services to watch`,
			`steward.yaml:3:32: service "v" follows unknown service "nope"`,
			`steward.yaml:3:38: service and services (at 3:23) cannot both be set: list them all in services`,
			`steward.yaml:4:34: service "u" cannot follow its own output`,
			fmt.Sprintf(`steward.yaml:4:67: files[0]: a glob may not have wildcards in its directory: %q`, filepath.Join(wd, "a", "*", "b.log")),
			`steward.yaml:5:55: unknown key "command"`,
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
