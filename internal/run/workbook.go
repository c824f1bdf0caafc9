package run

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/proc"
)

// Workbooks are the sessions of the workbook services, as a workbook job
// uses them (the workbook kind).
type Workbooks interface {
	Create(ctx context.Context, service string, req steward.WorkbookCreateRequest) (steward.WorkbookSession, error)
	Write(ctx context.Context, service, id string, req steward.WorkbookWriteRequest) (steward.WorkbookWritten, error)
	Save(ctx context.Context, service, id string, req steward.WorkbookSaveRequest) (steward.WorkbookSaved, error)
	Close(ctx context.Context, service, id string) error
}

// workbook performs j's workbook action for r: a session, each write's
// command run and its rows written, the save, the close (also after a
// failure). Its output says what was written and saved.
func (e *Engine) workbook(ctx context.Context, j *config.Job, r steward.Run) Outcome {
	wb := j.Workbook
	if e.o.Workbooks == nil {
		return Outcome{Err: fmt.Errorf("workbook: no workbook service runs")}
	}
	saveAs, err := e.fill(wb.SaveAs, map[string]any{"job": j.Name, "run": map[string]any{"id": r.ID, "attempt": r.Attempt}})
	if err != nil {
		return Outcome{Err: err}
	}
	s, err := e.o.Workbooks.Create(ctx, wb.Service, steward.WorkbookCreateRequest{Template: wb.Template})
	if err != nil {
		return Outcome{Err: fmt.Errorf("workbook %s: %w", wb.Service, err)}
	}
	defer e.o.Workbooks.Close(context.WithoutCancel(ctx), wb.Service, s.ID)
	var out strings.Builder
	for _, w := range wb.Writes {
		res, err := proc.Run(ctx, proc.Command{Path: w.Command[0], Args: w.Command, MaxOutput: maxWorkbookData, Tag: e.o.Tag})
		if err == nil {
			err = res.Failed()
		}
		if err == nil && res.Truncated {
			err = fmt.Errorf("it printed more than %d bytes", maxWorkbookData)
		}
		if err != nil {
			return Outcome{Output: []byte(out.String()), Err: fmt.Errorf("workbook write to %s: %s: %w", w.Sheet, w.Command[0], err)}
		}
		var rows [][]any
		if err := json.Unmarshal(res.Output, &rows); err != nil {
			return Outcome{Output: []byte(out.String()), Err: fmt.Errorf("workbook write to %s: %s did not print a JSON array of rows: %w", w.Sheet, w.Command[0], err)}
		}
		done, err := e.o.Workbooks.Write(ctx, wb.Service, s.ID, steward.WorkbookWriteRequest{Sheet: w.Sheet, Cell: w.Cell, Data: rows})
		if err != nil {
			return Outcome{Output: []byte(out.String()), Err: fmt.Errorf("workbook write to %s: %w", w.Sheet, err)}
		}
		fmt.Fprintf(&out, "wrote %d rows to %s!%s\n", done.Rows, done.Sheet, done.Range)
	}
	saved, err := e.o.Workbooks.Save(ctx, wb.Service, s.ID, steward.WorkbookSaveRequest{As: saveAs})
	if err != nil {
		return Outcome{Output: []byte(out.String()), Err: fmt.Errorf("workbook save as %s: %w", saveAs, err)}
	}
	fmt.Fprintf(&out, "saved %s (%d bytes)\n", saved.File, saved.Bytes)
	return Outcome{Output: []byte(out.String())}
}

// maxWorkbookData bounds what a write's command may print.
const maxWorkbookData = 64 << 20
