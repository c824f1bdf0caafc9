package workbook

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/stewardhq/steward"
)

// readWithOpenpyxl prints, for each cell of a sheet, the Python type
// openpyxl reads it as, its data type (n number, s string, b boolean,
// f formula, d date) and its value; formulas are read as their text.
const readWithOpenpyxl = `
import datetime, json, sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
out = []
for row in wb[sys.argv[2]].iter_rows():
    cells = []
    for c in row:
        v = c.value
        if isinstance(v, (datetime.datetime, datetime.date)):
            v = v.isoformat()
        cells.append([type(c.value).__name__, c.data_type, v])
    out.append(cells)
json.dump(out, sys.stdout)
`

// TestOpenpyxlReads: a workbook saved by a session, opened by Python's
// openpyxl, holds each value with the type it was written as.
func TestOpenpyxlReads(t *testing.T) {
	python := openpyxl(t)
	for _, streamRows := range []int{1000, 2} { // cell by cell, and through the stream writer
		f := start(t, Spec{}, Limits{StreamRows: streamRows})
		id := f.create(t, "")
		ctx := context.Background()
		data := [][]any{
			{42.0, 2.5, "text", true, "=A1*2", "2026-12-06", "2026-12-06T08:30:00Z", nil},
			{-1.0, 0.0, "'=literal", false, "=SUM(A1:B1)", "1999-01-31", "2000-02-29T23:59:59+01:00", "x"},
		}
		if _, err := f.k.Write(ctx, "wb", id, steward.WorkbookWriteRequest{Sheet: "Typed", Data: data}); err != nil {
			t.Fatal(err)
		}
		saved, err := f.k.Save(ctx, "wb", id, steward.WorkbookSaveRequest{As: "typed.xlsx"})
		if err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(python, "-c", readWithOpenpyxl, filepath.Join(f.dir, "books", saved.File), "Typed").Output()
		if err != nil {
			t.Fatalf("openpyxl: %v\n%s", err, out)
		}
		var got [][][]any
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("openpyxl's output: %v\n%s", err, out)
		}
		want := [][][]any{
			{{"int", "n", 42.0}, {"float", "n", 2.5}, {"str", "s", "text"}, {"bool", "b", true},
				{"str", "f", "=A1*2"}, {"datetime", "d", "2026-12-06T00:00:00"}, {"datetime", "d", "2026-12-06T08:30:00"}, {"NoneType", "n", nil}},
			{{"int", "n", -1.0}, {"int", "n", 0.0}, {"str", "s", "=literal"}, {"bool", "b", false},
				{"str", "f", "=SUM(A1:B1)"}, {"datetime", "d", "1999-01-31T00:00:00"}, {"datetime", "d", "2000-02-29T22:59:59"}, {"str", "s", "x"}},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("stream rows %d: openpyxl read\n%v\nwant\n%v", streamRows, got, want)
		}
	}
}

// openpyxl returns a Python that has openpyxl: python3 on the PATH, or
// Debian's (where python3-openpyxl installs it) when the PATH's is another;
// without one the test skips.
func openpyxl(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		if path, err := exec.LookPath(p); err == nil && exec.Command(path, "-c", "import openpyxl").Run() == nil {
			return path
		}
	}
	t.Skip("no python3 with openpyxl here: apt-get install python3-openpyxl to run this test")
	return ""
}
