package config

import (
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// InheritEnv says which of steward's own environment variables a service
// gets besides its base environment, env_file and env (inherit_env:). The
// zero value passes none.
type InheritEnv struct {
	// All passes every variable of steward's environment except those the
	// configuration references as secrets (SecretEnv): inherit_env: true.
	All bool `json:"all,omitempty"`
	// Names passes these variables, secrets included: inherit_env: [A, B].
	Names []string `json:"names,omitempty"`
}

// secretRef matches a ${env:NAME} reference. One escaped as $${env:NAME},
// a literal, matches too: counting a name as a secret that is not one
// only keeps it from inherit_env: true, and missing one would leak it.
var secretRef = regexp.MustCompile(`\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}`)

// secretEnv returns the names of the environment variables that the
// values of doc's scalars reference as secrets, ${env:NAME}, wherever they
// are, sorted.
func secretEnv(doc *yaml.Node) []string {
	var names []string
	stack := []*yaml.Node{doc}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		stack = append(stack, n.Content...)
		if n.Kind == yaml.ScalarNode {
			for _, m := range secretRef.FindAllStringSubmatch(n.Value, -1) {
				names = append(names, m[1])
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// inheritEnv reads inherit_env: true, false, or a list of variable names.
func (p *parser) inheritEnv(n *yaml.Node) InheritEnv {
	v := p.deref(n)
	switch {
	case isNull(v):
		return InheritEnv{}
	case v.Kind == yaml.ScalarNode && v.Tag == "!!bool":
		b, _ := p.boolean(n, "inherit_env")
		return InheritEnv{All: b}
	case v.Kind != yaml.SequenceNode:
		p.errorf(n, "inherit_env must be true, false or a list of variable names")
		return InheritEnv{}
	}
	var ie InheritEnv
	for _, item := range v.Content {
		name, ok := p.str(item, "inherit_env")
		switch {
		case !ok:
			if isNull(resolve(item)) {
				p.errorf(item, "inherit_env must be a list of variable names")
			}
		case name == "" || strings.ContainsAny(name, "="):
			p.errorf(item, "inherit_env: invalid variable name %q", name)
		case slices.Contains(ie.Names, name):
			p.errorf(item, "inherit_env lists %q twice", name)
		default:
			ie.Names = append(ie.Names, name)
		}
	}
	return ie
}
