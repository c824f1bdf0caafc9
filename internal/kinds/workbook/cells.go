package workbook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/stewardhq/steward"
)

// Excel's limits.
const (
	maxCols = 16384
	maxRows = 1048576
	// maxCellChars is the most characters a cell holds.
	maxCellChars = 32767
)

// Cell is a cell reference: column and row, both from 1.
type Cell struct{ Col, Row int }

// String returns the reference in A1 form.
func (c Cell) String() string { return colName(c.Col) + fmt.Sprint(c.Row) }

func colName(col int) string {
	var b []byte
	for ; col > 0; col = (col - 1) / 26 {
		b = append([]byte{byte('A' + (col-1)%26)}, b...)
	}
	return string(b)
}

// ParseCell parses an A1 reference: one to three letters (either case)
// naming a column up to XFD, then a row from 1 to 1048576, each
// optionally after a "$" ("$B$7").
func ParseCell(s string) (Cell, error) {
	bad := func(why string) (Cell, error) {
		return Cell{}, steward.Errorf(steward.EINVALID, "invalid cell reference %q: %s", s, why)
	}
	rest := strings.TrimPrefix(s, "$")
	i := 0
	col := 0
	for i < len(rest) && i < 4 {
		ch := rest[i] | 0x20 // lower case
		if ch < 'a' || ch > 'z' {
			break
		}
		col = col*26 + int(ch-'a'+1)
		i++
	}
	switch {
	case i == 0:
		return bad("want a column (A to XFD) and a row, like B7")
	case i > 3 || col > maxCols:
		return bad("the last column is XFD")
	}
	rest = strings.TrimPrefix(rest[i:], "$")
	if rest == "" || rest[0] == '0' {
		return bad("want a row from 1 to 1048576 after the column")
	}
	row := 0
	for j := range len(rest) {
		if rest[j] < '0' || rest[j] > '9' || j >= 7 {
			return bad("want a row from 1 to 1048576 after the column")
		}
		row = row*10 + int(rest[j]-'0')
	}
	if row > maxRows {
		return bad("the last row is 1048576")
	}
	return Cell{col, row}, nil
}

// ParseRange parses a range "A1:C3" (either corner first) or a single
// cell, and returns its top left and bottom right cells.
func ParseRange(s string) (from, to Cell, err error) {
	a, b, two := strings.Cut(s, ":")
	if from, err = ParseCell(a); err != nil {
		return
	}
	to = from
	if two {
		if to, err = ParseCell(b); err != nil {
			return
		}
	}
	if from.Col > to.Col {
		from.Col, to.Col = to.Col, from.Col
	}
	if from.Row > to.Row {
		from.Row, to.Row = to.Row, from.Row
	}
	return from, to, nil
}

// Value kinds of a typed cell.
const (
	kindEmpty = iota
	kindNumber
	kindString
	kindBool
	kindFormula
	kindDate     // a date without a time of day
	kindDateTime // a date and time, in UTC
)

// value is one typed cell of a write: a date is its Excel serial number
// in num (days since 1899-12-30).
type value struct {
	kind uint8
	b    bool
	num  float64
	str  string // a string, or a formula without its "="
}

// excelEpoch is day 0 of Excel's serial dates (in the 1900 date system,
// from 1900-03-01 on).
var excelEpoch = time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)

// ParseData parses a JSON 2-D array, as `steward workbook write --data`
// takes it, into the rows Kind.Write takes.
func ParseData(b []byte) ([][]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var rows [][]any
	if err := dec.Decode(&rows); err != nil {
		return nil, steward.Errorf(steward.EINVALID, "data: want a JSON array of arrays of numbers, strings, booleans and nulls: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, steward.Errorf(steward.EINVALID, "data: more than one JSON value")
	}
	return rows, nil
}

// check checks the rows of a write, each value as typeOf types it, and
// returns the width of the rows, which must all be as long as the first.
// Nothing is kept: the writer types each row again as it goes, so that a
// large write holds no second copy of its data.
func check(rows [][]any) (int, error) {
	for i, row := range rows {
		if len(row) != len(rows[0]) {
			return 0, steward.Errorf(steward.EINVALID, "data: row %d has %d values, row 1 has %d: rows must be the same length", i+1, len(row), len(rows[0]))
		}
		for j, v := range row {
			if _, err := typeOf(v); err != nil {
				return 0, steward.Errorf(steward.EINVALID, "data: row %d, value %d: %v", i+1, j+1, err)
			}
		}
	}
	if len(rows) == 0 {
		return 0, nil
	}
	return len(rows[0]), nil
}

// typeOf types one value of a write: a number is a number, a boolean a
// boolean, null an empty cell; a string starting with "=" is a formula,
// one starting with "'" the text after it, an RFC 3339 date
// ("2026-12-06") or date-time ("2026-12-06T08:30:00Z", in UTC once
// written) from 1900-03-01 on a date, and any other string text.
func typeOf(v any) (value, error) {
	switch v := v.(type) {
	case nil:
		return value{}, nil
	case bool:
		return value{kind: kindBool, b: v}, nil
	case float64:
		return number(v)
	case json.Number:
		f, err := v.Float64()
		if err != nil {
			return value{}, fmt.Errorf("number %s is out of range", v)
		}
		return number(f)
	case string:
		if len(v) > maxCellChars {
			return value{}, fmt.Errorf("a cell holds at most %d characters", maxCellChars)
		}
		switch {
		case strings.HasPrefix(v, "="):
			if len(v) == 1 {
				return value{}, errors.New(`"=" is an empty formula`)
			}
			return value{kind: kindFormula, str: v[1:]}, nil
		case strings.HasPrefix(v, "'"):
			return value{kind: kindString, str: v[1:]}, nil
		}
		if t, kind, ok := parseDate(v); ok {
			return value{kind: kind, num: float64(t.Sub(excelEpoch)) / float64(24*time.Hour)}, nil
		}
		return value{kind: kindString, str: v}, nil
	}
	return value{}, fmt.Errorf("a %T is not a cell value: want a number, a string, a boolean or null", v)
}

func number(f float64) (value, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return value{}, errors.New("a number must be finite")
	}
	return value{kind: kindNumber, num: f}, nil
}

// Date layouts of RFC 3339: a full-date, and a date-time.
const (
	dateLayout     = "2006-01-02"
	dateTimeLayout = time.RFC3339Nano
)

// parseDate returns the date s spells in RFC 3339, its kind, and whether
// it is one. Excel's serial dates are one off before 1900-03-01 (it takes
// 1900 for a leap year): those are not taken as dates.
func parseDate(s string) (time.Time, uint8, bool) {
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return time.Time{}, 0, false
	}
	kind := uint8(kindDateTime)
	t, err := time.Parse(dateTimeLayout, s)
	if len(s) == 10 {
		kind = kindDate
		t, err = time.Parse(dateLayout, s)
	}
	if err != nil || t.UTC().Before(time.Date(1900, 3, 1, 0, 0, 0, 0, time.UTC)) {
		return time.Time{}, 0, false
	}
	return t.UTC(), kind, true
}
