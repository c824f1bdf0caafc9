package config

import (
	"fmt"
	"slices"

	"go.yaml.in/yaml/v3"
)

// Condition is what a service waits for of one of its dependencies before
// it starts, as Compose's depends_on conditions.
type Condition string

// The conditions of depends_on in its mapping form; the list form means
// ConditionReady.
const (
	// ConditionStarted holds once the dependency's process has started.
	ConditionStarted Condition = "started"
	// ConditionReady holds while the dependency runs and its ready: check
	// passed, or once it exited with status 0.
	ConditionReady Condition = "ready"
	// ConditionHealthy holds while the dependency runs and its health
	// check reports healthy; the dependency must have a health: check.
	ConditionHealthy Condition = "healthy"
	// ConditionCompleted holds once the dependency exited with status 0;
	// its failure fails the dependent.
	ConditionCompleted Condition = "completed"
)

var conditions = []string{string(ConditionStarted), string(ConditionReady), string(ConditionHealthy), string(ConditionCompleted)}

// conditionList names the conditions in errors.
const conditionList = "started, ready, healthy or completed"

// DependencyCondition returns what s waits for of its dependency dep:
// the entry of DependsOnCond, ConditionReady when there is none.
func (s *Service) DependencyCondition(dep string) Condition {
	if c, ok := s.DependsOnCond[dep]; ok {
		return c
	}
	return ConditionReady
}

// dependsOn reads the depends_on of s, a list of service names or a
// mapping of service names to conditions, into s.DependsOn,
// s.DependsOnCond and s.DependsOnRestart; the graph and the conditions are checked once every
// service is known.
func (p *parser) dependsOn(s *Service, n *yaml.Node) {
	v := p.deref(n)
	if isNull(v) {
		return
	}
	if v.Kind == yaml.MappingNode {
		p.dependsOnMap(s, n)
		return
	}
	if v.Kind != yaml.SequenceNode {
		p.errorf(n, "depends_on must be a list of service names or a mapping of service names to conditions (%s)", conditionList)
		return
	}
	seen := map[string]bool{}
	for _, item := range v.Content {
		v := resolve(item)
		if v.Kind != yaml.ScalarNode || isNull(v) {
			p.errorf(item, "depends_on must be a list of service names")
			continue
		}
		if seen[v.Value] {
			p.errorf(item, "depends_on lists %q twice", v.Value)
			continue
		}
		seen[v.Value] = true
		s.DependsOn = append(s.DependsOn, v.Value)
		p.deps[s.Name] = append(p.deps[s.Name], item)
	}
}

// dependsOnMap reads the mapping form of depends_on: each dependency's
// value is a condition, or a mapping {condition, restart} as in Compose.
func (p *parser) dependsOnMap(s *Service, n *yaml.Node) {
	fields, _ := p.mapping(n, "depends_on", func(key, first string) string {
		return fmt.Sprintf("depends_on lists %q twice (first at %s)", key, first)
	})
	for _, f := range fields {
		dep := f.key.Value
		at, restart := f.val, false
		if p.deref(f.val).Kind == yaml.MappingNode {
			at = nil
			for _, g := range p.fields(f.val, "depends_on "+dep, "condition", "restart") {
				switch g.key.Value {
				case "condition":
					at = g.val
				case "restart":
					restart, _ = p.boolean(g.val, "depends_on "+dep+".restart")
				}
			}
		}
		c := string(ConditionReady)
		if at != nil {
			var ok bool
			if c, ok = p.str(at, "depends_on "+dep); !ok {
				if isNull(resolve(at)) {
					p.errorf(at, "depends_on %s: want a condition: %s", dep, conditionList)
				}
				continue
			}
		}
		if !slices.Contains(conditions, c) {
			p.errorf(at, "depends_on %s: unknown condition %q, want %s%s", dep, c, conditionList, suggest(c, conditions))
			continue
		}
		s.DependsOn = append(s.DependsOn, dep)
		p.deps[s.Name] = append(p.deps[s.Name], f.key)
		if Condition(c) != ConditionReady {
			if s.DependsOnCond == nil {
				s.DependsOnCond = map[string]Condition{}
			}
			s.DependsOnCond[dep] = Condition(c)
		}
		if restart {
			s.DependsOnRestart = append(s.DependsOnRestart, dep)
		}
	}
}

// checkConditions reports conditions that a dependency cannot meet: healthy
// of a service with no health check, completed of a service that restarts
// even after a clean exit.
func (p *parser) checkConditions(c *Config) {
	for _, name := range c.Order {
		s := c.Services[name]
		if s == nil {
			continue
		}
		for _, item := range p.deps[name] {
			dep := c.Services[resolve(item).Value]
			if dep == nil {
				continue
			}
			switch s.DependencyCondition(dep.Name) {
			case ConditionHealthy:
				if dep.Health == nil {
					p.errorf(item, "depends_on %s: healthy, but service %q has no health: check", dep.Name, dep.Name)
				}
			case ConditionCompleted:
				if dep.Restart.Policy == RestartAlways {
					p.errorf(item, "depends_on %s: completed, but service %q has restart policy always and never completes", dep.Name, dep.Name)
				}
			}
		}
	}
}
