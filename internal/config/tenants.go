package config

import (
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// tenants reads tenants: [NAME...], the tenants the file declares. A
// tenant's name follows the rules of a service's.
func (p *parser) tenants(n *yaml.Node, c *Config) {
	for _, v := range p.strings(n, "tenants") {
		name, ok := p.str(v, "a tenant")
		switch {
		case !ok:
		case checkName(name) != "":
			p.errorf(v, "tenant %q must be 1 to 64 letters, digits, '_', '.' and '-', starting with a letter or digit", name)
		case slices.Contains(c.Tenants, name):
			p.errorf(v, "tenant %q is declared twice", name)
		default:
			c.Tenants = append(c.Tenants, name)
		}
	}
}

// tenant reads the tenant: of a service, check, job or workflow, which
// checkTenants finds among the declared ones once the whole file is read.
func (p *parser) tenant(n *yaml.Node) string {
	name, ok := p.str(n, "tenant")
	if !ok {
		return ""
	}
	p.tenantRefs = append(p.tenantRefs, n)
	return name
}

// checkTenants reports every tenant: that names no declared tenant.
func (p *parser) checkTenants(c *Config) {
	for _, n := range p.tenantRefs {
		if name := resolve(n).Value; !slices.Contains(c.Tenants, name) {
			declared := "none are declared (tenants: [...])"
			if len(c.Tenants) > 0 {
				declared = "tenants: declares " + strings.Join(c.Tenants, ", ")
			}
			p.errorf(n, "tenant %q is not declared: %s", name, declared)
		}
	}
}
