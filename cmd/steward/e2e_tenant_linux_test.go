package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/testwait"
)

// TestTenantToken: a token made with --tenant sees and acts on its
// tenant's services only, through the real binary over TCP: ps lists
// them, another tenant's service is "no service", stopping every service
// stops its own, and the whole steward's commands are refused.
func TestTenantToken(t *testing.T) {
	port := freePort(t)
	e := newEnv(t, fmt.Sprintf(`api: {listen: "127.0.0.1:%d"}
tenants: [acme, globex]
services:
  web: {command: ["{{prog}}"], tenant: acme}
  db: {command: ["{{prog}}"], tenant: globex}
  shared: {command: ["{{prog}}"]}
`, port))
	e.run()
	url := fmt.Sprintf("http://127.0.0.1:%d", port)

	code, _, stderr := e.steward("token", "create", "x", "--role", "operator", "--tenant", "hooli")
	want(t, []string{"token create --tenant hooli"}, 1, code, "", stderr, `tenant "hooli" is not declared`)
	code, secret, stderr := e.steward("token", "create", "acme-ops", "--role", "operator", "--tenant", "acme")
	secret = strings.TrimSpace(secret)
	if code != 0 || !strings.HasPrefix(secret, "stwd_") {
		t.Fatalf("token create --tenant acme: %d %q %q", code, secret, stderr)
	}
	_, out, _ := e.steward("token", "list")
	if !strings.Contains(out, "acme-ops") || !strings.Contains(out, "acme") {
		t.Errorf("token list does not show the tenant:\n%s", out)
	}

	var list []steward.ServiceStatus
	testwait.NoError(t, 10*time.Second, func() error {
		code, out, stderr := e.tcpSteward(url, secret, "ps", "-o", "json")
		if code != 0 {
			return fmt.Errorf("ps as acme: %d %s", code, stderr)
		}
		list = nil
		if err := json.Unmarshal([]byte(out), &list); err != nil {
			return err
		}
		if len(list) != 1 || list[0].Name != "web" || list[0].State != steward.StateRunning {
			return fmt.Errorf("ps as acme: %+v, want web running", list)
		}
		return nil
	})
	code, out, stderr = e.tcpSteward(url, secret, "stop", "db")
	want(t, []string{"stop db (acme)"}, 1, code, out, stderr, `no service "db"`)
	code, out, stderr = e.tcpSteward(url, secret, "config", "show")
	want(t, []string{"config show (acme)"}, 1, code, out, stderr, "not open to a principal scoped to a tenant")

	// Its report holds its services only, and no machine section.
	code, out, stderr = e.tcpSteward(url, secret, "report", "--since", "1h", "-o", "json")
	var rep steward.Report
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil {
		t.Fatalf("report as acme: %d %s %s", code, out, stderr)
	}
	if len(rep.Services) != 1 || rep.Services[0].Name != "web" || rep.Machine.CPU != nil {
		t.Errorf("report as acme: %+v, want web only and no machine", rep.Services)
	}
	code, out, stderr = e.tcpSteward(url, secret, "report", "--service", "db")
	want(t, []string{"report --service db (acme)"}, 1, code, out, stderr, `no service "db"`)

	code, out, stderr = e.tcpSteward(url, secret, "stop", "--all")
	want(t, []string{"stop --all (acme)"}, 0, code, out, stderr)
	_, out, _ = e.steward("ps", "-o", "json")
	var all []steward.ServiceStatus
	if err := json.Unmarshal([]byte(out), &all); err != nil {
		t.Fatal(err)
	}
	for _, st := range all {
		if wantState := map[bool]steward.State{true: steward.StateStopped, false: steward.StateRunning}[st.Name == "web"]; st.State != wantState {
			t.Errorf("after acme stopped every service: %s is %s, want %s", st.Name, st.State, wantState)
		}
	}
}

// TestTenantLocalRule: a local caller that an auth.local rule with
// tenant: matches is a principal of that tenant over the socket: ps lists
// its tenant's services, another tenant's is "no service". It needs root
// to run the CLI as another user.
func TestTenantLocalRule(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to run as another user")
	}
	grp, err := user.LookupGroupId("65534")
	if err != nil {
		t.Skip("no group 65534")
	}
	// A directory the other user may enter, with a copy of the binary.
	dir, err := os.MkdirTemp("", "t2")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	data, err := os.ReadFile(stewardBin)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "steward")
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "sock", "s.sock")
	cov := filepath.Join(dir, "cov")
	if err := os.Mkdir(cov, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(cov, 0o777) // whatever the umask
	e := newEnv(t, fmt.Sprintf(`api: {socket: %q, socket_group: %q}
tenants: [acme, globex]
auth:
  local:
    - {match: "uid:12345", role: operator, tenant: acme}
services:
  web: {command: ["{{prog}}"], tenant: acme}
  db: {command: ["{{prog}}"], tenant: globex}
`, sock, grp.Name))
	e.run()
	as := func(args ...string) (int, string, string) {
		cmd := exec.Command(bin, append([]string{"--socket", sock}, args...)...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 12345, Gid: 65534}}
		cmd.Dir = dir
		// Its coverage, of a binary built with -cover, goes where this
		// user may write: not counted, but no warning on stderr either.
		cmd.Env = append(os.Environ(), "GOCOVERDIR="+cov)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		return cmd.ProcessState.ExitCode(), out.String(), errOut.String()
	}
	code, out, stderr := as("ps", "-o", "json")
	var list []steward.ServiceStatus
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list) != 1 || list[0].Name != "web" {
		t.Errorf("ps as uid 12345 (acme by auth.local): %d %s %s; want web only", code, out, stderr)
	}
	code, out, stderr = as("stop", "db")
	want(t, []string{"stop db (uid 12345)"}, 1, code, out, stderr, `no service "db"`)
	code, out, stderr = as("config", "show")
	want(t, []string{"config show (uid 12345)"}, 1, code, out, stderr, "not open to a principal scoped to a tenant")
}
