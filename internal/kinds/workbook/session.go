package workbook

import (
	"bytes"
	"cmp"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/stewardhq/steward"
)

// Number formats of the date cells a write makes.
const (
	dateFormat     = "yyyy-mm-dd"
	dateTimeFormat = "yyyy-mm-dd hh:mm:ss"
)

// maxRead is the most cells one read returns.
const maxRead = 250_000

// session is one workbook open in memory. Its fields but used are guarded
// by mu; wb is nil once it is closed.
type session struct {
	id, service string
	template    string // the file it was created from, if any
	created     time.Time
	used        atomic.Int64 // UnixNano of the last use

	mu       sync.Mutex
	wb       *excelize.File
	file     string // what a save without a name writes
	cells    int
	streamed map[string]bool // sheets written by the stream writer, not yet read back
	styles   map[uint8]int   // the style of the date cells, by value kind
}

func newBlank() *excelize.File { return excelize.NewFile() }

func (ss *session) touch(t time.Time) { ss.used.Store(t.UnixNano()) }

func (ss *session) lastUse() time.Time { return time.Unix(0, ss.used.Load()) }

// info describes ss; the caller holds ss.mu.
func (ss *session) info(idle time.Duration) steward.WorkbookSession {
	used := ss.lastUse()
	return steward.WorkbookSession{ID: ss.id, Service: ss.service, Template: ss.template, File: ss.file,
		Sheets: ss.wb.GetSheetList(), Cells: ss.cells, Created: ss.created.UTC(), Used: used.UTC(), Expires: used.Add(idle).UTC()}
}

// write checks req whole, then writes it; the caller holds ss.mu.
func (ss *session) write(req steward.WorkbookWriteRequest, l Limits) (steward.WorkbookWritten, error) {
	if req.Sheet == "" {
		return steward.WorkbookWritten{}, steward.Errorf(steward.EINVALID, "no sheet given")
	}
	at, err := ParseCell(cmp.Or(req.Cell, "A1"))
	if err != nil {
		return steward.WorkbookWritten{}, err
	}
	rows := req.Data
	width, err := check(rows)
	switch {
	case err != nil:
		return steward.WorkbookWritten{}, err
	case len(rows) == 0 || width == 0:
		return steward.WorkbookWritten{}, steward.Errorf(steward.EINVALID, "data is empty: want an array of rows, each an array of values")
	case at.Row+len(rows)-1 > maxRows:
		return steward.WorkbookWritten{}, steward.Errorf(steward.ETOOLARGE, "%d rows at %s reach past row %d, the last", len(rows), at, maxRows)
	case at.Col+width-1 > maxCols:
		return steward.WorkbookWritten{}, steward.Errorf(steward.ETOOLARGE, "%d columns at %s reach past column XFD, the last", width, at)
	case ss.cells+len(rows)*width > l.MaxCells:
		return steward.WorkbookWritten{}, steward.Errorf(steward.ETOOLARGE, "%d more cells would make %d in session %s, more than the %d a session may hold: save it and start another",
			len(rows)*width, ss.cells+len(rows)*width, ss.id, l.MaxCells)
	}
	idx, err := ss.wb.GetSheetIndex(req.Sheet)
	if err != nil {
		return steward.WorkbookWritten{}, steward.Wrap(steward.EINVALID, err, "sheet %q", req.Sheet)
	}
	if ss.streamed[req.Sheet] {
		if err := ss.reopen(l); err != nil {
			return steward.WorkbookWritten{}, err
		}
	}
	isNew := idx == -1
	if isNew {
		if _, err := ss.wb.NewSheet(req.Sheet); err != nil {
			return steward.WorkbookWritten{}, steward.Wrap(steward.EINVALID, err, "sheet %q", req.Sheet)
		}
	}
	stream := isNew && len(rows) >= l.StreamRows
	if stream {
		err = ss.stream(req.Sheet, at, rows)
	} else {
		err = ss.set(req.Sheet, at, rows)
	}
	if err != nil {
		if isNew {
			_ = ss.wb.DeleteSheet(req.Sheet)
			delete(ss.streamed, req.Sheet)
		}
		return steward.WorkbookWritten{}, fmt.Errorf("write %s: %w", req.Sheet, err)
	}
	ss.cells += len(rows) * width
	end := Cell{at.Col + width - 1, at.Row + len(rows) - 1}
	return steward.WorkbookWritten{Sheet: req.Sheet, Range: at.String() + ":" + end.String(), Rows: len(rows), Cells: ss.cells, Streamed: stream}, nil
}

// style returns the style of date cells of kind.
func (ss *session) style(kind uint8) (int, error) {
	if id, ok := ss.styles[kind]; ok {
		return id, nil
	}
	format := dateTimeFormat
	if kind == kindDate {
		format = dateFormat
	}
	id, err := ss.wb.NewStyle(&excelize.Style{CustomNumFmt: &format})
	if err != nil {
		return 0, err
	}
	if ss.styles == nil {
		ss.styles = map[uint8]int{}
	}
	ss.styles[kind] = id
	return id, nil
}

// set writes rows, which check took, at at of sheet cell by cell.
func (ss *session) set(sheet string, at Cell, rows [][]any) error {
	for i, row := range rows {
		for j, x := range row {
			ref := Cell{at.Col + j, at.Row + i}.String()
			v, err := typeOf(x)
			if err != nil {
				return fmt.Errorf("cell %s: %w", ref, err)
			}
			switch v.kind {
			case kindEmpty:
				err = ss.wb.SetCellValue(sheet, ref, nil)
			case kindNumber:
				err = ss.wb.SetCellFloat(sheet, ref, v.num, -1, 64)
			case kindString:
				err = ss.wb.SetCellStr(sheet, ref, v.str)
			case kindBool:
				err = ss.wb.SetCellBool(sheet, ref, v.b)
			case kindFormula:
				err = ss.wb.SetCellFormula(sheet, ref, v.str)
			case kindDate, kindDateTime:
				var id int
				if id, err = ss.style(v.kind); err == nil {
					if err = ss.wb.SetCellFloat(sheet, ref, v.num, -1, 64); err == nil {
						err = ss.wb.SetCellStyle(sheet, ref, ref, id)
					}
				}
			}
			if err != nil {
				return fmt.Errorf("cell %s: %w", ref, err)
			}
		}
	}
	return nil
}

// stream writes rows, which check took, at at of the new sheet with the
// stream writer.
func (ss *session) stream(sheet string, at Cell, rows [][]any) error {
	sw, err := ss.wb.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	ss.streamed[sheet] = true
	line := make([]any, 0, len(rows[0]))
	for i, row := range rows {
		line = line[:0]
		for _, x := range row {
			v, err := typeOf(x)
			if err != nil {
				return err
			}
			var c any
			switch v.kind {
			case kindNumber:
				c = v.num
			case kindString:
				c = v.str
			case kindBool:
				c = v.b
			case kindFormula:
				c = excelize.Cell{Formula: v.str}
			case kindDate, kindDateTime:
				id, err := ss.style(v.kind)
				if err != nil {
					return err
				}
				c = excelize.Cell{StyleID: id, Value: v.num}
			}
			line = append(line, c)
		}
		if err := sw.SetRow(Cell{at.Col, at.Row + i}.String(), line); err != nil {
			return fmt.Errorf("row %d: %w", at.Row+i, err)
		}
	}
	return sw.Flush()
}

// reopen makes the sheets the stream writer wrote readable and writable
// again: excelize keeps them as written XML, which its cell functions do
// not see, so the workbook is written to memory and read back.
func (ss *session) reopen(l Limits) error {
	buf, err := ss.wb.WriteToBuffer()
	if err != nil {
		return fmt.Errorf("reopen session %s: %w", ss.id, err)
	}
	wb, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()), excelize.Options{UnzipSizeLimit: max(l.MaxUnzip, int64(buf.Len())*64)})
	if err != nil {
		return fmt.Errorf("reopen session %s: %w", ss.id, err)
	}
	ss.wb.Close()
	ss.wb = wb
	clear(ss.streamed)
	return nil
}

// read returns the values of rng of sheet; the caller holds ss.mu.
func (ss *session) read(sheet, rng string, l Limits) (steward.WorkbookRange, error) {
	from, to, err := ParseRange(rng)
	if err != nil {
		return steward.WorkbookRange{}, err
	}
	if n := (to.Col - from.Col + 1) * (to.Row - from.Row + 1); n > maxRead {
		return steward.WorkbookRange{}, steward.Errorf(steward.ETOOLARGE, "range %s has %d cells, more than the %d a read returns: read it in parts", rng, n, maxRead)
	}
	if idx, err := ss.wb.GetSheetIndex(sheet); err != nil || idx == -1 {
		return steward.WorkbookRange{}, steward.Errorf(steward.ENOTFOUND, "no sheet %q in session %s", sheet, ss.id)
	}
	if ss.streamed[sheet] {
		if err := ss.reopen(l); err != nil {
			return steward.WorkbookRange{}, err
		}
	}
	out := steward.WorkbookRange{Sheet: sheet, Range: from.String() + ":" + to.String(), Data: make([][]any, 0, to.Row-from.Row+1)}
	for r := from.Row; r <= to.Row; r++ {
		row := make([]any, 0, to.Col-from.Col+1)
		for c := from.Col; c <= to.Col; c++ {
			v, err := ss.cell(sheet, Cell{c, r}.String())
			if err != nil {
				return steward.WorkbookRange{}, fmt.Errorf("read %s!%s: %w", sheet, Cell{c, r}, err)
			}
			row = append(row, v)
		}
		out.Data = append(out.Data, row)
	}
	return out, nil
}

// cell returns the value of one cell as a write would take it.
func (ss *session) cell(sheet, ref string) (any, error) {
	formula, err := ss.wb.GetCellFormula(sheet, ref)
	if err != nil {
		return nil, err
	}
	if formula != "" {
		return "=" + formula, nil
	}
	raw, err := ss.wb.GetCellValue(sheet, ref, excelize.Options{RawCellValue: true})
	if err != nil || raw == "" {
		return nil, err
	}
	typ, err := ss.wb.GetCellType(sheet, ref)
	if err != nil {
		return nil, err
	}
	switch typ {
	case excelize.CellTypeBool:
		return raw == "1" || raw == "TRUE" || raw == "true", nil
	case excelize.CellTypeUnset, excelize.CellTypeNumber:
		n, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			return escape(raw), nil
		}
		if kind, err := ss.dateKind(sheet, ref); err != nil || kind == kindEmpty {
			return n, err
		} else if t, err := excelize.ExcelDateToTime(n, false); err == nil {
			if kind == kindDate && t.Equal(t.Truncate(24*time.Hour)) {
				return t.Format(dateLayout), nil
			}
			return t.UTC().Format(time.RFC3339Nano), nil
		}
		return n, nil
	case excelize.CellTypeDate:
		return raw, nil
	}
	return escape(raw), nil
}

// escape returns the text s as a write takes it: after a "'" when it
// would otherwise be read as a formula, a date or an escape.
func escape(s string) string {
	if _, _, isDate := parseDate(s); isDate || strings.HasPrefix(s, "=") || strings.HasPrefix(s, "'") {
		return "'" + s
	}
	return s
}

// dateKind returns whether the number format of the cell shows a date
// (kindDate), a date and time (kindDateTime) or neither (kindEmpty).
func (ss *session) dateKind(sheet, ref string) (uint8, error) {
	id, err := ss.wb.GetCellStyle(sheet, ref)
	if err != nil || id == 0 {
		return kindEmpty, err
	}
	for kind, sid := range ss.styles {
		if sid == id {
			return kind, nil
		}
	}
	st, err := ss.wb.GetStyle(id)
	if err != nil || st == nil {
		return kindEmpty, err
	}
	switch {
	case st.NumFmt == 14 || st.NumFmt >= 15 && st.NumFmt <= 17:
		return kindDate, nil
	case st.NumFmt >= 18 && st.NumFmt <= 22 || st.NumFmt >= 45 && st.NumFmt <= 47:
		return kindDateTime, nil
	case st.CustomNumFmt != nil:
		f := strings.ToLower(*st.CustomNumFmt)
		hasDate, hasTime := strings.ContainsAny(f, "yd"), strings.Contains(f, "h") || strings.Contains(f, "s")
		switch {
		case hasDate && hasTime:
			return kindDateTime, nil
		case hasDate:
			return kindDate, nil
		}
	}
	return kindEmpty, nil
}
