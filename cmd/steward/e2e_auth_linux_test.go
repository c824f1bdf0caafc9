package main

import (
	"bytes"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/stewardhq/steward/internal/testwait"
)

// tcpSteward runs a client command against the TCP API at url with the
// bearer token tok, and returns its exit code, stdout and stderr.
func (e *env) tcpSteward(url, tok string, args ...string) (int, string, string) {
	e.t.Helper()
	cmd := command(append([]string{"--socket", url}, args...)...)
	cmd.Env = append(cmd.Env, "STEWARD_TOKEN="+tok)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if err != nil {
		code = err.(interface{ ExitCode() int }).ExitCode()
	}
	return code, out.String(), errOut.String()
}

// TestTokensRolesAndAudit: a role token made with the CLI reads on TCP and
// is refused a change with a 403; revoked, it stops working; every change,
// the refused one and a SIGHUP reload among them, is in the audit log,
// which verifies; cutting its tail behind steward's back is found at the
// next start and by steward audit verify.
func TestTokensRolesAndAudit(t *testing.T) {
	port := freePort(t)
	e := newEnv(t, fmt.Sprintf("api: {listen: \"127.0.0.1:%d\"}\nservices:\n  a: {command: [\"{{prog}}\"]}\n", port))
	d := e.run()
	url := fmt.Sprintf("http://127.0.0.1:%d", port)

	code, secret, stderr := e.steward("token", "create", "ci", "--role", "viewer", "--expires", "1h")
	secret = strings.TrimSpace(secret)
	if code != 0 || !strings.HasPrefix(secret, "stwd_") || !strings.Contains(stderr, "shown this once") {
		t.Fatalf("token create: %d %q %q", code, secret, stderr)
	}
	code, out, _ := e.steward("token", "list")
	if code != 0 || !strings.Contains(out, "ci") || !strings.Contains(out, secret[5:15]) || strings.Contains(out, secret[15:]) || !strings.Contains(out, "expires") {
		t.Errorf("token list: %d\n%s", code, out)
	}
	code, _, stderr = e.steward("token", "create", "x")
	want(t, []string{"token create x"}, 2, code, "", stderr, "--role is required")

	testwait.NoError(t, 10*time.Second, func() error {
		if code, _, stderr := e.tcpSteward(url, secret, "ps"); code != 0 {
			return fmt.Errorf("ps with the viewer token: %s", stderr)
		}
		return nil
	})
	code, out, stderr = e.tcpSteward(url, secret, "stop", "a")
	want(t, []string{"stop a (viewer)"}, 1, code, out, stderr, `"control"`, "needs the role operator")
	if strings.Contains(stderr, secret) {
		t.Errorf("the 403 names the secret: %s", stderr)
	}

	code, out, _ = e.steward("token", "revoke", "ci")
	if code != 0 || !strings.Contains(out, "revoked") {
		t.Errorf("token revoke: %d %s", code, out)
	}
	code, _, stderr = e.tcpSteward(url, secret, "ps")
	want(t, []string{"ps (revoked)"}, 1, code, "", stderr, "invalid bearer token")

	d.cmd.Process.Signal(syscall.SIGHUP)
	testwait.NoError(t, 10*time.Second, func() error {
		if _, out, _ := e.steward("audit", "-o", "json"); !strings.Contains(out, "signal:SIGHUP") || !strings.Contains(out, `"outcome": "ok"`) {
			return fmt.Errorf("no reload by SIGHUP in the audit log:\n%s", out)
		}
		return nil
	})
	_, out, _ = e.steward("audit")
	for _, w := range []string{"SEQ", "POST /v1/tokens", "DELETE /v1/tokens/ci", "denied", "token:ci (viewer, via tcp:127.0.0.1)", "signal:SIGHUP"} {
		if !strings.Contains(out, w) {
			t.Errorf("steward audit lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, secret[15:]) {
		t.Errorf("the audit log holds the secret:\n%s", out)
	}
	code, out, stderr = e.steward("audit", "verify")
	want(t, []string{"audit verify"}, 0, code, out, stderr, "audit log ok")
	code, out, stderr = e.steward("audit", "checkpoint")
	want(t, []string{"audit checkpoint"}, 0, code, out, stderr, "appended to "+filepath.Join(e.dir, "audit.chk"))
	if fi, err := os.Stat(filepath.Join(e.dir, "audit.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("audit key: %v, %v; want mode 0600", fi, err)
	}

	// Stop steward (a clean stop signs a checkpoint), cut the tail, start.
	d.cmd.Process.Signal(syscall.SIGTERM)
	<-d.done
	db, err := sql.Open("sqlite", filepath.Join(e.dir, "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	var last int64
	if err := db.QueryRow(`SELECT max(seq) FROM audit`).Scan(&last); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DELETE FROM audit WHERE seq >= ?`, last-1); err != nil {
		t.Fatal(err)
	}
	db.Close()
	d = e.run()
	testwait.NoError(t, 20*time.Second, func() error {
		if logs := d.logs.String(); !strings.Contains(logs, "level=ERROR") || !strings.Contains(logs, fmt.Sprintf("the audit log does not verify: record %d", last-1)) {
			return fmt.Errorf("steward's log after the cut:\n%s", logs)
		}
		return nil
	})
	code, out, stderr = e.steward("audit", "verify")
	want(t, []string{"audit verify (cut)"}, 1, code, out, stderr, fmt.Sprintf("record %d", last-1))
	_, out, _ = e.steward("events", "-o", "json")
	if !strings.Contains(out, "the audit log does not verify") {
		t.Errorf("no event of the cut:\n%s", out)
	}
	code, out, _ = e.steward("audit", "verify", "-o", "json")
	if code != 1 || !strings.Contains(out, `"first_bad"`) {
		t.Errorf("audit verify -o json: %d %s", code, out)
	}
	// A clean stop signs no checkpoint over the cut log: it still fails
	// to verify after the next start.
	d.cmd.Process.Signal(syscall.SIGTERM)
	<-d.done
	e.run()
	code, out, stderr = e.steward("audit", "verify")
	want(t, []string{"audit verify (cut, after a clean stop)"}, 1, code, out, stderr, "the audit log does not verify")
}
