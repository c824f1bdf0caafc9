package workbook

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/bus"
	"github.com/stewardhq/steward/internal/config"
)

// natsConn starts an in-process NATS server for the test and connects to
// it.
func natsConn(t *testing.T) *nats.Conn {
	t.Helper()
	ns, err := server.NewServer(&server.Options{DontListen: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS server not ready")
	}
	nc, err := nats.Connect("", nats.InProcessServer(ns))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		nc.Close()
		ns.Shutdown()
		ns.WaitForShutdown()
	})
	return nc
}

// served is a workbook service "wb" whose commands are on the bus.
type served struct {
	*fixture
	nc *nats.Conn
}

func serve(t *testing.T) *served {
	t.Helper()
	f := start(t, Spec{MaxSessions: 4}, Limits{}) // its leak check runs after the server's shutdown
	nc := natsConn(t)
	t.Cleanup(f.k.ServeBus(nc, "web.01", api.ErrorStatus))
	return &served{f, nc}
}

// reply is an answer to a command: its envelope, its body, and the micro
// error code ("" for none).
type reply struct {
	env  bus.Message
	body []byte
	code string
}

// send sends cmd with data and the envelope headers (none when nil).
func (s *served) send(t *testing.T, cmd, data string, headers map[string]string) reply {
	t.Helper()
	m := nats.NewMsg("steward.web_01.workbook.wb." + cmd)
	m.Data = []byte(data)
	for k, v := range headers {
		m.Header.Set(k, v)
	}
	r, err := s.nc.RequestMsg(m, 10*time.Second)
	if err != nil {
		t.Fatalf("%s: %v", cmd, err)
	}
	env, err := bus.Parse(r)
	if err != nil {
		t.Fatalf("%s: the reply's envelope: %v", cmd, err)
	}
	if env.Type != bus.TypeResponse || env.ID == "" || env.Source != "steward.web_01" {
		t.Errorf("%s: reply envelope %+v, want a response from steward.web_01", cmd, env)
	}
	return reply{env: env, body: r.Data, code: r.Header.Get(micro.ErrorCodeHeader)}
}

// ok sends cmd and decodes its answer into out, failing on an error.
func (s *served) ok(t *testing.T, cmd, data string, out any) {
	t.Helper()
	r := s.send(t, cmd, data, nil)
	if r.code != "" {
		t.Fatalf("%s %s: error %s %s", cmd, data, r.code, r.body)
	}
	if err := json.Unmarshal(r.body, out); err != nil {
		t.Fatalf("%s: %v in %s", cmd, err, r.body)
	}
}

// TestBusCommands: each command over the bus does what its HTTP request
// does, its reply correlated to the request, its events naming the caller.
func TestBusCommands(t *testing.T) {
	s := serve(t)
	r := s.send(t, cmdCreate, "", map[string]string{bus.HeaderType: bus.TypeCommand, bus.HeaderID: "req-1", bus.HeaderSource: "app"})
	var ss steward.WorkbookSession
	if err := json.Unmarshal(r.body, &ss); err != nil || r.code != "" || !strings.HasPrefix(ss.ID, "wb.") {
		t.Fatalf("create_workbook: %s (code %q), %v", r.body, r.code, err)
	}
	if r.env.CorrelationID != "req-1" {
		t.Errorf("correlation id %q, want the request's id req-1", r.env.CorrelationID)
	}
	if !s.events.has(EventCreated + ": session " + ss.ID + ", blank, by bus:app") {
		t.Errorf("events %q lack workbook_created by bus:app", s.events.reasons)
	}
	id := `"session": "` + ss.ID + `"`
	var w steward.WorkbookWritten
	s.ok(t, cmdProcess, `{`+id+`, "sheet": "Orders", "cell": "B2", "data": [["id", "amount"], [1, 9.5], [2, "=B3*2"]]}`, &w)
	if w.Rows != 3 || w.Range != "B2:C4" || w.Sheet != "Orders" {
		t.Errorf("process_data: %+v", w)
	}
	if !s.events.has(EventProcessed + ": session " + ss.ID + ", 3 rows written to Orders!B2:C4, by bus") {
		t.Errorf("events %q lack data_processed by bus", s.events.reasons)
	}
	var rng steward.WorkbookRange
	s.ok(t, cmdRead, `{`+id+`, "sheet": "Orders", "range": "B3:C4"}`, &rng)
	if got, want := rng.Data, [][]any{{1.0, 9.5}, {2.0, "=B3*2"}}; !equal(got, want) {
		t.Errorf("read_range: %v, want %v", got, want)
	}
	var saved steward.WorkbookSaved
	s.ok(t, cmdSave, `{`+id+`, "as": "out.xlsx"}`, &saved)
	if saved.File != "out.xlsx" || saved.Bytes == 0 {
		t.Errorf("save_workbook: %+v", saved)
	}
	if _, err := os.Stat(filepath.Join(s.dir, "books", "out.xlsx")); err != nil {
		t.Error(err)
	}
	var list []steward.WorkbookSession
	s.ok(t, cmdList, "{}", &list)
	if len(list) != 1 || list[0].ID != ss.ID || list[0].File != "out.xlsx" {
		t.Errorf("list_sessions: %+v", list)
	}
	var closed steward.WorkbookSessionCommand
	s.ok(t, cmdClose, `{`+id+`}`, &closed)
	if closed.Session != ss.ID || !s.events.has(EventClosed+": session "+ss.ID+" closed, by bus") {
		t.Errorf("close_workbook: %+v; events %q", closed, s.events.reasons)
	}
	s.ok(t, cmdList, "", &list)
	if len(list) != 0 {
		t.Errorf("list_sessions after close: %+v", list)
	}
}

func equal(a, b [][]any) bool {
	return slices.EqualFunc(a, b, func(x, y []any) bool { return slices.Equal(x, y) })
}

// TestBusErrors: every bad command is a micro error reply with the code
// and message the API would answer with, and writes nothing.
func TestBusErrors(t *testing.T) {
	s := serve(t)
	var ss steward.WorkbookSession
	s.ok(t, cmdCreate, `{}`, &ss)
	id := `"session": "` + ss.ID + `"`
	for _, tt := range []struct {
		cmd, data string
		headers   map[string]string
		code      string
		message   string
	}{
		{cmdProcess, `{"session": "wb.00", "sheet": "S", "data": [[1]]}`, nil, "404", `no session "wb.00"`},
		{cmdProcess, `{"sheet": "S", "data": [[1]]}`, nil, "400", "process_data needs session"},
		{cmdProcess, `{` + id + `, "sheet": "S", "data": [[1, 2], [3]]}`, nil, "400", "rows must be the same length"},
		{cmdProcess, `{` + id + `, "sheet": "S", "cell": "A0", "data": [[1]]}`, nil, "400", "A0"},
		{cmdProcess, `{` + id + `, "sheet": "S", "data": [[{"a": 1}]]}`, nil, "400", "row 1, value 1"},
		{cmdProcess, `{` + id + `, "sheet": "S", "data": [[1]], "extra": 1}`, nil, "400", `unknown field "extra"`},
		{cmdProcess, `[1]`, nil, "400", "malformed JSON body"},
		{cmdSave, `{` + id + `, "as": "../out.xlsx"}`, nil, "400", "out.xlsx"},
		{cmdSave, `{` + id + `}`, nil, "400", "has no file yet"},
		{cmdClose, `{"session": "other.1"}`, nil, "404", "no session"},
		{cmdRead, `{` + id + `, "sheet": "S"}`, nil, "400", "read_range needs sheet and range"},
		{cmdRead, `{` + id + `, "sheet": "Nope", "range": "A1:B2"}`, nil, "404", "Nope"},
		{cmdList, `{"x": 1}`, nil, "400", "malformed JSON body"},
		{cmdCreate, `{"template": "missing.xlsx"}`, nil, "404", "missing.xlsx"},
		{cmdCreate, `{"template": 1}`, nil, "400", "template has the wrong type"},
		{cmdCreate, `{}`, map[string]string{bus.HeaderType: bus.TypeEvent}, "400", "a message of type event, want a command"},
		{cmdCreate, `{}`, map[string]string{bus.HeaderID: "has space"}, "400", "Nats-Msg-Id"},
	} {
		r := s.send(t, tt.cmd, tt.data, tt.headers)
		var body steward.ErrorResponse
		if err := json.Unmarshal(r.body, &body); err != nil || r.code != tt.code || !strings.Contains(body.Error.Message, tt.message) {
			t.Errorf("%s %s: code %q, body %s (%v), want code %s and %q", tt.cmd, tt.data, r.code, r.body, err, tt.code, tt.message)
		}
	}
	if entries, err := os.ReadDir(filepath.Join(s.dir, "books")); err != nil || len(entries) != 0 {
		t.Errorf("the dir after bad commands: %v, %v", entries, err)
	}
	if _, err := os.Stat(filepath.Join(s.dir, "out.xlsx")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a save outside dir: %v", err)
	}
}

// TestBusAnnounced: each running service is a micro service with its
// node and name, an endpoint per command in one queue group; it stops
// with the service and with the bus, and comes back when served again.
func TestBusAnnounced(t *testing.T) {
	s := serve(t)
	info := func() []micro.Info {
		t.Helper()
		inbox := nats.NewInbox()
		sub, err := s.nc.SubscribeSync(inbox)
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Unsubscribe()
		if err := s.nc.PublishRequest("$SRV.INFO."+microName, inbox, nil); err != nil {
			t.Fatal(err)
		}
		var out []micro.Info
		for {
			m, err := sub.NextMsg(500 * time.Millisecond)
			if err != nil {
				return out
			}
			var i micro.Info
			if err := json.Unmarshal(m.Data, &i); err != nil {
				t.Fatal(err)
			}
			out = append(out, i)
		}
	}
	got := info()
	if len(got) != 1 || got[0].Metadata["node"] != "web.01" || got[0].Metadata["service"] != "wb" || len(got[0].Endpoints) != len(commands) {
		t.Fatalf("$SRV.INFO: %+v", got)
	}
	for i, e := range got[0].Endpoints {
		if want := "steward.web_01.workbook.wb." + commands[i]; e.Subject != want || e.QueueGroup != microName {
			t.Errorf("endpoint %d: %s in %s, want %s in %s", i, e.Subject, e.QueueGroup, want, microName)
		}
	}

	// A second service, started while the bus serves, is announced too;
	// it stops being so when it stops.
	r, err := s.k.NewRunner(&config.Service{Name: "more", Kind: Name, Spec: &Spec{Dir: filepath.Join(s.dir, "more"), MaxSessions: 1, IdleTimeout: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan struct{}), make(chan error, 1)
	go func() { done <- r.Run(ctx, func() { close(ready) }) }()
	<-ready
	if got := info(); len(got) != 2 {
		t.Errorf("with two services, %d announced", len(got))
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := s.nc.Request("steward.web_01.workbook.more.list_sessions", nil, 5*time.Second); !errors.Is(err, nats.ErrNoResponders) {
		t.Errorf("a stopped service's command: %v, want no responders", err)
	}

	// The bus stops: nothing answers; served again, all is back.
	stop := s.k.ServeBus(s.nc, "web.01", api.ErrorStatus)
	if got := info(); len(got) != 1 {
		t.Errorf("served again: %d announced, want 1", len(got))
	}
	stop()
	stop() // twice is harmless
	if _, err := s.nc.Request("steward.web_01.workbook.wb.list_sessions", nil, 5*time.Second); !errors.Is(err, nats.ErrNoResponders) {
		t.Errorf("after the bus stopped: %v, want no responders", err)
	}
}

// TestBusNotAnnounced: a connection that is closed, or a name that makes
// no subject, announces nothing, and says so in the log, not in a panic.
func TestBusNotAnnounced(t *testing.T) {
	k := New(Options{})
	bad := &service{k: k, name: "no subject"}
	k.bus = &busConn{nc: natsConn(t), node: "n", status: api.ErrorStatus}
	k.announceLocked(bad)
	if bad.micro != nil {
		t.Error("announced on an invalid subject")
	}

	f := start(t, Spec{}, Limits{})
	nc := natsConn(t)
	nc.Close()
	stop := f.k.ServeBus(nc, "n", api.ErrorStatus)
	defer stop()
	f.k.mu.Lock()
	defer f.k.mu.Unlock()
	if s := f.k.services["wb"]; s.micro != nil {
		t.Error("announced on a closed connection")
	}
}
