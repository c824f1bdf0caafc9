package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/testwait"
)

// openpyxlPython returns a python3 that has openpyxl, or skips the test.
func openpyxlPython(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		if path, err := exec.LookPath(p); err == nil && exec.Command(path, "-c", "import openpyxl").Run() == nil {
			return path
		}
	}
	t.Skip("no python3 with openpyxl here (apt-get install python3-openpyxl)")
	return ""
}

// readReportXLSX prints the sheet names of a workbook and the rows of its
// Services sheet as openpyxl reads them.
const readReportXLSX = `
import json, sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
rows = [list(r) for r in wb["Services"].iter_rows(values_only=True)]
json.dump({"sheets": wb.sheetnames, "services": rows}, sys.stdout)
`

// TestReportEndToEnd: a real steward with a service that crashes until it
// fails and one restarted by hand reports the crashes and the manual
// restart in JSON, CSV and an XLSX file openpyxl reads; bad input is
// refused and nothing is written.
func TestReportEndToEnd(t *testing.T) {
	e := newEnv(t, `
services:
  api:
    command: ["{{prog}}", "-exit", "3", "-after", "100ms"]
    restart: {backoff: 10ms, max_backoff: 10ms, max_restarts: 2, window: 1m}
  web:
    command: ["{{prog}}", "-sleep", "1h"]
    slo: 99%
`)
	e.run()
	e.waitState("api", steward.StateFailed)
	e.waitState("web", steward.StateRunning)
	if code, _, stderr := e.steward("restart", "web"); code != 0 {
		t.Fatalf("restart web: exit %d: %s", code, stderr)
	}
	e.waitState("web", steward.StateRunning)

	byName := func(rep steward.Report) map[string]steward.ServiceReport {
		m := map[string]steward.ServiceReport{}
		for _, s := range rep.Services {
			m[s.Name] = s
		}
		return m
	}
	// The events reach the store through the journal: poll until the
	// report shows them all.
	testwait.NoError(t, 20*time.Second, func() error {
		code, out, stderr := e.steward("report", "--since", "1h")
		if code != 0 {
			return fmt.Errorf("report: exit %d: %s", code, stderr)
		}
		var rep steward.Report
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			return fmt.Errorf("report JSON: %v\n%s", err, out)
		}
		s := byName(rep)
		if s["api"].Crashes != 3 || s["api"].Manual != 0 {
			return fmt.Errorf("api: %d crashes, %d manual restarts; want 3 crashes (two into backoff, one into failed)", s["api"].Crashes, s["api"].Manual)
		}
		if s["web"].Manual != 1 || s["web"].Crashes != 0 || s["web"].SLO != 99 || s["web"].ErrorBudget == nil {
			return fmt.Errorf("web: %+v, want 1 manual restart, no crash and a 99%% SLO with its budget", s["web"])
		}
		return nil
	})

	code, out, stderr := e.steward("report", "--service", "api", "-o", "csv")
	if code != 0 {
		t.Fatalf("report -o csv: exit %d: %s", code, stderr)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("report -o csv: %v\n%s", err, out)
	}
	if len(rows) != 2 || rows[0][0] != "service" || rows[0][11] != "crashes" || rows[1][0] != "api" || rows[1][11] != "3" {
		t.Errorf("report -o csv --service api = %q, want a header and api with 3 crashes", rows)
	}

	file := filepath.Join(e.dir, "out", "week.xlsx")
	if err := os.Mkdir(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if code, out, stderr := e.steward("report", "-o", "xlsx", "--out", file); code != 0 || out != "" {
		t.Fatalf("report -o xlsx --out: exit %d, stdout %q: %s", code, out, stderr)
	}
	py := openpyxlPython(t)
	read, err := exec.Command(py, "-c", readReportXLSX, file).CombinedOutput()
	if err != nil {
		t.Fatalf("openpyxl: %v\n%s", err, read)
	}
	var book struct {
		Sheets   []string
		Services [][]any
	}
	if err := json.Unmarshal(read, &book); err != nil {
		t.Fatalf("%v: %s", err, read)
	}
	if len(book.Sheets) == 0 || book.Sheets[0] != "Summary" || len(book.Services) != 3 {
		t.Fatalf("workbook: sheets %v, Services rows %v; want Summary first and a row for api and web", book.Sheets, book.Services)
	}
	for _, row := range book.Services[1:] {
		if row[0] == "api" && row[10] != 3.0 {
			t.Errorf("workbook: api's row %v, want 3 crashes in column K", row)
		}
	}
	entries, _ := os.ReadDir(filepath.Dir(file))
	if len(entries) != 1 {
		t.Errorf("out/ holds %d files, want only week.xlsx (no temporary left)", len(entries))
	}

	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"report", "-o", "pdf"}, 2, `-o "pdf": want one of json, csv, html, xlsx`},
		{[]string{"report", "--since", "yesterday"}, 1, "yesterday"},
		{[]string{"report", "-o", "json", "--section", "jobs"}, 1, "format csv"},
		{[]string{"report", "--out", filepath.Join(e.dir, "missing", "r.json")}, 1, "missing"},
		{[]string{"-c", filepath.Join(e.dir, "none.yaml"), "report"}, 1, "cannot find the API"},
	} {
		code, out, stderr := e.steward(tt.args...)
		if code != tt.code || out != "" || !strings.Contains(stderr, tt.want) {
			t.Errorf("steward %q: exit %d, stdout %q, stderr %q; want exit %d saying %q", tt.args, code, out, stderr, tt.code, tt.want)
		}
	}
}
