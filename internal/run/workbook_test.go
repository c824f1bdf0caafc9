package run

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/store"
)

// fakeWorkbooks records what a workbook job does; failWrite and failSave
// make those fail.
type fakeWorkbooks struct {
	mu                  sync.Mutex
	calls               []string
	failWrite, failSave bool
}

func (f *fakeWorkbooks) log(s string) {
	f.mu.Lock()
	f.calls = append(f.calls, s)
	f.mu.Unlock()
}

func (f *fakeWorkbooks) Create(_ context.Context, service string, req steward.WorkbookCreateRequest) (steward.WorkbookSession, error) {
	f.log("create " + service + " " + req.Template)
	return steward.WorkbookSession{ID: service + ".1"}, nil
}

func (f *fakeWorkbooks) Write(_ context.Context, _, id string, req steward.WorkbookWriteRequest) (steward.WorkbookWritten, error) {
	if f.failWrite {
		return steward.WorkbookWritten{}, errors.New("ragged rows")
	}
	f.log("write " + req.Sheet + " " + req.Cell)
	return steward.WorkbookWritten{Sheet: req.Sheet, Range: "A1:B2", Rows: len(req.Data)}, nil
}

func (f *fakeWorkbooks) Save(_ context.Context, _, _ string, req steward.WorkbookSaveRequest) (steward.WorkbookSaved, error) {
	if f.failSave {
		return steward.WorkbookSaved{}, errors.New("disk full")
	}
	f.log("save " + req.As)
	return steward.WorkbookSaved{File: req.As, Bytes: 10}, nil
}

func (f *fakeWorkbooks) Close(_ context.Context, _, id string) error {
	f.log("close " + id)
	return nil
}

// TestWorkbookAction: the session is made, written and saved under the
// filled name, and closed; each failure fails the run and still closes
// the session; without workbook services the run fails.
func TestWorkbookAction(t *testing.T) {
	ctx := context.Background()
	const cfgText = `services:
  books: {kind: workbook}
jobs:
  j:
    workbook:
      service: books
      template: t.xlsx
      writes: [{sheet: S, cell: B2, command: [sh, -c, "echo '[[1, 2], [3, 4]]'"]}]
      save_as: "{{.job}}-{{.run.id}}.xlsx"
  nojson:
    workbook: {service: books, writes: [{sheet: S, command: [echo, nope]}], save_as: x.xlsx}
  exits:
    workbook: {service: books, writes: [{sheet: S, command: [sh, -c, "exit 3"]}], save_as: x.xlsx}
`
	reg := config.Registry{Kinds: map[string]config.KindSchema{"workbook": {}}}
	cfg, err := config.Parse("", []byte(cfgText), reg)
	if err != nil {
		t.Fatal(err)
	}
	run := func(wb *fakeWorkbooks, job string) steward.Run {
		t.Helper()
		st, err := store.Open(ctx, filepath.Join(t.TempDir(), "steward.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		o := Options{Store: st}
		if wb != nil {
			o.Workbooks = wb
		}
		e := New(o)
		t.Cleanup(e.Close)
		if err := e.Apply(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		r, err := e.Trigger(ctx, job)
		if err != nil {
			t.Fatal(err)
		}
		if r, err = e.Wait(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
		return r
	}
	wb := &fakeWorkbooks{}
	if r := run(wb, "j"); r.Status != steward.RunSucceeded || strings.Join(wb.calls, "; ") != "create books t.xlsx; write S B2; save j-1.xlsx; close books.1" {
		t.Errorf("run %s %q; calls %q", r.Status, r.Error, wb.calls)
	}
	for _, tc := range []struct {
		job, want string
		wb        *fakeWorkbooks
	}{
		{"j", "no workbook service runs", nil},
		{"nojson", "did not print a JSON array of rows", &fakeWorkbooks{}},
		{"exits", "exit status 3", &fakeWorkbooks{}},
		{"j", "ragged rows", &fakeWorkbooks{failWrite: true}},
		{"j", "disk full", &fakeWorkbooks{failSave: true}},
	} {
		r := run(tc.wb, tc.job)
		if r.Status != steward.RunFailed || !strings.Contains(r.Error, tc.want) {
			t.Errorf("%s: %s %q, want failed with %q", tc.job, r.Status, r.Error, tc.want)
		}
		if tc.wb != nil && (len(tc.wb.calls) == 0 || !strings.HasPrefix(tc.wb.calls[len(tc.wb.calls)-1], "close ")) {
			t.Errorf("%s (%s): calls %q, want the session closed last", tc.job, tc.want, tc.wb.calls)
		}
	}
}
