package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stewardhq/steward"
)

// TestWorkbookJob: a job with a workbook action, run with jobs run --wait,
// writes what its commands print into a session of a workbook service and
// saves it under the service's dir, as a file openpyxl reads; a command
// that prints no JSON fails the run and saves nothing.
func TestWorkbookJob(t *testing.T) {
	e := newEnv(t, `
services:
  excel: {kind: workbook, dir: books}
jobs:
  sheet:
    workbook:
      service: excel
      writes:
        - {sheet: Orders, command: ["sh", "-c", "echo '[[\"id\",\"amount\"],[1,9.5],[2,3]]'"]}
        - {sheet: Orders, cell: D1, command: ["sh", "-c", "echo '[[\"total\"],[\"=SUM(B2:B3)\"]]'"]}
      save_as: "orders-{{.run.id}}.xlsx"
  broken:
    workbook:
      service: excel
      writes: [{sheet: S, command: ["echo", "not json"]}]
      save_as: broken.xlsx
`)
	e.run()
	e.waitState("excel", steward.StateRunning)
	code, out, stderr := e.steward("jobs", "run", "sheet", "--wait", "-o", "json")
	var run steward.Run
	if code != 0 || json.Unmarshal([]byte(out), &run) != nil || run.Status != steward.RunSucceeded {
		t.Fatalf("jobs run sheet --wait: %d %s %s", code, out, stderr)
	}
	file := filepath.Join(e.dir, "books", "orders-"+strconv.FormatInt(run.ID, 10)+".xlsx")
	if _, err := os.Stat(file); err != nil {
		t.Fatal(err)
	}
	if _, logs, _ := e.steward("runs", "logs", strconv.FormatInt(run.ID, 10)); !strings.Contains(logs, "wrote 3 rows to Orders!A1:B3") || !strings.Contains(logs, "saved") {
		t.Errorf("the run's output:\n%s", logs)
	}
	if python := pythonWithOpenpyxl(); python != "" {
		got, err := exec.Command(python, "-c", `import openpyxl, sys
ws = openpyxl.load_workbook(sys.argv[1])["Orders"]
print(ws["A1"].value, ws["B2"].value, ws["A3"].value, ws["D2"].value)`, file).CombinedOutput()
		if err != nil || strings.TrimSpace(string(got)) != "id 9.5 2 =SUM(B2:B3)" {
			t.Errorf("openpyxl read %q, %v", got, err)
		}
	}

	code, out, _ = e.steward("jobs", "run", "broken", "--wait", "-o", "json")
	if code == 0 || json.Unmarshal([]byte(out), &run) != nil || run.Status != steward.RunFailed || !strings.Contains(run.Error, "did not print a JSON array of rows") {
		t.Errorf("jobs run broken --wait: %d %s", code, out)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "books", "broken.xlsx")); err == nil {
		t.Error("a failed workbook job saved its file")
	}
	if _, out, _ := e.steward("workbook", "sessions", "-o", "json"); strings.TrimSpace(out) != "[]" {
		t.Errorf("sessions left open by the jobs: %s", out)
	}
}

// pythonWithOpenpyxl is a python3 that imports openpyxl, or "".
func pythonWithOpenpyxl() string {
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		if path, err := exec.LookPath(p); err == nil && exec.Command(path, "-c", "import openpyxl").Run() == nil {
			return path
		}
	}
	return ""
}
