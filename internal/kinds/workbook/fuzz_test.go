package workbook

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/stewardhq/steward"
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

// FuzzBusCommand checks the decoding of the bodies of the commands over
// the bus: no panic, every refusal a coded 4xx error, and nothing written
// outside the service's dir. The first byte picks the command.
func FuzzBusCommand(f *testing.F) {
	for _, s := range []string{
		"\x00",                              // create_workbook, no body: blank
		"\x00{\"template\": \"../t.xlsx\"}", // a template outside dir
		"\x01{\"session\": \"wb.1\", \"sheet\": \"S\", \"data\": [[1, \"a\"]]}", // process_data, an unknown session
		"\x01{\"sheet\": \"S\", \"data\": [[1], [1, 2]]}",                       // no session, ragged
		"\x02{\"session\": \"\", \"as\": \"/etc/x.xlsx\"}",                      // save_workbook
		"\x03{\"session\": 7}",     // close_workbook, a number for a session
		"\x04", "\x04{}", "\x04[]", // list_sessions
		"\x05{\"session\": \"x\", \"sheet\": \"S\", \"range\": \"A1:ZZZZ9\"}", // read_range
		"\x05{\"session\": \"x\"} {}",                                         // two values
		"\x01{\"session\": \"x\", \"data\": [[{}]], \"more\": true}",          // an object, an unknown field
	} {
		f.Add([]byte(s))
	}
	k := New(Options{})
	root, err := os.OpenRoot(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	defer root.Close()
	spec := Spec{Dir: root.Name(), MaxSessions: 1 << 20, IdleTimeout: time.Hour}
	k.services["wb"] = &service{k: k, name: "wb", spec: spec, root: root, sessions: map[string]*session{}}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 {
			return
		}
		cmd := commands[int(b[0])%len(commands)]
		out, err := k.command(context.Background(), "wb", cmd, b[1:])
		if ss, ok := out.(steward.WorkbookSession); ok {
			_ = k.Close(context.Background(), "wb", ss.ID) // the sessions do not add up
		}
		if err == nil {
			return
		}
		if code := steward.ErrorCode(err); code == steward.EINTERNAL || code == "" {
			t.Fatalf("%s %q: an uncoded error %v", cmd, b[1:], err)
		}
	})
}
