package api_test

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/api/apitest"
	"github.com/stewardhq/steward/internal/client"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/kinds/workbook"
)

// TestWorkbookRoutes drives a real workbook service through the routes:
// each call's status and body, bad input as JSON errors.
func TestWorkbookRoutes(t *testing.T) {
	k := workbook.New(workbook.Options{})
	r, err := k.NewRunner(&config.Service{Name: "excel", Kind: workbook.Name,
		Spec: &workbook.Spec{Dir: filepath.Join(t.TempDir(), "books"), MaxSessions: 4, IdleTimeout: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan struct{}), make(chan error, 1)
	go func() { done <- r.Run(ctx, func() { close(ready) }) }()
	<-ready
	t.Cleanup(func() { cancel(); <-done })

	f := newFixture(t)
	srv := api.New(api.Options{Services: f.services, Events: f.events, Configs: f.configs, Workbooks: k})
	c := client.New(apitest.Serve(t, srv.Handler()))
	t.Cleanup(c.Close)

	s, err := c.CreateWorkbookSession(ctx, "excel", "")
	if err != nil || !strings.HasPrefix(s.ID, "excel.") {
		t.Fatalf("create = %+v, %v", s, err)
	}
	w, err := c.WriteWorkbook(ctx, "excel", s.ID, steward.WorkbookWriteRequest{Sheet: "S", Data: [][]any{{1, "a"}, {true, nil}}})
	if err != nil || w.Range != "A1:B2" {
		t.Fatalf("write = %+v, %v", w, err)
	}
	got, err := c.ReadWorkbook(ctx, "excel", s.ID, "S", "A1:B2")
	if want := [][]any{{1.0, "a"}, {true, nil}}; err != nil || !reflect.DeepEqual(got.Data, want) {
		t.Errorf("read = %v, %v; want %v", got.Data, err, want)
	}
	for _, tt := range []struct {
		what   string
		err    error
		status int
	}{
		{"bad cell", func() error {
			_, err := c.WriteWorkbook(ctx, "excel", s.ID, steward.WorkbookWriteRequest{Sheet: "S", Cell: "A0", Data: [][]any{{1}}})
			return err
		}(), 400},
		{"save outside dir", func() error { _, err := c.SaveWorkbook(ctx, "excel", s.ID, "../x.xlsx"); return err }(), 400},
		{"unknown service", func() error { _, err := c.WorkbookSessions(ctx, "nope"); return err }(), 404},
		{"read without a range", func() error { _, err := c.ReadWorkbook(ctx, "excel", s.ID, "S", ""); return err }(), 400},
	} {
		code, _ := api.ErrorResponse(tt.err)
		if tt.err == nil || code != tt.status {
			t.Errorf("%s: %v, want a %d", tt.what, tt.err, tt.status)
		}
	}
	if status, _, body := f.do(t, "GET", "/v1/workbooks/excel/sessions", nil); status != 404 || !strings.Contains(string(body), "no workbook service") {
		t.Errorf("a server without Workbooks: %d %s, want a 404", status, body)
	}
	if err := c.CloseWorkbookSession(ctx, "excel", s.ID); err != nil {
		t.Fatal(err)
	}
	if list, err := c.WorkbookSessions(ctx, "excel"); err != nil || len(list) != 0 {
		t.Errorf("sessions after close = %v, %v", list, err)
	}
}
