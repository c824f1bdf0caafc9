package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/testwait"
)

// workbookBusConfig has a workbook service whose only caller is app, a
// service of its tenant; nosy, of the same tenant, and rival, of another,
// are no callers. Each service writes its NATS_URL to NAME.url.
const workbookBusConfig = `node: e2e.node
bus: {listen: %s}
api: {listen: "127.0.0.1:%d"}
tenants: [acme, rival]
services:
  excel: {kind: workbook, dir: books, callers: [app], tenant: acme}
  app:
    command: [sh, -c, 'printf %%s "$NATS_URL" > "{{dir}}/app.tmp" && mv "{{dir}}/app.tmp" "{{dir}}/app.url" && exec sleep 3600']
    tenant: acme
  nosy:
    command: [sh, -c, 'printf %%s "$NATS_URL" > "{{dir}}/nosy.tmp" && mv "{{dir}}/nosy.tmp" "{{dir}}/nosy.url" && exec sleep 3600']
    tenant: acme
  rival:
    command: [sh, -c, 'printf %%s "$NATS_URL" > "{{dir}}/rival.tmp" && mv "{{dir}}/rival.tmp" "{{dir}}/rival.url" && exec sleep 3600']
    tenant: rival
`

// readOrders prints the Orders sheet of a workbook as openpyxl reads it.
const readOrders = `
import json, sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
json.dump([list(r) for r in wb["Orders"].iter_rows(values_only=True)], sys.stdout)
`

// TestWorkbookBusE2E: a supervised service drives a workbook service with
// the nats CLI and its NATS_URL alone: create, write, save (read back by
// openpyxl), list, read, close, each an event naming the bus; bad
// commands are error replies; services that are not callers are refused
// by the NATS server; `nats micro ls` and `steward bus services` show it.
func TestWorkbookBusE2E(t *testing.T) {
	natsBin := natsCLI(t)
	addr, port := freeAddr(t), freePort(t)
	e := newEnv(t, fmt.Sprintf(workbookBusConfig, addr, port))
	e.run()
	e.waitState("excel", steward.StateRunning)
	url := func(service string) string {
		t.Helper()
		var b []byte
		testwait.NoError(t, 20*time.Second, func() error {
			var err error
			b, err = os.ReadFile(filepath.Join(e.dir, service+".url"))
			return err
		})
		return string(b)
	}
	nats := func(service string, args ...string) (string, error) {
		cmd := exec.Command(natsBin, append([]string{"--server", url(service)}, args...)...)
		cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+e.dir, "HOME="+e.dir)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	const subject = "steward.e2e_node.workbook.excel."
	req := func(cmd, body string, out any) {
		t.Helper()
		var text string
		// The micro service is announced as soon as the bus is up; the
		// first request may come before.
		testwait.NoError(t, 20*time.Second, func() error {
			var err error
			text, err = nats("app", "req", "--raw", "--timeout", "5s", subject+cmd, body)
			if err != nil {
				return fmt.Errorf("nats req %s: %v\n%s", cmd, err, text)
			}
			return nil
		})
		if err := json.Unmarshal([]byte(text), out); err != nil {
			t.Fatalf("%s: %v in %q", cmd, err, text)
		}
	}

	var ss steward.WorkbookSession
	req("create_workbook", "{}", &ss)
	if !strings.HasPrefix(ss.ID, "excel.") {
		t.Fatalf("create_workbook: %+v", ss)
	}
	session := `"session": "` + ss.ID + `"`
	var w steward.WorkbookWritten
	req("process_data", `{`+session+`, "sheet": "Orders", "data": [["id", "amount", "paid"], [1, 9.5, true], [2, 12, false]]}`, &w)
	if w.Rows != 3 || w.Range != "A1:C3" {
		t.Errorf("process_data: %+v", w)
	}
	var saved steward.WorkbookSaved
	req("save_workbook", `{`+session+`, "as": "orders.xlsx"}`, &saved)
	if saved.File != "orders.xlsx" {
		t.Errorf("save_workbook: %+v", saved)
	}
	var list []steward.WorkbookSession
	req("list_sessions", "", &list)
	if len(list) != 1 || list[0].ID != ss.ID || list[0].File != "orders.xlsx" {
		t.Errorf("list_sessions: %+v", list)
	}
	// The session is of excel's tenant: acme's principal sees it over
	// HTTP, rival's does not.
	api := fmt.Sprintf("http://127.0.0.1:%d", port)
	for _, tenant := range []string{"acme", "rival"} {
		code, secret, stderr := e.steward("token", "create", tenant+"-ops", "--role", "operator", "--tenant", tenant)
		if code != 0 {
			t.Fatalf("token create --tenant %s: %d %s", tenant, code, stderr)
		}
		code, out, stderr := e.tcpSteward(api, strings.TrimSpace(secret), "workbook", "sessions", "excel", "-o", "json")
		switch {
		case tenant == "acme" && (code != 0 || !strings.Contains(out, ss.ID)):
			t.Errorf("acme's sessions of excel: exit %d: %s%s", code, out, stderr)
		case tenant == "rival" && (code == 0 || strings.Contains(out, ss.ID)):
			t.Errorf("rival's sessions of excel: exit %d: %s%s", code, out, stderr)
		}
	}

	var rng steward.WorkbookRange
	req("read_range", `{`+session+`, "sheet": "Orders", "range": "A2:C2"}`, &rng)
	if want := [][]any{{1.0, 9.5, true}}; !reflect.DeepEqual(rng.Data, want) {
		t.Errorf("read_range: %v, want %v", rng.Data, want)
	}

	// Bad commands are error replies with the API's code, nothing written.
	for _, bad := range []struct{ cmd, body, want string }{
		{"process_data", `{` + session + `, "sheet": "Orders", "data": [[1, 2], [3]]}`, "400"},
		{"save_workbook", `{` + session + `, "as": "../escape.xlsx"}`, "400"},
		{"process_data", `{"session": "excel.00", "sheet": "S", "data": [[1]]}`, "404"},
	} {
		out, _ := nats("app", "req", "--timeout", "5s", subject+bad.cmd, bad.body)
		if !strings.Contains(out, "Nats-Service-Error-Code: "+bad.want) {
			t.Errorf("%s %s: want error code %s:\n%s", bad.cmd, bad.body, bad.want, out)
		}
	}
	if _, err := os.Stat(filepath.Join(e.dir, "escape.xlsx")); !os.IsNotExist(err) {
		t.Errorf("a file outside dir: %v", err)
	}

	// Services that are not callers, of the tenant or not, are refused by
	// the server; so is subscribing to the commands.
	for _, svc := range []string{"nosy", "rival"} {
		// The CLI reports the violation and the timeout, and exits 0.
		out, _ := nats(svc, "req", "--timeout", "2s", subject+"list_sessions", "")
		if !strings.Contains(out, "Permissions Violation for Publish") || strings.Contains(out, ss.ID) {
			t.Errorf("%s requests excel's sessions:\n%s", svc, out)
		}
	}
	if out, _ := nats("nosy", "sub", "--count", "1", "--timeout", "2s", subject+">"); !strings.Contains(out, "Permissions Violation for Subscription") {
		t.Errorf("nosy subscribes to excel's commands:\n%s", out)
	}

	for _, args := range [][]string{{"micro", "ls"}, {"micro", "info", "steward-workbook"}} {
		out, err := nats("app", args...)
		if err != nil || !strings.Contains(out, "steward-workbook") {
			t.Errorf("nats %v: %v\n%s", args, err, out)
		}
		if args[1] == "info" && !strings.Contains(out, subject+"create_workbook") {
			t.Errorf("nats micro info: no endpoint %screate_workbook\n%s", subject, out)
		}
	}
	code, out, stderr := e.steward("bus", "services", "-o", "json")
	var svcs []steward.BusService
	if code != 0 || json.Unmarshal([]byte(out), &svcs) != nil || len(svcs) != 1 || svcs[0].Metadata["service"] != "excel" || svcs[0].Metadata["node"] != "e2e.node" {
		t.Errorf("bus services: exit %d: %s%s", code, out, stderr)
	}

	var closed steward.WorkbookSessionCommand
	req("close_workbook", `{`+session+`}`, &closed)
	var evs []steward.Event
	code, out, stderr = e.steward("events", "--service", "excel", "-o", "json")
	if code != 0 || json.Unmarshal([]byte(out), &evs) != nil {
		t.Fatalf("events: exit %d: %s%s", code, out, stderr)
	}
	seen := map[string]bool{}
	for _, ev := range evs {
		if ev.Type == steward.EventWorkbook && strings.HasSuffix(ev.Reason, ", by bus") {
			seen[strings.SplitN(ev.Reason, ":", 2)[0]] = true
		}
	}
	for _, r := range []string{"workbook_created", "data_processed", "workbook_saved", "workbook_closed"} {
		if !seen[r] {
			t.Errorf("no %s event by bus among %+v", r, evs)
		}
	}

	// A reload that moves the bus restarts it: the workbook service is
	// announced on the new one, and app, restarted for its new NATS_URL,
	// calls it again. Taken out of callers, app is refused.
	e.write(fmt.Sprintf(workbookBusConfig, freeAddr(t), port))
	if code, out, stderr := e.steward("reload"); code != 0 {
		t.Fatalf("reload: exit %d: %s%s", code, out, stderr)
	}
	os.Remove(filepath.Join(e.dir, "app.url"))
	if code, _, stderr := e.steward("restart", "app"); code != 0 {
		t.Fatalf("restart app: exit %d: %s", code, stderr)
	}
	req("list_sessions", "", &list)
	if len(list) != 0 {
		t.Errorf("list_sessions after the bus restarted: %+v", list)
	}
	e.write(strings.Replace(fmt.Sprintf(workbookBusConfig, addr, port), "callers: [app]", "callers: []", 1))
	if code, out, stderr := e.steward("reload"); code != 0 {
		t.Fatalf("reload: exit %d: %s%s", code, out, stderr)
	}
	os.Remove(filepath.Join(e.dir, "app.url"))
	if code, _, stderr := e.steward("restart", "app"); code != 0 {
		t.Fatalf("restart app: exit %d: %s", code, stderr)
	}
	if out, _ := nats("app", "req", "--timeout", "2s", subject+"list_sessions", ""); !strings.Contains(out, "Permissions Violation for Publish") {
		t.Errorf("app requests once no caller:\n%s", out)
	}

	python := openpyxlPython(t)
	b, err := exec.Command(python, "-c", readOrders, filepath.Join(e.dir, "books", "orders.xlsx")).Output()
	if err != nil {
		t.Fatalf("openpyxl: %v\n%s", err, b)
	}
	var rows [][]any
	if err := json.Unmarshal(b, &rows); err != nil {
		t.Fatal(err)
	}
	if want := [][]any{{"id", "amount", "paid"}, {1.0, 9.5, true}, {2.0, 12.0, false}}; !reflect.DeepEqual(rows, want) {
		t.Errorf("openpyxl read %v, want %v", rows, want)
	}
}
