package workbook

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/testwait"
)

// fakeClock is a Clock whose time moves only with Advance, which runs the
// functions whose timers are due.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	at      time.Time
	f       func()
	stopped bool
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		was := !t.stopped
		t.stopped = true
		return was
	}
}

// pending is how many timers wait to fire.
func (c *fakeClock) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, t := range c.timers {
		if !t.stopped {
			n++
		}
	}
	return n
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []*fakeTimer
	for _, t := range c.timers {
		if !t.stopped && !t.at.After(c.now) {
			t.stopped = true
			due = append(due, t)
		}
	}
	c.mu.Unlock()
	for _, t := range due {
		t.f()
	}
}

// events records the reasons of the events it is given.
type events struct {
	mu      sync.Mutex
	reasons []string
}

func (e *events) Record(_ context.Context, ev steward.Event) (steward.Event, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if ev.Type != steward.EventWorkbook || ev.Service == "" {
		panic("event of the wrong type or without a service")
	}
	e.reasons = append(e.reasons, ev.Reason)
	return ev, nil
}

func (e *events) has(prefix string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.ContainsFunc(e.reasons, func(r string) bool { return strings.HasPrefix(r, prefix) })
}

type fixture struct {
	k      *Kind
	dir    string
	clock  *fakeClock
	events *events
}

// start runs a workbook service "wb" over a new dir until the test ends.
func start(t *testing.T, spec Spec, l Limits) *fixture {
	t.Helper()
	testwait.NoLeak(t)
	f := &fixture{dir: t.TempDir(), clock: newFakeClock(), events: &events{}}
	spec.Dir = filepath.Join(f.dir, "books")
	spec.MaxSessions = max(spec.MaxSessions, 1)
	if spec.IdleTimeout == 0 {
		spec.IdleTimeout = 30 * time.Minute
	}
	f.k = New(Options{Events: f.events, Clock: f.clock, Limits: l})
	r, err := f.k.NewRunner(&config.Service{Name: "wb", Kind: Name, Spec: &spec})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan struct{}), make(chan error, 1)
	go func() { done <- r.Run(ctx, func() { close(ready) }) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("Run: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return f
}

func (f *fixture) create(t *testing.T, template string) string {
	t.Helper()
	s, err := f.k.Create(context.Background(), "wb", steward.WorkbookCreateRequest{Template: template})
	if err != nil {
		t.Fatalf("Create(%q): %v", template, err)
	}
	return s.ID
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := steward.ErrorCode(err); got != code {
		t.Errorf("%s: error %v (code %q), want code %q", what, err, got, code)
	}
}

// TestTypedValues: each JSON value becomes a cell of its type, and a read
// returns what the write took.
func TestTypedValues(t *testing.T) {
	f := start(t, Spec{}, Limits{})
	id := f.create(t, "")
	ctx := context.Background()
	in := [][]any{
		{1.5, "text", true, nil, "=A1*2", "2026-12-06", "2026-12-06T08:30:00+02:00", "'=not a formula", "'2026-12-06"},
		{-3.0, "", false, 1e300, "=SUM(A1:A2)", "1999-01-31", "2026-12-06T23:59:59Z", "=", "x"},
	}
	in[1][7] = "= 1" // a formula that is only a space
	w, err := f.k.Write(ctx, "wb", id, steward.WorkbookWriteRequest{Sheet: "Data", Cell: "B2", Data: in})
	if err != nil {
		t.Fatal(err)
	}
	if w.Range != "B2:J3" || w.Rows != 2 || w.Cells != 18 || w.Streamed {
		t.Errorf("Write = %+v, want B2:J3, 2 rows, 18 cells, not streamed", w)
	}
	got, err := f.k.Read(ctx, "wb", id, "Data", "B2:J3")
	if err != nil {
		t.Fatal(err)
	}
	want := [][]any{
		{1.5, "text", true, nil, "=A1*2", "2026-12-06", "2026-12-06T06:30:00Z", "'=not a formula", "'2026-12-06"},
		{-3.0, nil, false, 1e300, "=SUM(A1:A2)", "1999-01-31", "2026-12-06T23:59:59Z", "= 1", "x"},
	}
	if !reflect.DeepEqual(got.Data, want) {
		t.Errorf("Read =\n%#v\nwant\n%#v", got.Data, want)
	}
	if !f.events.has(EventCreated+": session "+id) || !f.events.has(EventProcessed+": session "+id+", 2 rows written to Data!B2:J3") {
		t.Errorf("events %q lack workbook_created and data_processed", f.events.reasons)
	}
}

// TestBadWrites: each bad write is refused with its code and writes nothing.
func TestBadWrites(t *testing.T) {
	f := start(t, Spec{}, Limits{MaxCells: 100})
	id := f.create(t, "")
	ctx := context.Background()
	for _, tt := range []struct {
		name string
		req  steward.WorkbookWriteRequest
		code string
	}{
		{"no sheet", steward.WorkbookWriteRequest{Data: [][]any{{1.0}}}, steward.EINVALID},
		{"bad cell", steward.WorkbookWriteRequest{Sheet: "S", Cell: "1A", Data: [][]any{{1.0}}}, steward.EINVALID},
		{"column past XFD", steward.WorkbookWriteRequest{Sheet: "S", Cell: "XFE1", Data: [][]any{{1.0}}}, steward.EINVALID},
		{"ragged", steward.WorkbookWriteRequest{Sheet: "S", Data: [][]any{{1.0, 2.0}, {3.0}}}, steward.EINVALID},
		{"empty", steward.WorkbookWriteRequest{Sheet: "S", Data: [][]any{}}, steward.EINVALID},
		{"an object", steward.WorkbookWriteRequest{Sheet: "S", Data: [][]any{{map[string]any{}}}}, steward.EINVALID},
		{"bad sheet name", steward.WorkbookWriteRequest{Sheet: "a[b]", Data: [][]any{{1.0}}}, steward.EINVALID},
		{"past the last column", steward.WorkbookWriteRequest{Sheet: "S", Cell: "XFD1", Data: [][]any{{1.0, 2.0}}}, steward.ETOOLARGE},
		{"past the last row", steward.WorkbookWriteRequest{Sheet: "S", Cell: "A1048576", Data: [][]any{{1.0}, {2.0}}}, steward.ETOOLARGE},
		{"more cells than the session holds", steward.WorkbookWriteRequest{Sheet: "S", Data: slices.Repeat([][]any{make([]any, 11)}, 10)}, steward.ETOOLARGE},
	} {
		_, err := f.k.Write(ctx, "wb", id, tt.req)
		wantCode(t, tt.name, err, tt.code)
	}
	list, err := f.k.Sessions("wb")
	if err != nil || len(list) != 1 || !slices.Equal(list[0].Sheets, []string{"Sheet1"}) || list[0].Cells != 0 {
		t.Errorf("after the bad writes: %+v, %v; want one session with Sheet1 only and no cells", list, err)
	}
	_, err = f.k.Write(ctx, "wb", "wb.nope", steward.WorkbookWriteRequest{Sheet: "S", Data: [][]any{{1.0}}})
	wantCode(t, "unknown session", err, steward.ENOTFOUND)
	_, err = f.k.Write(ctx, "other", id, steward.WorkbookWriteRequest{Sheet: "S", Data: [][]any{{1.0}}})
	wantCode(t, "unknown service", err, steward.ENOTFOUND)
	_, err = f.k.Read(ctx, "wb", id, "Nope", "A1")
	wantCode(t, "unknown sheet", err, steward.ENOTFOUND)
	_, err = f.k.Read(ctx, "wb", id, "Sheet1", "A1:ZZ100000")
	wantCode(t, "huge read", err, steward.ETOOLARGE)
}

// TestMaxSessions: a session past max_sessions is a conflict; closing one
// makes room.
func TestMaxSessions(t *testing.T) {
	f := start(t, Spec{MaxSessions: 2}, Limits{})
	a := f.create(t, "")
	f.create(t, "")
	_, err := f.k.Create(context.Background(), "wb", steward.WorkbookCreateRequest{})
	wantCode(t, "third session", err, steward.ECONFLICT)
	if err := f.k.Close(context.Background(), "wb", a); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "close again", f.k.Close(context.Background(), "wb", a), steward.ENOTFOUND)
	f.create(t, "")
	if !f.events.has(EventClosed + ": session " + a + " closed") {
		t.Errorf("events %q lack workbook_closed", f.events.reasons)
	}
}

// TestIdleExpiry: a session closes idle_timeout after its last use, on the
// injected clock, through one timer.
func TestIdleExpiry(t *testing.T) {
	f := start(t, Spec{IdleTimeout: 30 * time.Minute}, Limits{})
	id := f.create(t, "")
	f.clock.Advance(29 * time.Minute)
	if _, err := f.k.Read(context.Background(), "wb", id, "Sheet1", "A1"); err != nil {
		t.Fatalf("read at 29m: %v", err)
	}
	f.clock.Advance(29 * time.Minute) // 29m after its last use
	if list, _ := f.k.Sessions("wb"); len(list) != 1 {
		t.Fatalf("sessions 29m after the last use: %v, want one", list)
	}
	if n := f.clock.pending(); n != 1 {
		t.Errorf("%d timers pending, want 1", n)
	}
	f.clock.Advance(time.Minute)
	if list, _ := f.k.Sessions("wb"); len(list) != 0 {
		t.Fatalf("sessions 30m after the last use: %v, want none", list)
	}
	_, err := f.k.Read(context.Background(), "wb", id, "Sheet1", "A1")
	wantCode(t, "expired session", err, steward.ENOTFOUND)
	if !f.events.has(EventClosed + ": session " + id + " unsaved: idle for 30m0s") {
		t.Errorf("events %q lack the expiry", f.events.reasons)
	}
	if n := f.clock.pending(); n != 0 {
		t.Errorf("%d timers pending with no session, want 0", n)
	}
}

// TestStreamedWrite: a large write to a new sheet goes through the stream
// writer, and the sheet can be read and written afterwards.
func TestStreamedWrite(t *testing.T) {
	f := start(t, Spec{}, Limits{StreamRows: 100})
	id := f.create(t, "")
	ctx := context.Background()
	rows := make([][]any, 150)
	for i := range rows {
		rows[i] = []any{float64(i), "r", i%2 == 0, "2026-01-02", "=A1+1"}
	}
	w, err := f.k.Write(ctx, "wb", id, steward.WorkbookWriteRequest{Sheet: "Big", Data: rows})
	if err != nil || !w.Streamed || w.Range != "A1:E150" {
		t.Fatalf("Write = %+v, %v; want A1:E150 streamed", w, err)
	}
	got, err := f.k.Read(ctx, "wb", id, "Big", "A149:E150")
	want := [][]any{{148.0, "r", true, "2026-01-02", "=A1+1"}, {149.0, "r", false, "2026-01-02", "=A1+1"}}
	if err != nil || !reflect.DeepEqual(got.Data, want) {
		t.Errorf("Read = %v, %v; want %v", got.Data, err, want)
	}
	if _, err := f.k.Write(ctx, "wb", id, steward.WorkbookWriteRequest{Sheet: "Big", Cell: "F1", Data: [][]any{{"more"}}}); err != nil {
		t.Fatalf("a second write to the streamed sheet: %v", err)
	}
	saved, err := f.k.Save(ctx, "wb", id, steward.WorkbookSaveRequest{As: "big.xlsx"})
	if err != nil {
		t.Fatal(err)
	}
	wb, err := excelize.OpenFile(filepath.Join(f.dir, "books", saved.File))
	if err != nil {
		t.Fatal(err)
	}
	defer wb.Close()
	if v, _ := wb.GetCellValue("Big", "A150"); v != "149" {
		t.Errorf("saved Big!A150 = %q, want 149", v)
	}
	if v, _ := wb.GetCellValue("Big", "F1"); v != "more" {
		t.Errorf("saved Big!F1 = %q, want more", v)
	}
}

// TestConfinement: no path leads out of dir — not "..", not an absolute
// path elsewhere, not a symbolic link — and nothing is written outside.
func TestConfinement(t *testing.T) {
	f := start(t, Spec{}, Limits{})
	books := filepath.Join(f.dir, "books")
	outside := filepath.Join(f.dir, "outside")
	if err := os.Mkdir(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	blank := excelize.NewFile()
	if err := blank.SaveAs(filepath.Join(outside, "t.xlsx")); err != nil {
		t.Fatal(err)
	}
	if err := blank.SaveAs(filepath.Join(books, "in.xlsx")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(books, "link")); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	if err := os.Symlink(filepath.Join(outside, "t.xlsx"), filepath.Join(books, "t.xlsx")); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, name := range []string{"../outside/t.xlsx", filepath.Join(outside, "t.xlsx"), "link/t.xlsx", "t.xlsx", "a/../../outside/t.xlsx", "in.txt"} {
		_, err := f.k.Create(ctx, "wb", steward.WorkbookCreateRequest{Template: name})
		wantCode(t, "template "+name, err, steward.EINVALID)
	}
	id := f.create(t, filepath.Join(books, "in.xlsx")) // absolute, but inside
	for _, name := range []string{"../out.xlsx", filepath.Join(outside, "out.xlsx"), "link/out.xlsx", "t.xlsx"} {
		_, err := f.k.Save(ctx, "wb", id, steward.WorkbookSaveRequest{As: name})
		wantCode(t, "save as "+name, err, steward.EINVALID)
	}
	entries, _ := os.ReadDir(outside)
	if len(entries) != 1 {
		t.Errorf("outside holds %v, want t.xlsx only", entries)
	}
	if fi, err := os.Lstat(filepath.Join(books, "t.xlsx")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link t.xlsx was replaced: %v, %v", fi, err)
	}
}

// TestTemplates: a template is read; a corrupt one, one too large and a
// zip bomb are refused before anything is inflated.
func TestTemplates(t *testing.T) {
	f := start(t, Spec{}, Limits{MaxTemplate: 64 << 10, MaxUnzip: 1 << 20})
	books := filepath.Join(f.dir, "books")
	tpl := excelize.NewFile()
	tpl.SetCellValue("Sheet1", "A1", "from the template")
	if err := tpl.SaveAs(filepath.Join(books, "tpl.xlsx")); err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(books, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("corrupt.xlsx", []byte("not a zip"))
	write("big.xlsx", make([]byte, 65<<10))
	var bomb bytes.Buffer
	zw := zip.NewWriter(&bomb)
	w, _ := zw.Create("xl/worksheets/sheet1.xml")
	w.Write(make([]byte, 2<<20)) // zeros: 2 MiB in a few KB
	zw.Close()
	write("bomb.xlsx", bomb.Bytes())

	ctx := context.Background()
	id := f.create(t, "tpl.xlsx")
	got, err := f.k.Read(ctx, "wb", id, "Sheet1", "A1")
	if err != nil || !reflect.DeepEqual(got.Data, [][]any{{"from the template"}}) {
		t.Errorf("Read of the template = %v, %v", got.Data, err)
	}
	for name, code := range map[string]string{"corrupt.xlsx": steward.EINVALID, "big.xlsx": steward.ETOOLARGE,
		"bomb.xlsx": steward.ETOOLARGE, "missing.xlsx": steward.ENOTFOUND} {
		_, err := f.k.Create(ctx, "wb", steward.WorkbookCreateRequest{Template: name})
		wantCode(t, "template "+name, err, code)
	}
	// Save without a name writes the template's file.
	if _, err := f.k.Write(ctx, "wb", id, steward.WorkbookWriteRequest{Sheet: "Sheet1", Cell: "A2", Data: [][]any{{2.0}}}); err != nil {
		t.Fatal(err)
	}
	if s, err := f.k.Save(ctx, "wb", id, steward.WorkbookSaveRequest{}); err != nil || s.File != "tpl.xlsx" {
		t.Errorf("Save = %+v, %v; want tpl.xlsx", s, err)
	}
}

// TestAtomicSave: a save replaces the file whole and leaves no temporary
// file; a save that fails leaves the old file as it was; a blank session
// needs a name.
func TestAtomicSave(t *testing.T) {
	f := start(t, Spec{}, Limits{})
	books := filepath.Join(f.dir, "books")
	ctx := context.Background()
	id := f.create(t, "")
	_, err := f.k.Save(ctx, "wb", id, steward.WorkbookSaveRequest{})
	wantCode(t, "save of a blank session without a name", err, steward.EINVALID)
	for i, v := range []string{"first", "second"} {
		if _, err := f.k.Write(ctx, "wb", id, steward.WorkbookWriteRequest{Sheet: "S", Data: [][]any{{v}}}); err != nil {
			t.Fatal(err)
		}
		req := steward.WorkbookSaveRequest{As: "out.xlsx"}
		if i == 1 {
			req.As = "" // the file it was saved as
		}
		s, err := f.k.Save(ctx, "wb", id, req)
		if err != nil || s.File != "out.xlsx" || s.Bytes == 0 {
			t.Fatalf("Save = %+v, %v", s, err)
		}
		wb, err := excelize.OpenFile(filepath.Join(books, "out.xlsx"))
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := wb.GetCellValue("S", "A1"); got != v {
			t.Errorf("saved A1 = %q, want %q", got, v)
		}
		wb.Close()
	}
	_, err = f.k.Save(ctx, "wb", id, steward.WorkbookSaveRequest{As: "no/such/dir.xlsx"})
	wantCode(t, "save into a missing directory", err, steward.ENOTFOUND)
	entries, _ := os.ReadDir(books)
	if len(entries) != 1 || entries[0].Name() != "out.xlsx" {
		t.Errorf("dir holds %v, want out.xlsx only", entries)
	}
	if !f.events.has(EventSaved + ": session " + id + " to out.xlsx") {
		t.Errorf("events %q lack workbook_saved", f.events.reasons)
	}
}
