package notify

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/config"
)

// registry is the configuration registry with the notifiers only.
func registry() config.Registry { return config.Registry{Notifiers: Types()} }

// testDir is where mustParse places the file it parses.
var testDir = filepath.Join(os.TempDir(), "steward")

// mustParse parses src as the file steward.yaml in testDir and fails the
// test on any error.
func mustParse(t *testing.T, src string) *config.Config {
	t.Helper()
	c, err := config.Parse(filepath.Join(testDir, "steward.yaml"), []byte(src), registry())
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, src)
	}
	return c
}

// parseErrors parses src as steward.yaml and returns its error lines.
func parseErrors(t *testing.T, src string) []string {
	t.Helper()
	_, err := config.Parse("steward.yaml", []byte(src), registry())
	var list config.ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("Parse = %v, want an ErrorList\n%s", err, src)
	}
	return strings.Split(err.Error(), "\n")
}

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
	h, _ := c.Notify["ops-hook"].Spec.(*WebhookConfig)
	if h == nil || c.Notify["ops-hook"].Type != "webhook" || h.URL.Reveal() != "https://hooks.example.com/steward?token=${env:HOOK_TOKEN}" || h.Secret.Reveal() != "${env:HOOK_SECRET}" ||
		h.Format != "slack" || h.Headers["X-Key"].Reveal() != "${file:key.txt}" || h.Timeout != 5*time.Second {
		t.Errorf("ops-hook = %+v", h)
	}
	m, _ := c.Notify["ops-mail"].Spec.(*SMTPConfig)
	if m == nil || m.Host != "smtp.example.com:587" || !reflect.DeepEqual(m.To, []string{"ops@example.com"}) || m.Password.Reveal() != "${env:SMTP_PASSWORD}" {
		t.Errorf("ops-mail = %+v", m)
	}
	x, _ := c.Notify["pager"].Spec.(*ExecConfig)
	if x == nil || !reflect.DeepEqual(x.Command, []string{"./page.sh", "--loud"}) || x.Dir != filepath.Join(testDir, "bin") || x.Timeout != 3*time.Second {
		t.Errorf("pager = %+v", x)
	}
	if d := mustParse(t, ""); len(d.Notify) != 0 {
		t.Errorf("defaults: %+v", d.Notify)
	}
	// The JSON of a config never holds a secret, even one written as is.
	c = mustParse(t, "notify:\n  h: {webhook: {url: \"https://h/x?token=s3cr3t\", secret: hush}}\n")
	if b, err := json.Marshal(c); err != nil || strings.Contains(string(b), "s3cr3t") || strings.Contains(string(b), "hush") {
		t.Errorf("config JSON = %s, %v", b, err)
	}
}

func TestBuild(t *testing.T) {
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
	c, err := config.Parse(file, []byte(src), registry())
	if err != nil {
		t.Fatal(err)
	}
	_, err = Build(c)
	var list config.ErrorList
	if !errors.As(err, &list) || len(list) != 1 {
		t.Fatalf("Build = %v, want one error", err)
	}
	// New stops at the first reference it cannot resolve.
	if got := list[0].Error(); !strings.HasPrefix(got, file+":7:15: notifier \"missing\": webhook.secret: environment variable STEWARD_TEST_UNSET is not set") {
		t.Errorf("error = %q", got)
	}
	c, err = config.Parse(file, []byte(src[:strings.Index(src, "  missing:")]), registry())
	if err != nil {
		t.Fatal(err)
	}
	ns, err := Build(c)
	if err != nil || len(ns) != 1 || ns["hook"] == nil {
		t.Fatalf("Build = %v, %v", ns, err)
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
			`steward.yaml:4:3: notifier "c": needs one of eventlog, exec, smtp, syslog or webhook`,
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
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := parseErrors(t, tt.src)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
