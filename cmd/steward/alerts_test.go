package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/alert"
	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/api/apitest"
	"github.com/stewardhq/steward/internal/check"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/store"
)

type checkList []check.State

func (c checkList) States() []check.State { return c }

// alertsCLI serves an API over a real alert engine and returns a function
// that runs the CLI against it.
func alertsCLI(t *testing.T) (*alert.Engine, func(args ...string) (int, string, string)) {
	t.Helper()
	t.Setenv("STEWARD_SOCKET", "")
	t.Setenv("STEWARD_TOKEN", "")
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	eng, err := alert.New(ctx, alert.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	configs, err := apitest.NewConfigs(filepath.Join(t.TempDir(), "s.yaml"), []byte(cliConfig))
	if err != nil {
		t.Fatal(err)
	}
	last := check.Result{Status: check.OK, Message: "fine", Time: time.Now()}
	srv := api.New(api.Options{Services: apitest.NewServices(), Events: &apitest.Events{}, Configs: configs, Alerts: eng,
		Checks: checkList{{Name: "db-port", Check: &config.Check{Name: "db-port"}, Last: &last}, {Name: "new", Check: &config.Check{Name: "new"}}}})
	sock := apitest.Serve(t, srv.Handler())
	return eng, func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := execute(append(args, "--socket", sock), &out, &errb)
		return code, out.String(), errb.String()
	}
}

func TestAlertsCommands(t *testing.T) {
	eng, run := alertsCLI(t)
	ctx := context.Background()
	eng.Observe(ctx, alert.Condition{Rule: "disk:/", Subject: "machine", Active: true, Message: "disk:/ is 93.0%, threshold > 90%"})
	code, out, errs := run("alerts")
	if code != 0 || !strings.Contains(out, "ID  STATE   SEVERITY  RULE    SUBJECT  SINCE   NOTE  MESSAGE") ||
		!strings.Contains(out, "1   firing  warning   disk:/  machine  0s ago  -     disk:/ is 93.0%, threshold > 90%") {
		t.Fatalf("alerts: %d\n%s%s", code, out, errs)
	}
	code, out, _ = run("alerts", "ack", "1", "-m", "cleaning up")
	if code != 0 || !strings.HasPrefix(out, "alert 1 acknowledged by ") {
		t.Fatalf("ack: %d %s", code, out)
	}
	code, out, _ = run("silence", "add", "--match", "subject=machine", "--for", "2h", "-m", "disk swap")
	if code != 0 || !strings.HasPrefix(out, "silence 1 until ") {
		t.Fatalf("silence add: %d %s", code, out)
	}
	code, out, _ = run("alerts", "-o", "json")
	var list []steward.Alert
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list) != 1 || list[0].AckedBy == "" || len(list[0].Silenced) != 1 {
		t.Fatalf("alerts -o json: %d %s", code, out)
	}
	code, out, _ = run("alerts")
	if code != 0 || !strings.Contains(out, "acked,silenced") {
		t.Errorf("alerts table lacks notes: %d\n%s", code, out)
	}
	code, out, _ = run("alerts", "show", "1")
	if code != 0 || !strings.Contains(out, "alert 1: firing disk:/ on machine (warning)") || !strings.Contains(out, "acknowledged by") {
		t.Errorf("alerts show: %d\n%s", code, out)
	}
	code, out, _ = run("alerts", "show", "1", "-o", "json")
	if code != 0 || !strings.Contains(out, `"transitions"`) {
		t.Errorf("alerts show -o json: %d %s", code, out)
	}
	code, out, _ = run("silence", "list")
	if code != 0 || !strings.Contains(out, "subject=machine") || !strings.Contains(out, "disk swap") {
		t.Errorf("silence list: %d\n%s", code, out)
	}
	code, out, _ = run("silence", "list", "-o", "json")
	if code != 0 || !strings.Contains(out, `"matchers"`) {
		t.Errorf("silence list -o json: %d %s", code, out)
	}
	if code, _, errs := run("silence", "rm", "1"); code != 0 {
		t.Errorf("silence rm: %d %s", code, errs)
	}
	if code, _, errs := run("silence", "rm", "1"); code != 1 || !strings.Contains(errs, "silence 1 not found") {
		t.Errorf("silence rm again: %d %s", code, errs)
	}
	eng.Observe(ctx, alert.Condition{Rule: "disk:/", Subject: "machine", Active: false})
	code, out, _ = run("alerts", "--all")
	if code != 0 || !strings.Contains(out, "resolved") {
		t.Errorf("alerts --all: %d\n%s", code, out)
	}
	code, out, _ = run("alerts", "ack", "1", "-o", "json")
	if code != 1 {
		t.Errorf("ack of a resolved alert: %d %s", code, out)
	}
	for _, args := range [][]string{
		{"alerts", "ack"}, {"alerts", "ack", "x"}, {"alerts", "show", "0"}, {"silence", "add"},
		{"silence", "add", "--match", "nolabel"}, {"silence", "rm"}, {"silence", "rm", "-3"}, {"alerts", "extra"},
	} {
		if code, _, _ := run(args...); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
	code, out, _ = run("checks")
	if code != 0 || !strings.Contains(out, "db-port  OK      0s ago  fine") || !strings.Contains(out, "new      -       -") {
		t.Errorf("checks: %d\n%s", code, out)
	}
	code, out, _ = run("checks", "-o", "json")
	if code != 0 || !strings.Contains(out, `"status": "OK"`) {
		t.Errorf("checks -o json: %d %s", code, out)
	}
	if got := memText(512 << 10); got != "512K" {
		t.Errorf("memText = %q", got)
	}
	if got := memText(3 << 30); got != "3.0G" {
		t.Errorf("memText = %q", got)
	}
}
