// Package fleet makes the nodes on one bus a fleet: each node heartbeats
// its presence and its registry instances, keeps the view of the others
// it receives, answers the HTTP API requests other nodes send it over
// request/reply on steward.NODE.api, and sends them its own. It works over
// any NATS connection the bus gives it: an embedded server's, clustered or
// joined to a hub as a leaf node, or a connection to another deployment.
// The daemon wiring imports it; the API reaches it through an interface of
// its own.
package fleet

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
)

// Defaults of the presence.
const (
	// DefaultHeartbeat is how often a node tells the fleet it is up.
	DefaultHeartbeat = 500 * time.Millisecond
	// DefaultTTL is how long a node counts as up after its last heartbeat,
	// and the TTL of its entry in the nodes bucket.
	DefaultTTL = 1500 * time.Millisecond
)

// Services is the supervisor as the fleet reads it.
type Services interface {
	List() []steward.ServiceStatus
}

// Events tells the fleet when a service changed, so that the registry
// follows at once rather than at the next heartbeat.
type Events interface {
	Subscribe() (<-chan steward.Event, func())
}

// Options configure a Fleet.
type Options struct {
	Node    string
	Version string
	// Address is where the node's instances are reached unless their
	// registry: sets address, and what nodes shows of it.
	Address  string
	Started  time.Time
	Conn     *nats.Conn
	Services Services
	Events   Events
	// Config returns the configuration in force: its services' registry
	// sections and health checks.
	Config func() *config.Config
	// Handler answers the API requests of other nodes; Caller marks a
	// request's context with its principal (via "node:FROM"), which the
	// handler authorizes, and WriteError writes an error as the API does.
	Handler    http.Handler
	Caller     func(ctx context.Context, p steward.Principal) context.Context
	WriteError func(w http.ResponseWriter, err error)
	Heartbeat  time.Duration // DefaultHeartbeat when 0
	// StreamKeepalive is how often the two sides of a forwarded stream
	// tell each other they are there; DefaultStreamKeepalive when 0.
	StreamKeepalive time.Duration
	TTL             time.Duration // DefaultTTL when 0
	Logger          *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Fleet is this node's part of the fleet. Its methods are safe for
// concurrent use.
type Fleet struct {
	opts Options
	log  *slog.Logger
	boot string // tells this run of the node from another of the same name
	nc   *nats.Conn
	subs []*nats.Subscription
	api  *responder
	reg  *registry
	regs *registrations
	kick chan struct{} // a heartbeat now

	mu     sync.Mutex
	nodes  map[string]*peer // the others, by name
	bySubj map[string]*peer // the same, by presence subject
	own    []byte           // the last entry sent
	dupAt  time.Time        // when another node of this name was last reported
	closed bool

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// entry is what a node heartbeats: the nodes bucket's value, and the
// message on steward.NODE.presence.
type entry struct {
	Name      string             `json:"name"`
	Version   string             `json:"version"`
	Address   string             `json:"address,omitempty"`
	Services  int                `json:"services"`
	Started   time.Time          `json:"started"`
	Boot      string             `json:"boot"`
	Leaving   bool               `json:"leaving,omitempty"`
	Instances []steward.Instance `json:"instances,omitempty"`
}

// peer is another node as last heard of.
type peer struct {
	raw      []byte
	entry    entry
	lastSeen time.Time
}

// Start joins the fleet: it subscribes to the others' heartbeats and to
// the API requests for this node, and heartbeats until Close.
func Start(ctx context.Context, o Options) (*Fleet, error) {
	o.Heartbeat = cmp.Or(o.Heartbeat, DefaultHeartbeat)
	o.TTL = cmp.Or(o.TTL, DefaultTTL)
	o.StreamKeepalive = cmp.Or(o.StreamKeepalive, DefaultStreamKeepalive)
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Started.IsZero() {
		o.Started = o.Now()
	}
	f := &Fleet{opts: o, log: cmp.Or(o.Logger, slog.New(slog.DiscardHandler)), nc: o.Conn,
		nodes: map[string]*peer{}, bySubj: map[string]*peer{}, boot: newID()}
	f.reg, f.regs, f.kick = newRegistry(o.Node), newRegistrations(), make(chan struct{}, 1)
	f.api = newResponder(f)
	sub, err := f.nc.Subscribe("steward.*.presence", f.receive)
	if err != nil {
		return nil, fmt.Errorf("join the fleet: %w", err)
	}
	f.subs = append(f.subs, sub)
	if sub, err = f.nc.Subscribe(apiSubject(o.Node), f.api.serve); err != nil {
		f.unsubscribe()
		return nil, fmt.Errorf("join the fleet: %w", err)
	}
	f.subs = append(f.subs, sub)
	if err := f.nc.Flush(); err != nil { // the server has the subscriptions
		f.unsubscribe()
		return nil, fmt.Errorf("join the fleet: %w", err)
	}
	ctx, f.cancel = context.WithCancel(context.WithoutCancel(ctx))
	f.wg.Add(1)
	go f.run(ctx)
	return f, nil
}

func (f *Fleet) unsubscribe() {
	for _, s := range f.subs {
		s.Unsubscribe()
	}
}

// Close leaves the fleet: the others see this node down at once, its
// instances leave the registry, and the API requests under way end.
func (f *Fleet) Close() {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return
	}
	f.closed = true
	f.mu.Unlock()
	f.cancel()
	f.wg.Wait()
	f.unsubscribe()
	f.api.close()
}

// apiSubject is the subject node answers API requests on.
func apiSubject(node string) string { return "steward." + token(node) + ".api" }

func presenceSubject(node string) string { return "steward." + token(node) + ".presence" }

// token is s as one subject token, as the bus writes node names.
func token(s string) string { return strings.ReplaceAll(s, ".", "_") }

func newID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// run heartbeats until ctx ends, then says the node leaves.
func (f *Fleet) run(ctx context.Context) {
	defer f.wg.Done()
	var evs <-chan steward.Event
	if f.opts.Events != nil {
		var unsub func()
		evs, unsub = f.opts.Events.Subscribe()
		defer unsub()
	}
	t := time.NewTimer(untilBeat(time.Now(), f.opts.Heartbeat))
	defer t.Stop()
	f.heartbeat(false)
	for {
		select {
		case <-ctx.Done():
			f.heartbeat(true)
			return
		case now := <-t.C:
			t.Reset(untilBeat(now, f.opts.Heartbeat))
		case <-f.kick:
		case _, ok := <-evs:
			if !ok {
				evs = nil
			}
		}
		f.heartbeat(false)
	}
}

// untilBeat is how long after now the next heartbeat is due: at the next
// multiple of every on the wall clock. Every node beats at the same
// instants, so a node receives the others' heartbeats in bursts that one
// read and one wake-up of its subscription take, instead of one wake-up
// each, spread over the period (bench/fleet: most of a node's idle CPU in
// a fleet of 100 was those wake-ups).
func untilBeat(now time.Time, every time.Duration) time.Duration {
	return now.Truncate(every).Add(every).Sub(now)
}

// heartbeat publishes this node's entry.
func (f *Fleet) heartbeat(leaving bool) {
	now := f.opts.Now()
	list := f.opts.Services.List()
	e := entry{Name: f.opts.Node, Version: f.opts.Version, Address: f.opts.Address, Services: len(list),
		Started: f.opts.Started, Boot: f.boot, Leaving: leaving}
	if !leaving {
		e.Instances = f.ownInstances(now)
	}
	raw, err := json.Marshal(e)
	if err != nil {
		f.log.Error("fleet heartbeat", "err", err)
		return
	}
	f.mu.Lock()
	f.own = raw
	f.mu.Unlock()
	if err := f.nc.Publish(presenceSubject(f.opts.Node), raw); err != nil {
		f.log.Debug("fleet heartbeat", "err", err)
	}
	if leaving {
		f.nc.FlushTimeout(time.Second)
	}
}

// receive takes a heartbeat of a node.
func (f *Fleet) receive(m *nats.Msg) {
	now := f.opts.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	if bytes.Equal(m.Data, f.own) {
		return // our own
	}
	p := f.bySubj[m.Subject]
	if p == nil || !bytes.Equal(p.raw, m.Data) { // not only seen again
		var e entry
		if err := json.Unmarshal(m.Data, &e); err != nil || e.Name == "" || m.Subject != presenceSubject(e.Name) {
			return
		}
		if e.Name == f.opts.Node {
			if e.Boot != f.boot && now.Sub(f.dupAt) > time.Minute {
				f.dupAt = now
				f.log.Error("another node of the fleet has this node's name; give each node its own node:", "node", e.Name)
			}
			return
		}
		if p = f.nodes[e.Name]; p == nil {
			p = &peer{}
			f.nodes[e.Name] = p
			f.bySubj[m.Subject] = p
		}
		p.raw, p.entry = slices.Clone(m.Data), e
	}
	p.lastSeen = now
}

// up reports whether p counts as up at now.
func (f *Fleet) up(p *peer, now time.Time) bool {
	return !p.entry.Leaving && now.Sub(p.lastSeen) <= f.opts.TTL
}

// Nodes lists the nodes of the fleet by name, this one included.
func (f *Fleet) Nodes() []steward.Node {
	now := f.opts.Now()
	self := steward.Node{Name: f.opts.Node, State: steward.NodeUp, Version: f.opts.Version, Address: f.opts.Address,
		Services: len(f.opts.Services.List()), Started: f.opts.Started, LastSeen: now, Self: true}
	out := []steward.Node{self}
	f.mu.Lock()
	for _, p := range f.nodes {
		state := steward.NodeDown
		if f.up(p, now) {
			state = steward.NodeUp
		}
		e := p.entry
		out = append(out, steward.Node{Name: e.Name, State: state, Version: e.Version, Address: e.Address,
			Services: e.Services, Started: e.Started, LastSeen: p.lastSeen})
	}
	f.mu.Unlock()
	slices.SortFunc(out, func(a, b steward.Node) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// node returns the state of the node called name: whether it is known and
// up, and when it was last seen.
func (f *Fleet) node(name string) (known, up bool, lastSeen time.Time) {
	if name == f.opts.Node {
		return true, true, f.opts.Now()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.nodes[name]
	if p == nil {
		return false, false, time.Time{}
	}
	return true, f.up(p, f.opts.Now()), p.lastSeen
}

// upNodes returns the names of the nodes that are up, this one first, and
// of those that are down.
func (f *Fleet) upNodes() (up, down []string) {
	now := f.opts.Now()
	up = []string{f.opts.Node}
	f.mu.Lock()
	defer f.mu.Unlock()
	for name, p := range f.nodes {
		if f.up(p, now) {
			up = append(up, name)
		} else {
			down = append(down, name)
		}
	}
	slices.Sort(up[1:])
	slices.Sort(down)
	return up, down
}
