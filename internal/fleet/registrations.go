package fleet

import (
	"cmp"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/stewardhq/steward"
)

// Defaults and limits of the registrations made through the API.
const (
	// DefaultRegistrationTTL is the TTL of a registration that gives none.
	DefaultRegistrationTTL = 30 * time.Second
	// MinDeregisterAfter is the least default deregister_after: 10×TTL,
	// at least this.
	MinDeregisterAfter = time.Minute
	// MaxRegistrations is how many registrations a node keeps.
	MaxRegistrations = 1000
	// MaxRegistrationBytes is how much of its heartbeat a node's
	// registrations may take, each counted with a note of MaxNote bytes,
	// so that the heartbeat stays well within the bus's largest message.
	MaxRegistrationBytes = 768 << 10
	// MaxNote is the longest note of a heartbeat.
	MaxNote = 256
)

// Registration is an instance a service registers on this node through
// the API, its fields checked and its defaults applied.
type Registration struct {
	Name, ID, Address string
	Port              int
	Tags              []string
	Meta              map[string]string
	TTL               time.Duration
	DeregisterAfter   time.Duration
	// SuccessBeforePassing and FailuresBeforeCritical are at least 1.
	SuccessBeforePassing, FailuresBeforeCritical int
	Tenant                                       string // the principal's
}

// registered is a Registration with its health. An instance is healthy
// once SuccessBeforePassing passing reports came in a row (the
// registration counts as one), unhealthy once FailuresBeforeCritical
// failing ones did or the TTL passed without a heartbeat, and removed
// once DeregisterAfter passed without one.
type registered struct {
	reg     Registration
	beat    time.Time // the last heartbeat, or the registration
	healthy bool
	since   time.Time // when healthy last changed
	passes  int       // passing reports in a row
	fails   int       // failing reports in a row
	note    string
	size    int // its part of the heartbeat, with a note of MaxNote bytes
}

// expire applies the TTL at now: an instance silent for longer is
// unhealthy since the TTL passed.
func (r *registered) expire(now time.Time) {
	if now.Sub(r.beat) <= r.reg.TTL {
		return
	}
	r.passes = 0
	if r.healthy {
		r.healthy, r.since = false, r.beat.Add(r.reg.TTL)
	}
}

// report counts a heartbeat at now, passing or not.
func (r *registered) report(now time.Time, passing bool, note string) {
	r.expire(now)
	r.beat, r.note = now, note
	if passing {
		r.fails, r.passes = 0, r.passes+1
		if !r.healthy && r.passes >= r.reg.SuccessBeforePassing {
			r.healthy, r.since = true, now
		}
		return
	}
	r.passes, r.fails = 0, r.fails+1
	if r.healthy && r.fails >= r.reg.FailuresBeforeCritical {
		r.healthy, r.since = false, now
	}
}

func (r *registered) instance(node, address string) steward.Instance {
	g := r.reg
	return steward.Instance{ID: g.ID, Name: g.Name, Node: node, Address: cmp.Or(g.Address, address), Port: g.Port,
		Healthy: r.healthy, Tags: tagsOf(g.Tags), Meta: g.Meta, Since: r.since, Tenant: g.Tenant,
		TTL: g.TTL.String(), Note: r.note}
}

// registrations are this node's registrations, by id, and the round
// robin of the picks. It is safe for concurrent use.
type registrations struct {
	mu    sync.Mutex
	byID  map[string]*registered
	bytes int            // the sum of their sizes
	picks map[string]int // the next pick of each name
}

func newRegistrations() *registrations {
	return &registrations{byID: map[string]*registered{}, picks: map[string]int{}}
}

// prune removes the registrations silent for longer than their
// DeregisterAfter at now; r.mu is held.
func (rs *registrations) prune(now time.Time) {
	for id, r := range rs.byID {
		if now.Sub(r.beat) > r.reg.DeregisterAfter {
			rs.remove(id)
		}
	}
}

// remove removes the registration id; rs.mu is held.
func (rs *registrations) remove(id string) {
	rs.bytes -= rs.byID[id].size
	delete(rs.byID, id)
}

// list returns the instances of the registrations at now.
func (rs *registrations) list(now time.Time, node, address string) []steward.Instance {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.prune(now)
	out := make([]steward.Instance, 0, len(rs.byID))
	for _, r := range rs.byID {
		r.expire(now)
		out = append(out, r.instance(node, address))
	}
	return out
}

// ownInstances are this node's instances at now: its services' and its
// registrations'.
func (f *Fleet) ownInstances(now time.Time) []steward.Instance {
	out := f.reg.own(now, f.opts.Services.List(), f.opts.Config(), f.opts.Address)
	out = append(out, f.regs.list(now, f.opts.Node, f.opts.Address)...)
	slices.SortFunc(out, compareInstances)
	return out
}

// changed makes the node heartbeat now, so that the fleet sees a change
// of its registrations at once.
func (f *Fleet) changed() {
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

// Register registers g on this node: a new instance, or one that replaces
// the registration of the same id, its health started over. The id of a
// service's instance (its name) cannot be taken, nor another tenant's.
func (f *Fleet) Register(g Registration) (steward.Instance, error) {
	if svc := f.opts.Config().Services[g.ID]; svc != nil && svc.Registry != nil {
		return steward.Instance{}, steward.Errorf(steward.ECONFLICT, "id %q is the instance of the service %q of the configuration", g.ID, g.ID)
	}
	now := f.opts.Now()
	rs := f.regs
	rs.mu.Lock()
	rs.prune(now)
	old := rs.byID[g.ID]
	if old != nil && old.reg.Tenant != g.Tenant {
		rs.mu.Unlock()
		return steward.Instance{}, steward.Errorf(steward.ECONFLICT, "id %q is taken", g.ID)
	}
	if old == nil && len(rs.byID) >= MaxRegistrations {
		rs.mu.Unlock()
		return steward.Instance{}, steward.Errorf(steward.ECONFLICT, "this node keeps %d registrations, the most it keeps: deregister some first", MaxRegistrations)
	}
	r := &registered{reg: g, beat: now, since: now}
	r.report(now, true, "")
	in := r.instance(f.opts.Node, f.opts.Address)
	raw, _ := json.Marshal(in) // an Instance always marshals
	r.size = len(raw) + MaxNote
	if old != nil {
		rs.remove(g.ID)
	}
	if rs.bytes+r.size > MaxRegistrationBytes {
		if old != nil {
			rs.byID[g.ID], rs.bytes = old, rs.bytes+old.size
		}
		rs.mu.Unlock()
		return steward.Instance{}, steward.Errorf(steward.ECONFLICT, "this node's registrations would take more than %d KiB of its heartbeat: deregister some, or register fewer tags and meta", MaxRegistrationBytes>>10)
	}
	rs.byID[g.ID], rs.bytes = r, rs.bytes+r.size
	rs.mu.Unlock()
	f.changed()
	return in, nil
}

// errNoInstance is the error for an instance this node does not hold, or
// holds for another tenant.
func errNoInstance(name, id string) error {
	return steward.Errorf(steward.ENOTFOUND, "no instance %q of %q registered on this node", id, name)
}

// find returns the registration id of name and tenant; rs.mu is held.
func (rs *registrations) find(now time.Time, name, id, tenant string) (*registered, error) {
	rs.prune(now)
	r := rs.byID[id]
	if r == nil || r.reg.Name != name || (tenant != "" && r.reg.Tenant != tenant) {
		return nil, errNoInstance(name, id)
	}
	return r, nil
}

// Heartbeat reports the health of the instance id of name, registered
// on this node by tenant ("" for any): it keeps it alive for its TTL.
func (f *Fleet) Heartbeat(name, id, tenant string, passing bool, note string) (steward.Instance, error) {
	now := f.opts.Now()
	rs := f.regs
	rs.mu.Lock()
	r, err := rs.find(now, name, id, tenant)
	if err != nil {
		rs.mu.Unlock()
		return steward.Instance{}, err
	}
	was := r.healthy
	r.report(now, passing, note)
	in := r.instance(f.opts.Node, f.opts.Address)
	rs.mu.Unlock()
	if in.Healthy != was {
		f.changed()
	}
	return in, nil
}

// Deregister removes the instance id of name, registered on this node by
// tenant ("" for any).
func (f *Fleet) Deregister(name, id, tenant string) error {
	rs := f.regs
	rs.mu.Lock()
	_, err := rs.find(f.opts.Now(), name, id, tenant)
	if err == nil {
		rs.remove(id)
	}
	rs.mu.Unlock()
	if err == nil {
		f.changed()
	}
	return err
}

// Pick returns one of the healthy instances of the fleet that q selects,
// in turn: each pick of q.Name the next of their list by name, node and
// id.
func (f *Fleet) Pick(q Filter) (steward.Instance, error) {
	q.Healthy = true
	list := f.Instances(q)
	if len(list) == 0 {
		return steward.Instance{}, steward.Errorf(steward.ENOTFOUND, "no healthy instance of %q", q.Name)
	}
	rs := f.regs
	rs.mu.Lock()
	n := rs.picks[q.Name]
	rs.picks[q.Name] = n + 1
	rs.mu.Unlock()
	return list[n%len(list)], nil
}
