package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/stewardhq/steward"
)

// TestWorkbookEndToEnd drives a workbook service through the CLI: create,
// write, read, save, close, with the bad inputs refused and the events
// recorded.
func TestWorkbookEndToEnd(t *testing.T) {
	e := newEnv(t, `
services:
  excel:
    kind: workbook
    dir: books
    max_sessions: 2
`)
	e.run()
	e.waitState("excel", steward.StateRunning)
	if err := os.WriteFile(filepath.Join(e.dir, "books", "bad.xlsx"), []byte("not a zip"), 0o644); err != nil {
		t.Fatal(err)
	}
	ok := func(args ...string) string {
		t.Helper()
		code, out, stderr := e.steward(args...)
		if code != 0 {
			t.Fatalf("steward %s: exit %d: %s", strings.Join(args, " "), code, stderr)
		}
		return out
	}
	fails := func(want string, args ...string) {
		t.Helper()
		code, _, stderr := e.steward(args...)
		if code == 0 || !strings.Contains(stderr, want) {
			t.Errorf("steward %s: exit %d, stderr %q; want a failure saying %q", strings.Join(args, " "), code, stderr, want)
		}
	}

	id := strings.TrimSpace(ok("workbook", "create"))
	if !strings.HasPrefix(id, "excel.") {
		t.Fatalf("workbook create printed %q, want excel.HEX", id)
	}
	ok("workbook", "write", id, "--sheet", "Orders", "--data", `[["id","day","amount","paid"],[1,"2026-12-06",9.5,true],[2,"2026-12-07",null,false]]`)
	ok("workbook", "write", id, "--sheet", "Orders", "--cell", "E1", "--data", `[["total"],["=SUM(C2:C3)"]]`)

	stdin := command("-c", e.config, "workbook", "write", id, "--sheet", "Raw", "--data", "-")
	stdin.Stdin = strings.NewReader(`[[1, 2], [3, 4]]`)
	if out, err := stdin.CombinedOutput(); err != nil || !strings.Contains(string(out), "2 rows written to Raw!A1:B2") {
		t.Errorf("write --data - : %v, %s", err, out)
	}

	var rng steward.WorkbookRange
	if err := json.Unmarshal([]byte(ok("workbook", "read", id, "--sheet", "Orders", "--range", "A1:E2", "-o", "json")), &rng); err != nil {
		t.Fatal(err)
	}
	want := [][]any{{"id", "day", "amount", "paid", "total"}, {1.0, "2026-12-06", 9.5, true, "=SUM(C2:C3)"}}
	if !reflect.DeepEqual(rng.Data, want) {
		t.Errorf("read = %v, want %v", rng.Data, want)
	}
	if got := ok("workbook", "read", id, "--sheet", "Orders", "--range", "A2:D2"); got != "1\t2026-12-06\t9.5\ttrue\n" {
		t.Errorf("read as a table = %q", got)
	}

	fails("invalid cell reference", "workbook", "write", id, "--sheet", "Orders", "--cell", "ZZZZ1", "--data", "[[1]]")
	fails("rows must be the same length", "workbook", "write", id, "--sheet", "Orders", "--data", "[[1],[2,3]]")
	fails("JSON array", "workbook", "write", id, "--sheet", "Orders", "--data", `{"a":1}`)
	fails("outside the service's dir", "workbook", "save", id, "--as", "../escape.xlsx")
	fails("outside the service's dir", "workbook", "save", id, "--as", filepath.Join(e.dir, "escape.xlsx"))
	fails("outside the service's dir", "workbook", "create", "--template", "../steward.yaml")
	fails("not a workbook", "workbook", "create", "--template", "bad.xlsx")
	fails("no session", "workbook", "read", "excel.0000", "--sheet", "Orders", "--range", "A1")

	ok("workbook", "save", id, "--as", "orders.xlsx")
	if _, err := os.Stat(filepath.Join(e.dir, "escape.xlsx")); !os.IsNotExist(err) {
		t.Errorf("a file was written outside dir: %v", err)
	}
	wb, err := excelize.OpenFile(filepath.Join(e.dir, "books", "orders.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := wb.GetCellValue("Orders", "C2"); v != "9.5" {
		t.Errorf("saved Orders!C2 = %q, want 9.5", v)
	}
	wb.Close()

	var list []steward.WorkbookSession
	if err := json.Unmarshal([]byte(ok("workbook", "sessions", "-o", "json")), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != id || list[0].File != "orders.xlsx" {
		t.Errorf("sessions = %+v, want %s saved as orders.xlsx", list, id)
	}
	from := strings.TrimSpace(ok("workbook", "create", "excel", "--template", "orders.xlsx"))
	fails("max_sessions", "workbook", "create")
	ok("workbook", "close", from)
	ok("workbook", "close", id)
	fails("no session", "workbook", "read", id, "--sheet", "Orders", "--range", "A1")

	var evs []steward.Event
	if err := json.Unmarshal([]byte(ok("events", "--service", "excel", "-o", "json")), &evs); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, ev := range evs {
		if ev.Type == steward.EventWorkbook {
			seen[strings.SplitN(ev.Reason, ":", 2)[0]] = true
		}
	}
	for _, r := range []string{"workbook_created", "data_processed", "workbook_saved", "workbook_closed"} {
		if !seen[r] {
			t.Errorf("no %s event among %v", r, evs)
		}
	}
}
