package workbook

import (
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// FuzzCellRef checks ParseCell: it never panics, and a reference it takes
// is one excelize takes for the same cell, and prints back as itself
// without "$" in upper case.
func FuzzCellRef(f *testing.F) {
	for _, s := range []string{
		"A1", "b7", "$C$3", "XFD1048576", // valid, the last cell among them
		"XFE1", "A1048577", "A0", "A01", // past the limits, a leading zero
		"1A", "", "$", "A", "AAAA1", "A1:B2", "A-1", "A 1", "Ä1", // malformed
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCell(s)
		if err != nil {
			return
		}
		col, row, xerr := excelize.CellNameToCoordinates(strings.ReplaceAll(s, "$", ""))
		if xerr != nil || col != c.Col || row != c.Row {
			t.Fatalf("ParseCell(%q) = %v, excelize says %d,%d (%v)", s, c, col, row, xerr)
		}
		if got, want := c.String(), strings.ToUpper(strings.ReplaceAll(s, "$", "")); got != want {
			t.Fatalf("ParseCell(%q).String() = %q, want %q", s, got, want)
		}
		if again, err := ParseCell(c.String()); err != nil || again != c {
			t.Fatalf("ParseCell(%q) = %v, %v; want %v", c.String(), again, err, c)
		}
	})
}

// FuzzData checks ParseData and the typing of its cells: no panic, and
// data that is taken has rows of one width, each value typed.
func FuzzData(f *testing.F) {
	for _, s := range []string{
		`[[1, "a", true, null]]`,                        // one of each plain type
		`[["=SUM(A1:A2)", "'=text", "2026-12-06"]]`,     // a formula, an escape, a date
		`[["2026-12-06T08:30:00+02:00", "2026-13-01"]]`, // a date-time, a non-date
		`[[1, 2], [3]]`,                                 // ragged
		`[[{"a": 1}]]`, `[1, 2]`, `[[1e999]]`, `[]`,     // an object, a flat array, out of range, empty
		`[[1]] [[2]]`, `{"data": []}`, ``, // two values, an object, nothing
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		rows, err := ParseData(b)
		if err != nil {
			return
		}
		width, err := check(rows)
		if err != nil {
			return
		}
		for i, row := range rows {
			if len(row) != width {
				t.Fatalf("row %d has %d cells, width %d", i, len(row), width)
			}
			for _, x := range row {
				v, err := typeOf(x)
				if err != nil || v.kind > kindDateTime {
					t.Fatalf("check took %v, typed as %+v, %v", x, v, err)
				}
			}
		}
	})
}
