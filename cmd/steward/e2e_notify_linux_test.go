package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/notify"
	"github.com/stewardhq/steward/internal/testwait"
)

// The secrets of the webhook in these tests: they must never show in an
// API answer, a CLI output or steward's log.
const (
	hookToken  = "t0ken-e2e-9f3a"
	hookSecret = "s3cret-e2e-41c7"
)

// delivery is one request a receiver got.
type delivery struct {
	key, signature string
	body           []byte
	msg            notify.Message
}

// receiver is a webhook receiver: it answers 500 while failing, else 200.
type receiver struct {
	t       *testing.T
	url     string
	mu      sync.Mutex
	failing bool
	got     []delivery // accepted with 2xx
	tries   int
}

// newReceiver serves on l, or on a new loopback port when l is nil.
func newReceiver(t *testing.T, l net.Listener) *receiver {
	t.Helper()
	if l == nil {
		var err error
		if l, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
	}
	r := &receiver{t: t, url: "http://" + l.Addr().String()}
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return r
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tries++
	if req.URL.Query().Get("token") != hookToken {
		http.Error(w, "bad token", http.StatusForbidden)
		return
	}
	if r.failing {
		http.Error(w, "not now", http.StatusInternalServerError)
		return
	}
	d := delivery{key: req.Header.Get("Idempotency-Key"), signature: req.Header.Get("X-Steward-Signature"), body: body}
	if err := json.Unmarshal(body, &d.msg); err != nil {
		r.t.Errorf("webhook body: %v\n%s", err, body)
	}
	r.got = append(r.got, d)
}

func (r *receiver) setFailing(failing bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failing = failing
}

func (r *receiver) requests() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tries
}

func (r *receiver) deliveries() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery(nil), r.got...)
}

// waitDeliveries waits until the receiver accepted n requests.
func (r *receiver) waitDeliveries(n int) []delivery {
	r.t.Helper()
	testwait.NoError(r.t, 20*time.Second, func() error {
		if got := len(r.deliveries()); got < n {
			return fmt.Errorf("%d webhook deliveries, want %d", got, n)
		}
		return nil
	})
	return r.deliveries()
}

// notifyYAML is the notifier and route of these tests, to the receiver at
// url, its token and secret from steward's environment.
func notifyYAML(url string) string {
	return fmt.Sprintf(`notify:
  hook:
    webhook:
      url: "%s/hook?token=${env:STEWARD_E2E_TOKEN}"
      secret: ${env:STEWARD_E2E_SECRET}
notifications: {min_backoff: 100ms, max_backoff: 200ms}
alerts:
  routes:
    - {match: {severity: critical}, to: [hook], group_wait: 0s}
`, url)
}

func setSecrets(t *testing.T) {
	t.Setenv("STEWARD_E2E_TOKEN", hookToken)
	t.Setenv("STEWARD_E2E_SECRET", hookSecret)
}

// quickExit spares each steward built with -race the race detector's
// second of sleep at exit: these tests run the CLI dozens of times.
func quickExit(t *testing.T) {
	t.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
}

const crashLoop = `services:
  crash:
    command: ["{{prog}}", "-exit", "1"]
    restart: {backoff: 10ms, max_backoff: 10ms, max_restarts: 2, window: 30s}
`

// notifications returns what `steward notifications -o json` lists with args.
func (e *env) notifications(args ...string) []steward.Notification {
	e.t.Helper()
	code, out, stderr := e.steward(append([]string{"notifications", "-o", "json"}, args...)...)
	if code != 0 {
		e.t.Fatalf("notifications %v: exit %d: %s", args, code, stderr)
	}
	var list []steward.Notification
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		e.t.Fatalf("notifications -o json: %v\n%s", err, out)
	}
	return list
}

// alertsOf returns the stored alerts of rule.
func (e *env) alertsOf(rule string) []steward.Alert {
	e.t.Helper()
	code, out, stderr := e.steward("alerts", "--all", "-o", "json")
	if code != 0 {
		e.t.Fatalf("alerts: exit %d: %s", code, stderr)
	}
	var list, mine []steward.Alert
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		e.t.Fatalf("alerts -o json: %v\n%s", err, out)
	}
	for _, a := range list {
		if a.Rule == rule {
			mine = append(mine, a)
		}
	}
	return mine
}

// TestNotifyCrashLoopWebhook: a service that crash-loops into failed
// raises one alert, delivered once to the webhook, signed, with an
// idempotency key; no secret shows anywhere.
func TestNotifyCrashLoopWebhook(t *testing.T) {
	quickExit(t)
	setSecrets(t)
	rcv := newReceiver(t, nil)
	e := newEnv(t, notifyYAML(rcv.url)+crashLoop)
	d := e.run()
	e.waitState("crash", steward.StateFailed)
	rcv.waitDeliveries(1)
	// No second delivery can come: the outbox holds one notification,
	// delivered at its first attempt.
	testwait.NoError(t, 10*time.Second, func() error {
		if list := e.notifications("--state", "all"); len(list) != 1 || list[0].State != steward.NotificationDelivered || list[0].Attempts != 1 {
			return fmt.Errorf("notifications = %+v, want one, delivered at its first attempt", list)
		}
		return nil
	})
	got := rcv.deliveries()
	if len(got) != 1 {
		t.Fatalf("%d deliveries, want 1", len(got))
	}
	dl := got[0]
	mac := hmac.New(sha256.New, []byte(hookSecret))
	mac.Write(dl.body)
	if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); dl.signature != want {
		t.Errorf("signature %q, want %q", dl.signature, want)
	}
	if dl.key == "" || dl.key != dl.msg.Key {
		t.Errorf("Idempotency-Key %q, message key %q", dl.key, dl.msg.Key)
	}
	if m := dl.msg; m.Status != notify.StatusFiring || len(m.Alerts) != 1 || m.Alerts[0].Rule != "failed" ||
		m.Alerts[0].Service != "crash" || m.Alerts[0].Severity != "critical" {
		t.Errorf("message = %+v", m)
	}
	if alerts := e.alertsOf("failed"); len(alerts) != 1 || alerts[0].State != steward.AlertFiring {
		t.Errorf("failed alerts = %+v, want one firing", alerts)
	}
	if list := e.notifications("--state", "delivered"); len(list) != 1 || list[0].Key != dl.key || list[0].Attempts != 1 {
		t.Errorf("delivered notifications = %+v", list)
	}
	if list := e.notifications(); len(list) != 0 {
		t.Errorf("pending or failed notifications = %+v, want none", list)
	}

	// A reload whose secret cannot be resolved (in steward's environment)
	// is refused at its position.
	text, _ := os.ReadFile(e.config)
	bad := strings.Replace(string(text), "${env:STEWARD_E2E_SECRET}", "${env:STEWARD_E2E_UNSET}", 1)
	os.WriteFile(e.config, []byte(bad), 0o600)
	code, _, stderr := e.steward("--socket", filepath.Join(e.dir, "steward.sock"), "reload")
	if code != 1 || !strings.Contains(stderr, e.config+":6:15: notifier \"hook\": webhook.secret: environment variable STEWARD_E2E_UNSET is not set") {
		t.Errorf("reload with an unset secret: exit %d: %s", code, stderr)
	}
	os.WriteFile(e.config, text, 0o600)

	checkNoSecrets(t, e, d)
}

// checkNoSecrets fails when an API answer, a CLI output or steward's log
// holds the webhook's token or secret.
func checkNoSecrets(t *testing.T, e *env, d *runningSteward) {
	t.Helper()
	var all strings.Builder
	for _, args := range [][]string{
		{"config", "show"},
		{"config", "history", "-o", "json"},
		{"notifications", "--state", "all", "-o", "json"},
		{"events", "-o", "json"},
		{"alerts", "--all", "-o", "json"},
		{"ps", "-o", "json"},
	} {
		code, out, stderr := e.steward(args...)
		if code != 0 {
			t.Errorf("%v: exit %d: %s", args, code, stderr)
		}
		all.WriteString(out + stderr)
	}
	for _, id := range e.notifications("--state", "all") {
		_, out, _ := e.steward("notifications", "show", fmt.Sprint(id.ID))
		all.WriteString(out)
	}
	for _, path := range []string{"/v1/config", "/v1/info", "/metrics", "/v1/notifications"} {
		all.WriteString(e.get(path))
	}
	all.WriteString(d.logs.String())
	text := all.String()
	if !strings.Contains(text, "${env:STEWARD_E2E_TOKEN}") {
		t.Errorf("GET /v1/config lacks the reference to the token")
	}
	for _, s := range []string{hookToken, hookSecret} {
		if strings.Contains(text, s) {
			t.Errorf("a secret shows in the API, the CLI or the log: %q", s)
		}
	}
}

// get returns the body of GET path from e's steward, over its socket.
func (e *env) get(path string) string {
	e.t.Helper()
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var dl net.Dialer
		return dl.DialContext(ctx, "unix", filepath.Join(e.dir, "steward.sock"))
	}}}
	defer hc.CloseIdleConnections()
	resp, err := hc.Get("http://steward" + path)
	if err != nil {
		e.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		e.t.Errorf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	return string(b)
}

// TestNotifyRetriesUntilDelivered: a receiver that fails for a while gets
// the notification once it recovers, every attempt with the same key.
func TestNotifyRetriesUntilDelivered(t *testing.T) {
	quickExit(t)
	setSecrets(t)
	rcv := newReceiver(t, nil)
	rcv.setFailing(true)
	e := newEnv(t, notifyYAML(rcv.url)+crashLoop)
	d := e.run()
	e.waitState("crash", steward.StateFailed)
	// While the receiver fails, the notification is pending with its error.
	testwait.NoError(t, 10*time.Second, func() error {
		list := e.notifications("--state", "pending")
		if len(list) != 1 || list[0].Attempts < 3 || !strings.Contains(list[0].LastError, "receiver answered 500") {
			return fmt.Errorf("pending notifications = %+v", list)
		}
		return nil
	})
	rcv.setFailing(false)
	dl := rcv.waitDeliveries(1)[0]
	var list []steward.Notification
	testwait.NoError(t, 10*time.Second, func() error {
		list = e.notifications("--state", "all")
		if len(list) != 1 || list[0].State != "delivered" {
			return fmt.Errorf("notifications = %+v, want one delivered", list)
		}
		return nil
	})
	if n := list[0]; n.Key != dl.key || n.Attempts != rcv.requests() || n.Attempts < 4 || n.LastError != "" {
		t.Errorf("delivered notification = %+v (delivered with key %s after %d requests)", n, dl.key, rcv.requests())
	}
	// The table says the same, for people.
	if code, out, _ := e.steward("notifications", "--state", "delivered"); code != 0 || !strings.Contains(out, "delivered") || !strings.Contains(out, "failed on crash") {
		t.Errorf("notifications table: exit %d:\n%s", code, out)
	}
	checkNoSecrets(t, e, d)
}

// TestNotifyPendingSurvivesKill9: a notification pending when steward is
// killed is delivered after the restart, with the same key.
func TestNotifyPendingSurvivesKill9(t *testing.T) {
	quickExit(t)
	setSecrets(t)
	port := freePort(t)
	down := freePort(t)
	e := newEnv(t, notifyYAML(fmt.Sprintf("http://127.0.0.1:%d", port))+fmt.Sprintf(`checks:
  db: {tcp: "127.0.0.1:%d", interval: 200ms, timeout: 100ms, severity: critical}
`, down))
	d := e.run()
	var pending steward.Notification
	testwait.NoError(t, 10*time.Second, func() error {
		list := e.notifications("--state", "pending")
		if len(list) != 1 || list[0].Attempts < 1 {
			return fmt.Errorf("pending notifications = %+v", list)
		}
		pending = list[0]
		return nil
	})
	d.cmd.Process.Kill()
	<-d.done

	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	rcv := newReceiver(t, l)
	e.run()
	testwait.NoError(t, 20*time.Second, func() error {
		for _, dl := range rcv.deliveries() {
			if dl.key == pending.Key {
				if dl.msg.Alerts[0].Rule != "check" || dl.msg.Alerts[0].Subject != "db" {
					t.Errorf("message = %+v", dl.msg)
				}
				return nil
			}
		}
		return fmt.Errorf("no delivery with key %s among %d", pending.Key, len(rcv.deliveries()))
	})
	for _, n := range e.notifications("--state", "delivered") {
		if n.ID == pending.ID {
			return
		}
	}
	t.Errorf("notification %d not listed as delivered", pending.ID)
}

// TestLogwatchIncidents: lines appended to a watched file raise one alert
// per incident; a restart of steward does not alert on them again. The
// output of a supervised service is checked too.
func TestLogwatchIncidents(t *testing.T) {
	quickExit(t)
	e := newEnv(t, `alerts: {flap_window: 0s}
services:
  applog:
    kind: logwatch
    files: ["{{dir}}/app.log"]
    start_at: beginning
    poll: 100ms
    service: api
    rules:
      - {name: burst, match: 'ERROR (?P<what>\w+)', when: "2 in 1s", severity: critical, message: "error in $what"}
      - {name: panics, match: 'panic: (?P<what>.*)', message: "$what"}
  api:
    command: ["{{prog}}", "-stderr", "panic: boom"]
    depends_on: [applog]   # its first line comes once the watch follows it
`)
	log := filepath.Join(e.dir, "app.log")
	appendTo(t, log, "starting")
	d := e.run()
	e.waitState("applog", steward.StateRunning)

	incident := func(n int, what string) {
		t.Helper()
		appendTo(t, log, "ERROR "+what, "ERROR "+what, "ERROR "+what)
		testwait.NoError(t, 10*time.Second, func() error {
			alerts := e.alertsOf("log:burst")
			if len(alerts) != n || alerts[0].State != steward.AlertResolved {
				return fmt.Errorf("log:burst alerts = %+v, want %d, the newest resolved", alerts, n)
			}
			return nil
		})
	}
	incident(1, "db")
	incident(2, "cache")
	// The service's output, as steward captured it.
	testwait.NoError(t, 10*time.Second, func() error {
		alerts := e.alertsOf("log:panics")
		if len(alerts) != 1 || alerts[0].State != steward.AlertFiring || alerts[0].Message != "service:api: boom" {
			return fmt.Errorf("log:panics alerts = %+v, want one firing", alerts)
		}
		return nil
	})
	events := logEvents(t, e, "burst")
	if len(events) != 4 || !strings.Contains(events[0], "error in db") || !strings.Contains(events[2], "error in cache") {
		t.Errorf("log events = %q, want a start and an end per incident", events)
	}
	if m := e.get("/metrics"); !strings.Contains(m, `steward_logwatch_matches_total{rule="burst",service="applog",severity="critical"} 6`) {
		t.Errorf("/metrics lacks the rule's matches:\n%s", grepLines(m, "steward_logwatch"))
	}

	// A restart reads on from where it stopped.
	d.cmd.Process.Signal(syscall.SIGTERM)
	<-d.done
	e.run()
	e.waitState("applog", steward.StateRunning)
	appendTo(t, log, "ERROR late")
	// Once the late line counts, a single error has started no incident
	// and the old lines, not read again, none either.
	testwait.For(t, 10*time.Second, "the late error to be counted", func() bool {
		return strings.Contains(e.get("/metrics"), `steward_logwatch_matches_total{rule="burst",service="applog",severity="critical"} 1`)
	})
	if alerts := e.alertsOf("log:burst"); len(alerts) != 2 {
		t.Errorf("after restart: %d log:burst alerts, want 2", len(alerts))
	}
	if got := logEvents(t, e, "burst"); len(got) != 4 {
		t.Errorf("after restart: log events %q, want the 4 before it", got)
	}
	if m := e.get("/metrics"); !strings.Contains(m, `steward_logwatch_matches_total{rule="burst",service="applog",severity="critical"} 1`) {
		t.Errorf("after restart, /metrics:\n%s", grepLines(m, "steward_logwatch_matches"))
	}
}

func appendTo(t *testing.T, path string, lines ...string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(strings.Join(lines, "\n") + "\n"); err != nil {
		t.Fatal(err)
	}
}

// logEvents returns the reasons of the events of type log of rule, oldest
// first.
func logEvents(t *testing.T, e *env, rule string) []string {
	t.Helper()
	code, out, stderr := e.steward("events", "-o", "json")
	if code != 0 {
		t.Fatalf("events: exit %d: %s", code, stderr)
	}
	var list []steward.Event
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("events -o json: %v\n%s", err, out)
	}
	var reasons []string
	for _, ev := range list {
		if r, ok := strings.CutPrefix(ev.Reason, "log rule "+rule); ev.Type == steward.EventLog && ok && r != "" && (r[0] == ' ' || r[0] == ':') {
			reasons = append(reasons, ev.Reason)
		}
	}
	return reasons
}

func grepLines(text, substr string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestNotifyConfigErrors: invalid notifiers, routes and log watches are
// reported by validate at their positions, with exit 1.
func TestNotifyConfigErrors(t *testing.T) {
	quickExit(t)
	e := newEnv(t, `notify:
  hook: {webhook: {format: xml}}
  mail: {smtp: {host: h, from: a@b.c, to: [x@y.z]}}
alerts:
  routes:
    - {to: [mial]}
services:
  applog:
    kind: logwatch
    files: [app.log]
    rules: [{match: "ERROR ("}]
`)
	code, _, stderr := e.steward("validate")
	if code != 1 {
		t.Fatalf("validate: exit %d, want 1: %s", code, stderr)
	}
	for _, want := range []string{
		e.config + `:3:10: notifier "hook": webhook.url: is required`,
		e.config + `:3:28: notifier "hook": webhook.format: unknown format "xml", want json, slack or teams`,
		e.config + `:7:13: route.to: no notifier "mial" in notify`,
		e.config + `:12:21: rules[0].match: invalid regular expression: missing closing ): ` + "`ERROR (`",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	// A secret that cannot be resolved, at validate too.
	e.write("notify:\n  hook: {webhook: {url: \"https://h/${env:STEWARD_E2E_UNSET}\"}}\n")
	code, _, stderr = e.steward("validate")
	if code != 1 || !strings.Contains(stderr, e.config+`:3:25: notifier "hook": webhook.url: environment variable STEWARD_E2E_UNSET is not set`) {
		t.Errorf("validate with an unset secret: exit %d: %s", code, stderr)
	}
}
