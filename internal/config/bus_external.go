package config

import (
	"net/url"
	"strings"

	"go.yaml.in/yaml/v3"
)

// BusExternal is bus.url: an existing NATS deployment steward joins instead
// of embedding a server, and steward's credentials there (none, a user and
// password, a credentials file or an nkey seed file).
type BusExternal struct {
	// URL is one or more comma-separated nats:// or tls:// URLs.
	URL      string `json:"url"`
	User     string `json:"user,omitempty"`
	Password string `json:"-"`
	// Creds is a NATS credentials file (a user JWT and its nkey seed).
	Creds string `json:"creds,omitempty"`
	// NKey is a file holding an nkey seed.
	NKey string `json:"nkey,omitempty"`
	// CA is a PEM file of the certificate authorities the deployment's
	// TLS certificate is checked against; "" means the system's.
	CA string `json:"ca,omitempty"`
	// Services is bus.service_credentials: what the supervised services
	// connect with instead of steward's own credentials.
	Services *BusCredentials `json:"service_credentials,omitempty"`
}

// BusCredentials are a NATS user's credentials on a deployment of bus.url:
// a user and password, a credentials file or an nkey seed file.
type BusCredentials struct {
	User     string `json:"user,omitempty"`
	Password string `json:"-"`
	Creds    string `json:"creds,omitempty"`
	NKey     string `json:"nkey,omitempty"`
}

// busExternal reads bus.url and its credentials from ext, the fields of
// bus: that name them or that they exclude (listen, jetstream), once the
// section is read. mappings are the transforms that are subject mappings,
// which an external deployment keeps in its own configuration.
func (p *parser) busExternal(b *Bus, ext map[string]field, mappings []*yaml.Node) {
	u, ok := ext["url"]
	if !ok {
		for _, k := range []string{"user", "password", "creds", "nkey", "ca", "service_credentials"} {
			if f, ok := ext[k]; ok {
				p.errorf(f.key, "bus.%s is a credential for bus.url, which is not set", k)
			}
		}
		return
	}
	x := &BusExternal{}
	if s, ok := p.str(u.val, "bus.url"); ok {
		if msg := checkNATSURLs(s); msg != "" {
			p.errorf(u.val, "bus.url: %s", msg)
		} else {
			x.URL = s
		}
	}
	for _, k := range []string{"listen", "jetstream", "cluster", "leafnodes"} {
		if f, ok := ext[k]; ok {
			p.errorf(f.key, "bus.%s is for the embedded server; with bus.url steward embeds none", k)
		}
	}
	for _, n := range mappings {
		p.errorf(n, "bus.transforms: with bus.url, subject mappings are the deployment's (its account's mappings:); only a transform with a template runs in steward")
	}
	if f, ok := ext["user"]; ok {
		x.User, _ = p.str(f.val, "bus.user")
	}
	if f, ok := ext["password"]; ok {
		x.Password, _ = p.str(f.val, "bus.password")
	}
	for k, dst := range map[string]*string{"creds": &x.Creds, "nkey": &x.NKey, "ca": &x.CA} {
		if f, ok := ext[k]; ok {
			*dst, _ = p.path(f.val, "bus."+k)
		}
	}
	p.checkCredentials(u.key, "bus", BusCredentials{x.User, x.Password, x.Creds, x.NKey})
	if f, ok := ext["service_credentials"]; ok {
		c := &BusCredentials{}
		for _, g := range p.fields(f.val, "bus.service_credentials", "user", "password", "creds", "nkey") {
			switch g.key.Value {
			case "user":
				c.User, _ = p.str(g.val, "bus.service_credentials.user")
			case "password":
				c.Password, _ = p.str(g.val, "bus.service_credentials.password")
			case "creds":
				c.Creds, _ = p.path(g.val, "bus.service_credentials.creds")
			case "nkey":
				c.NKey, _ = p.path(g.val, "bus.service_credentials.nkey")
			}
		}
		if *c == (BusCredentials{}) {
			p.errorf(f.key, "bus.service_credentials: give user and password, creds or nkey")
		}
		p.checkCredentials(f.key, "bus.service_credentials", *c)
		x.Services = c
	}
	b.External = x
}

// checkCredentials reports credentials of what (at n) that are not one
// kind: a user and password, a credentials file or an nkey.
func (p *parser) checkCredentials(n *yaml.Node, what string, c BusCredentials) {
	switch {
	case (c.User == "") != (c.Password == ""):
		p.errorf(n, "%s: user and password go together", what)
	case c.User != "" && (c.Creds != "" || c.NKey != ""), c.Creds != "" && c.NKey != "":
		p.errorf(n, "%s: give one of user and password, creds or nkey", what)
	}
}

// checkNATSURLs returns what is wrong with a comma-separated list of NATS
// URLs, or "".
func checkNATSURLs(s string) string {
	if strings.TrimSpace(s) == "" {
		return "want a URL like nats://nats.internal:4222"
	}
	for raw := range strings.SplitSeq(s, ",") {
		raw = strings.TrimSpace(raw)
		u, err := url.Parse(raw)
		switch {
		case err != nil:
			return err.Error()
		case u.Scheme != "nats" && u.Scheme != "tls":
			return "URL " + u.Redacted() + ": want the scheme nats:// or tls://"
		case u.Hostname() == "":
			return "URL " + u.Redacted() + " has no host"
		case u.Path != "" && u.Path != "/", u.RawQuery != "", u.Fragment != "":
			return "URL " + u.Redacted() + ": want only a scheme, a host and a port"
		}
	}
	return ""
}
