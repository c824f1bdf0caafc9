package fleet

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/testwait"
)

// natsURL starts a NATS server for t and returns its URL.
func natsURL(t *testing.T) string {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server not ready")
	}
	t.Cleanup(s.Shutdown)
	return s.ClientURL()
}

func connect(t *testing.T, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// clock is a clock the test moves.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// services is the supervisor of a test node.
type services struct {
	mu   sync.Mutex
	list []steward.ServiceStatus
}

func (s *services) List() []steward.ServiceStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]steward.ServiceStatus(nil), s.list...)
}

func (s *services) set(list ...steward.ServiceStatus) {
	s.mu.Lock()
	s.list = list
	s.mu.Unlock()
}

// events lets a test make a node heartbeat now.
type events struct{ ch chan steward.Event }

func (e *events) Subscribe() (<-chan steward.Event, func()) { return e.ch, func() {} }

type principalKey struct{}

func withPrincipal(ctx context.Context, p steward.Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

func writeError(w http.ResponseWriter, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	if steward.ErrorCode(err) == steward.EUNAUTHORIZED {
		w.WriteHeader(http.StatusUnauthorized)
	}
	json.NewEncoder(w).Encode(steward.ErrorResponse{Error: steward.ErrorBody{Code: steward.ErrorCode(err), Message: err.Error()}})
}

// handler is the API of a test node: GET /who answers the principal,
// GET /big a body of n bytes, GET /fail a 404 error, GET /text no JSON.
func handler(node string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /who", func(w http.ResponseWriter, r *http.Request) {
		p, _ := r.Context().Value(principalKey{}).(steward.Principal)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"node": node, "principal": p, "query": r.URL.RawQuery, "remote": r.RemoteAddr})
	})
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		var b bytes.Buffer
		b.ReadFrom(r.Body)
		w.WriteHeader(http.StatusCreated)
		w.Write(b.Bytes())
	})
	mux.HandleFunc("GET /fail", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, steward.Errorf(steward.ENOTFOUND, "nothing here"))
	})
	mux.HandleFunc("GET /text", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("not json")) })
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	return mux
}

type node struct {
	*Fleet
	svcs *services
	evs  *events
	cfg  *config.Config
	logs *bytes.Buffer
}

// startNode starts the fleet of node name over a connection to url.
func startNode(t *testing.T, url, name string, clk *clock, heartbeat time.Duration) *node {
	t.Helper()
	n := &node{svcs: &services{}, evs: &events{ch: make(chan steward.Event, 16)}, logs: &bytes.Buffer{},
		cfg: &config.Config{Node: name, Services: map[string]*config.Service{}}}
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(lockedWriter{&mu, n.logs}, nil))
	f, err := Start(context.Background(), Options{
		Node: name, Version: "test", Address: name + ".example", Conn: connect(t, url),
		Services: n.svcs, Events: n.evs, Config: func() *config.Config { return n.cfg },
		Handler: handler(name), Caller: withPrincipal, WriteError: writeError,
		Heartbeat: heartbeat, TTL: time.Second, Logger: log, Now: clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	n.Fleet = f
	return n
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// beat makes n heartbeat now.
func (n *node) beat() { n.evs.ch <- steward.Event{} }

func states(f *Fleet) string {
	var out []string
	for _, n := range f.Nodes() {
		out = append(out, n.Name+"="+n.State)
	}
	return strings.Join(out, " ")
}

func waitStates(t *testing.T, f *Fleet, want string) {
	t.Helper()
	testwait.NoError(t, 10*time.Second, func() error {
		if got := states(f); got != want {
			return fmt.Errorf("nodes %s, want %s", got, want)
		}
		return nil
	})
}

// TestPresence: a node is up from its first heartbeat until the TTL has
// passed without one, up again with the next, and down at once when it
// leaves; Nodes lists this node first among them, by name.
func TestPresence(t *testing.T) {
	url := natsURL(t)
	clk := newClock()
	a := startNode(t, url, "a", clk, time.Hour)
	b := startNode(t, url, "b", clk, time.Hour) // heartbeats only when told
	b.beat()
	waitStates(t, a.Fleet, "a=up b=up")
	clk.add(time.Second) // the TTL: still up
	if got := states(a.Fleet); got != "a=up b=up" {
		t.Errorf("at the TTL: %s", got)
	}
	clk.add(time.Millisecond)
	if got := states(a.Fleet); got != "a=up b=down" {
		t.Errorf("after the TTL: %s", got)
	}
	list := a.Nodes()
	if !list[0].Self || list[1].Self || list[1].Version != "test" || list[1].Address != "b.example" || !list[1].LastSeen.Equal(clk.Now().Add(-time.Second-time.Millisecond)) {
		t.Errorf("nodes: %+v", list)
	}
	b.beat()
	waitStates(t, a.Fleet, "a=up b=up")
	b.Close()
	b.Close() // twice is once
	waitStates(t, a.Fleet, "a=up b=down")
}

// TestPresenceIgnores: a heartbeat that is not JSON, names no node or
// another node than its subject's is ignored; one of this node's name
// from another run is logged as an error.
func TestPresenceIgnores(t *testing.T) {
	url := natsURL(t)
	clk := newClock()
	a := startNode(t, url, "a", clk, time.Hour)
	nc := connect(t, url)
	nc.Publish(presenceSubject("x"), []byte("not json"))
	nc.Publish(presenceSubject("x"), []byte(`{"name": ""}`))
	nc.Publish(presenceSubject("x"), []byte(`{"name": "y"}`))
	nc.Publish(presenceSubject("a"), []byte(`{"name": "a", "boot": "other"}`))
	nc.Publish(presenceSubject("z"), []byte(`{"name": "z"}`))
	waitStates(t, a.Fleet, "a=up z=up")
	testwait.For(t, 10*time.Second, "the duplicate name logged", func() bool {
		return strings.Contains(a.logs.String(), "another node of the fleet has this node's name")
	})
}

// TestRegistry: a running service with registry: is an instance of its
// node, healthy as its health check says, listed on the other nodes while
// its node is up; a filter selects by name, tag and node.
func TestRegistry(t *testing.T) {
	url := natsURL(t)
	clk := newClock()
	a := startNode(t, url, "a", clk, time.Hour)
	b := startNode(t, url, "b", clk, time.Hour)
	b.cfg.Services = map[string]*config.Service{
		"web":   {Registry: &config.ServiceRegistry{Name: "shop", Port: 80, Tags: []string{"v1"}}},
		"api":   {Registry: &config.ServiceRegistry{Name: "shop", Port: 81, Address: "10.0.0.9"}, Health: &config.Health{}},
		"db":    {Registry: &config.ServiceRegistry{Name: "db", Port: 5432}},
		"plain": {},
	}
	b.svcs.set(
		steward.ServiceStatus{Name: "web", State: steward.StateRunning},
		steward.ServiceStatus{Name: "api", State: steward.StateRunning, Health: steward.HealthUnknown},
		steward.ServiceStatus{Name: "db", State: steward.StateStopped},
		steward.ServiceStatus{Name: "plain", State: steward.StateRunning},
	)
	b.beat()
	var got []steward.Instance
	testwait.NoError(t, 10*time.Second, func() error {
		got = a.Instances(Filter{Name: "shop"})
		if len(got) != 2 {
			return fmt.Errorf("instances %+v", got)
		}
		return nil
	})
	if got[0].ID != "api" || got[0].Address != "10.0.0.9" || got[0].Healthy || got[0].Tags == nil ||
		got[1].ID != "web" || got[1].Address != "b.example" || !got[1].Healthy || got[1].Node != "b" || got[1].Tags[0] != "v1" {
		t.Errorf("instances: %+v", got)
	}
	if l := a.Instances(Filter{Tag: "v1"}); len(l) != 1 || l[0].ID != "web" {
		t.Errorf("tag v1: %+v", l)
	}
	if l := a.Instances(Filter{Node: "a"}); len(l) != 0 {
		t.Errorf("node a: %+v", l)
	}
	since := got[0].Since
	clk.add(100 * time.Millisecond)
	b.svcs.set(steward.ServiceStatus{Name: "api", State: steward.StateRunning, Health: steward.HealthHealthy})
	if l := b.Instances(Filter{}); len(l) != 1 || !l[0].Healthy || !l[0].Since.After(since) {
		t.Errorf("on b after api is healthy and web stopped: %+v", l)
	}
	clk.add(2 * time.Second) // b is down: its instances are not listed
	if l := a.Instances(Filter{}); len(l) != 0 {
		t.Errorf("instances of a node that is down: %+v", l)
	}
}

// TestUntilBeat: heartbeats fall on the multiples of the period on the
// wall clock, whenever a node started.
func TestUntilBeat(t *testing.T) {
	at := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct{ now, want time.Duration }{
		{300 * time.Millisecond, 200 * time.Millisecond},
		{0, 500 * time.Millisecond},
		{499 * time.Millisecond, time.Millisecond},
		{1700 * time.Millisecond, 300 * time.Millisecond},
	} {
		if got := untilBeat(at.Add(c.now), 500*time.Millisecond); got != c.want {
			t.Errorf("untilBeat(+%v) = %v, want %v", c.now, got, c.want)
		}
	}
}
