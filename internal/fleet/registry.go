package fleet

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
)

// Registration defaults and bounds.
const (
	DefaultRegistrationTTL = 10 * time.Second
	DefaultDeregisterAfter = time.Minute
	minRegistrationTTL     = time.Second
	maxRegistrationTTL     = time.Hour
	maxRegistrations       = 10_000
)

// registry holds this node's instances: those of its services'
// registry: sections, which follow the services, and those registered
// through the API, which follow their heartbeats. It is safe for
// concurrent use.
type registry struct {
	node string
	now  func() time.Time

	mu    sync.Mutex
	since map[string]sinceState   // config instances: when healthy last changed
	api   map[string]*apiInstance // by id
	rr    map[string]uint64       // the pick counter of each name
}

type sinceState struct {
	healthy bool
	since   time.Time
}

// apiInstance is an instance registered through the API, with its health
// as its heartbeats tell it.
type apiInstance struct {
	in              steward.Instance
	ttl             time.Duration
	passingAfter    int
	criticalAfter   int
	deregisterAfter time.Duration
	deadline        time.Time // when a missing heartbeat counts as a failure
	passes, fails   int       // in a row
	unhealthySince  time.Time
}

func newRegistry(node string, now func() time.Time) *registry {
	return &registry{node: node, now: now, since: map[string]sinceState{}, api: map[string]*apiInstance{},
		rr: map[string]uint64{}}
}

// own returns this node's instances at now: one per running service with
// a registry: section, healthy while its health check (if any) passes,
// and the API's, whose missed heartbeats count and whose long unhealthy
// ones go.
func (r *registry) own(now time.Time, list []steward.ServiceStatus, cfg *config.Config, address string) []steward.Instance {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []steward.Instance
	seen := map[string]bool{}
	for _, st := range list {
		svc := cfg.Services[st.Name]
		if svc == nil || svc.Registry == nil || st.State != steward.StateRunning {
			continue
		}
		reg := svc.Registry
		healthy := st.Health == steward.HealthHealthy || (svc.Health == nil && st.Health != steward.HealthUnhealthy)
		s, ok := r.since[st.Name]
		if !ok || s.healthy != healthy {
			s = sinceState{healthy: healthy, since: now}
			r.since[st.Name] = s
		}
		seen[st.Name] = true
		out = append(out, steward.Instance{
			ID: st.Name, Name: reg.Name, Node: r.node, Address: cmp.Or(reg.Address, address), Port: reg.Port,
			Healthy: healthy, Tags: tagsOf(reg.Tags), Meta: reg.Meta, Service: st.Name, Source: steward.SourceConfig,
			Since: s.since,
		})
	}
	for name := range r.since {
		if !seen[name] {
			delete(r.since, name)
		}
	}
	for id, a := range r.api {
		a.tick(now)
		if !a.in.Healthy && now.Sub(a.unhealthySince) >= a.deregisterAfter {
			delete(r.api, id)
			continue
		}
		out = append(out, a.in)
	}
	slices.SortFunc(out, compareInstances)
	return out
}

func tagsOf(tags []string) []string {
	if tags == nil {
		return []string{}
	}
	return tags
}

func compareInstances(a, b steward.Instance) int {
	return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.Node, b.Node), strings.Compare(a.ID, b.ID))
}

// tick counts the TTLs that passed without a heartbeat as failures.
func (a *apiInstance) tick(now time.Time) {
	for !now.Before(a.deadline) {
		a.deadline = a.deadline.Add(a.ttl)
		a.fail(a.deadline.Add(-a.ttl))
	}
}

func (a *apiInstance) fail(at time.Time) {
	a.passes = 0
	a.fails++
	if a.in.Healthy && a.fails >= a.criticalAfter {
		a.in.Healthy, a.in.Since, a.unhealthySince = false, at, at
	}
}

func (a *apiInstance) pass(now time.Time) {
	a.fails = 0
	a.passes++
	if !a.in.Healthy && a.passes >= a.passingAfter {
		a.in.Healthy, a.in.Since = true, now
	}
}

// register adds or replaces an instance registered through the API.
func (r *registry) register(in steward.Instance, ttl time.Duration, passingAfter, criticalAfter int, deregisterAfter time.Duration) (steward.Instance, error) {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.api[in.ID]; !ok && len(r.api) >= maxRegistrations {
		return steward.Instance{}, steward.Errorf(steward.ECONFLICT, "this node holds %d registrations already, the most it takes", maxRegistrations)
	}
	a := &apiInstance{in: in, ttl: ttl, passingAfter: max(passingAfter, 1), criticalAfter: max(criticalAfter, 1),
		deregisterAfter: deregisterAfter, deadline: now.Add(ttl), unhealthySince: now}
	a.in.Node, a.in.Source, a.in.Since, a.in.Healthy = r.node, steward.SourceAPI, now, false
	a.in.Tags = tagsOf(a.in.Tags)
	a.pass(now) // registering is the first heartbeat
	r.api[in.ID] = a
	return a.in, nil
}

// heartbeat is a heartbeat of the instance id: passing unless failing.
func (r *registry) heartbeat(id string, failing bool) (steward.Instance, error) {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	a, ok := r.api[id]
	if !ok {
		return steward.Instance{}, steward.Errorf(steward.ENOTFOUND, "no instance %q is registered on this node", id)
	}
	a.tick(now)
	if failing {
		a.fail(now)
	} else {
		a.pass(now)
	}
	a.deadline = now.Add(a.ttl)
	return a.in, nil
}

// deregister removes the instance id.
func (r *registry) deregister(id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.api[id]; !ok {
		return steward.Errorf(steward.ENOTFOUND, "no instance %q is registered on this node", id)
	}
	delete(r.api, id)
	return nil
}

// next returns the pick counter of name and advances it.
func (r *registry) next(name string) uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.rr[name]
	r.rr[name] = n + 1
	return n
}

// Filter selects instances: by name, tag and node, each "" for any.
type Filter struct {
	Name, Tag, Node string
	// Healthy keeps only the healthy ones.
	Healthy bool
}

func (q Filter) match(in steward.Instance) bool {
	return (q.Name == "" || in.Name == q.Name) && (q.Node == "" || in.Node == q.Node) &&
		(q.Tag == "" || slices.Contains(in.Tags, q.Tag)) && (!q.Healthy || in.Healthy)
}

// Instances lists the instances of the fleet that q selects, by name,
// node and id: this node's and those of the nodes that are up.
func (f *Fleet) Instances(q Filter) []steward.Instance {
	var out []steward.Instance
	for _, in := range f.reg.own(f.opts.Now(), f.opts.Services.List(), f.opts.Config(), f.opts.Address) {
		if q.match(in) {
			out = append(out, in)
		}
	}
	now := f.opts.Now()
	f.mu.Lock()
	for _, p := range f.nodes {
		if !f.up(p, now) {
			continue
		}
		for _, in := range p.entry.Instances {
			if q.match(in) {
				out = append(out, in)
			}
		}
	}
	f.mu.Unlock()
	slices.SortFunc(out, compareInstances)
	return out
}

// Pick returns one healthy instance that q selects, round robin over them
// for each name on this node.
func (f *Fleet) Pick(q Filter) (steward.Instance, error) {
	q.Healthy = true
	list := f.Instances(q)
	if len(list) == 0 {
		return steward.Instance{}, steward.Errorf(steward.ENOTFOUND, "no healthy instance of %q", q.Name)
	}
	return list[f.reg.next(q.Name)%uint64(len(list))], nil
}

// Register registers an instance on this node, as r says; a registration
// of an id this node holds replaces it.
func (f *Fleet) Register(r steward.Registration) (steward.Instance, error) {
	if !config.ValidRegistryName(r.Name) {
		return steward.Instance{}, steward.Errorf(steward.EINVALID, "name %q must be 1 to 64 letters, digits, '-' and '_'", r.Name)
	}
	switch {
	case r.ID == "":
		r.ID = r.Name + "-" + newID()
	case !config.ValidRegistryName(r.ID):
		return steward.Instance{}, steward.Errorf(steward.EINVALID, "id %q must be 1 to 64 letters, digits, '-' and '_'", r.ID)
	}
	if r.Port < 1 || r.Port > 65535 {
		return steward.Instance{}, steward.Errorf(steward.EINVALID, "port %d must be 1 to 65535", r.Port)
	}
	if r.Address == "" || len(r.Address) > 253 || strings.ContainsAny(r.Address, " /\t\r\n") {
		return steward.Instance{}, steward.Errorf(steward.EINVALID, "address %q must be a host name or an IP address", r.Address)
	}
	if len(r.Tags) > 64 || len(r.Meta) > 64 {
		return steward.Instance{}, steward.Errorf(steward.EINVALID, "an instance takes at most 64 tags and 64 meta keys")
	}
	ttl, err := registrationDuration(r.TTL, "ttl", DefaultRegistrationTTL, minRegistrationTTL, maxRegistrationTTL)
	if err != nil {
		return steward.Instance{}, err
	}
	dereg, err := registrationDuration(r.DeregisterAfter, "deregister_after", DefaultDeregisterAfter, time.Second, 7*24*time.Hour)
	if err != nil {
		return steward.Instance{}, err
	}
	if r.PassingAfter < 0 || r.PassingAfter > 100 || r.CriticalAfter < 0 || r.CriticalAfter > 100 {
		return steward.Instance{}, steward.Errorf(steward.EINVALID, "passing_after and critical_after must be 0 to 100")
	}
	in, err := f.reg.register(steward.Instance{ID: r.ID, Name: r.Name, Address: r.Address, Port: r.Port, Tags: r.Tags, Meta: r.Meta},
		ttl, r.PassingAfter, r.CriticalAfter, dereg)
	if err == nil {
		f.poke()
	}
	return in, err
}

func registrationDuration(s, what string, def, lo, hi time.Duration) (time.Duration, error) {
	if s == "" {
		return def, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < lo || d > hi {
		return 0, steward.Errorf(steward.EINVALID, "%s %q must be a duration from %v to %v", what, s, lo, hi)
	}
	return d, nil
}

// Heartbeat is a heartbeat of the instance id registered on this node.
func (f *Fleet) Heartbeat(id string, hb steward.Heartbeat) (steward.Instance, error) {
	var failing bool
	switch hb.Status {
	case "", "passing":
	case "failing":
		failing = true
	default:
		return steward.Instance{}, steward.Errorf(steward.EINVALID, `status %q: want "passing" or "failing"`, hb.Status)
	}
	in, err := f.reg.heartbeat(id, failing)
	if err == nil {
		f.poke()
	}
	return in, err
}

// Deregister removes the instance id registered on this node.
func (f *Fleet) Deregister(id string) error {
	err := f.reg.deregister(id)
	if err == nil {
		f.poke()
	}
	return err
}
