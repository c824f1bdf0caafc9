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

// registry holds this node's instances: those of its services'
// registry: sections, which follow the services. It is safe for
// concurrent use.
type registry struct {
	node string

	mu    sync.Mutex
	since map[string]sinceState // when healthy last changed, by service
}

type sinceState struct {
	healthy bool
	since   time.Time
}

func newRegistry(node string) *registry {
	return &registry{node: node, since: map[string]sinceState{}}
}

// own returns this node's instances at now: one per running service with
// a registry: section, healthy while its health check (if any) passes.
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
			Healthy: healthy, Tags: tagsOf(reg.Tags), Meta: reg.Meta, Service: st.Name,
			Since: s.since, Tenant: svc.Tenant,
		})
	}
	for name := range r.since {
		if !seen[name] {
			delete(r.since, name)
		}
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

// Filter selects instances: by name, tag, node and tenant, each "" for
// any, and the healthy ones only when Healthy.
type Filter struct {
	Name, Tag, Node, Tenant string
	Healthy                 bool
}

func (q Filter) match(in steward.Instance) bool {
	return (q.Name == "" || in.Name == q.Name) && (q.Node == "" || in.Node == q.Node) &&
		(q.Tag == "" || slices.Contains(in.Tags, q.Tag)) && (q.Tenant == "" || in.Tenant == q.Tenant) &&
		(!q.Healthy || in.Healthy)
}

// Instances lists the instances of the fleet that q selects, by name,
// node and id: this node's and those of the nodes that are up.
func (f *Fleet) Instances(q Filter) []steward.Instance {
	now := f.opts.Now()
	var out []steward.Instance
	for _, in := range f.ownInstances(now) {
		if q.match(in) {
			out = append(out, in)
		}
	}
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
