package config

import (
	"maps"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// crossTenant reports whether a and b are services of two tenants.
func crossTenant(a, b *Service) bool {
	return a != nil && b != nil && a.Tenant != "" && b.Tenant != "" && a.Tenant != b.Tenant
}

// checkDeps reports depends_on items that name no service or the service
// itself, and every dependency cycle, once each.
func (p *parser) checkDeps(c *Config) {
	// edges[a][b] is the depends_on item of a that names b.
	edges := map[string]map[string]*yaml.Node{}
	for _, name := range c.Order {
		for _, item := range p.deps[name] {
			dep := resolve(item).Value
			switch {
			case dep == name:
				p.errorf(item, "service %q depends on itself", name)
			case p.declared[dep] == nil:
				p.errorf(item, "depends_on: unknown service %q%s", dep, suggest(dep, c.Order))
			case crossTenant(c.Services[name], c.Services[dep]):
				// Its status, why and dashboard page name its dependencies:
				// another tenant's would show to this one.
				p.errorf(item, "depends_on: service %q is of tenant %s, %q of tenant %s: a service may depend on its own tenant's services and on services of no tenant",
					dep, c.Services[dep].Tenant, name, c.Services[name].Tenant)
			default:
				if edges[name] == nil {
					edges[name] = map[string]*yaml.Node{}
				}
				edges[name][dep] = item
			}
		}
	}

	// A depth-first search finds a cycle at each edge back to a service on
	// its path; every cycle has such an edge.
	const (
		unvisited = iota
		onPath
		done
	)
	state := map[string]int{}
	var path []string
	reported := map[string]bool{}
	var visit func(string)
	visit = func(name string) {
		state[name] = onPath
		path = append(path, name)
		for _, dep := range slices.Sorted(maps.Keys(edges[name])) {
			switch state[dep] {
			case unvisited:
				visit(dep)
			case onPath:
				// Report the cycle from its smallest name, and back to it.
				loop := path[slices.Index(path, dep):]
				first := slices.Index(loop, slices.Min(loop))
				cycle := slices.Concat(loop[first:], loop[:first], loop[first:first+1])
				text := strings.Join(cycle, " -> ")
				if !reported[text] {
					reported[text] = true
					p.errorf(edges[cycle[0]][cycle[1]], "dependency cycle: %s", text)
				}
			}
		}
		path = path[:len(path)-1]
		state[name] = done
	}
	for _, name := range slices.Sorted(slices.Values(c.Order)) {
		if state[name] == unvisited {
			visit(name)
		}
	}
}

// StartOrder returns the services in layers: the first holds the services
// that depend on no other, each next one those whose dependencies are all in
// earlier layers. Each layer is sorted. Disabled services are included.
// Dependencies on unknown services are ignored; services in a dependency
// cycle, which only a Config not made by Parse can have, come last in one
// layer.
func (c *Config) StartOrder() [][]string {
	waiting := map[string]int{} // dependencies not yet in a layer
	dependents := map[string][]string{}
	for name, s := range c.Services {
		waiting[name] += 0
		for _, dep := range s.DependsOn {
			if _, ok := c.Services[dep]; ok {
				waiting[name]++
				dependents[dep] = append(dependents[dep], name)
			}
		}
	}
	var layers [][]string
	var layer []string
	for name, n := range waiting {
		if n == 0 {
			layer = append(layer, name)
		}
	}
	for len(layer) > 0 {
		slices.Sort(layer)
		layers = append(layers, layer)
		var next []string
		for _, name := range layer {
			delete(waiting, name)
			for _, d := range dependents[name] {
				if waiting[d]--; waiting[d] == 0 {
					next = append(next, d)
				}
			}
		}
		layer = next
	}
	if len(waiting) > 0 {
		layers = append(layers, slices.Sorted(maps.Keys(waiting)))
	}
	return layers
}

// Dependents returns the services that depend directly on the service name,
// sorted.
func (c *Config) Dependents(name string) []string {
	var out []string
	for n, s := range c.Services {
		if slices.Contains(s.DependsOn, name) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}
