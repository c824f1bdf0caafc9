package notify

import (
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/stewardhq/steward/internal/config"
)

// Types returns the decoders of the types of notifier, by the key that
// names the type in a notify: entry: what config.Registry.Notifiers holds.
// Each decodes its settings with their positions and validates them once
// they were read without a problem.
func Types() map[string]func(s *config.Section) any {
	return map[string]func(s *config.Section) any{
		"webhook":  decodeWebhook,
		"smtp":     decodeSMTP,
		"exec":     decodeExec,
		"syslog":   decodeSyslog,
		"eventlog": decodeEventLog,
	}
}

// fields returns the fields of the type's settings, recording the
// position of each value as TYPE.KEY in s.At.
func fields(s *config.Section, known ...string) []config.Field {
	k := s.Key.Value
	fs := s.Fields(s.Node, fmt.Sprintf("notifier %q %s", s.Name, k), known...)
	for _, f := range fs {
		s.At[k+"."+f.Key.Value] = config.PosOf(f.Value)
	}
	return fs
}

// validate reports the problems of spec's Validate at their positions,
// once the YAML was read without one.
func validate(s *config.Section, spec Spec) Spec {
	if s.Failed() {
		return spec
	}
	var p Problems
	p.Nest(s.Key.Value, spec.Validate())
	for _, fe := range FieldErrors(p.Err()) {
		s.ErrorAt(s.At.Find(fe.Field), "%s", notifierMsg(s.Name, fe.Field, fe.Msg))
	}
	return spec
}

// secret reads a string that may hold ${env:NAME} and ${file:PATH}
// references; they are resolved by Build, not here.
func secret(s *config.Section, n *yaml.Node, what string) Secret {
	v, _ := s.String(n, what)
	return Secret(v)
}

// secrets reads a mapping of names to secrets, recording their positions
// as what.NAME.
func secrets(s *config.Section, n *yaml.Node, what string) map[string]Secret {
	var out map[string]Secret
	for _, e := range s.Entries(n, what) {
		if out == nil {
			out = map[string]Secret{}
		}
		s.At[what+"."+e.Key.Value] = config.PosOf(e.Value)
		out[e.Key.Value] = secret(s, e.Value, what+"."+e.Key.Value)
	}
	return out
}

func decodeWebhook(s *config.Section) any {
	c := &WebhookConfig{}
	for _, f := range fields(s, "url", "secret", "format", "headers", "timeout") {
		switch f.Key.Value {
		case "url":
			c.URL = secret(s, f.Value, "webhook.url")
		case "secret":
			c.Secret = secret(s, f.Value, "webhook.secret")
		case "format":
			c.Format, _ = s.String(f.Value, "webhook.format")
		case "headers":
			c.Headers = secrets(s, f.Value, "webhook.headers")
		case "timeout":
			c.Timeout, _ = s.Duration(f.Value, "webhook.timeout")
		}
	}
	return validate(s, c)
}

func decodeSMTP(s *config.Section) any {
	c := &SMTPConfig{}
	for _, f := range fields(s, "host", "from", "to", "username", "password", "tls", "auth", "ca_file", "timeout") {
		switch f.Key.Value {
		case "host":
			c.Host, _ = s.String(f.Value, "smtp.host")
		case "from":
			c.From, _ = s.String(f.Value, "smtp.from")
		case "to":
			for i, item := range s.Strings(f.Value, "smtp.to") {
				s.At[fmt.Sprintf("smtp.to[%d]", i)] = config.PosOf(item)
				c.To = append(c.To, s.Value(item).Value)
			}
		case "username":
			c.Username = secret(s, f.Value, "smtp.username")
		case "password":
			c.Password = secret(s, f.Value, "smtp.password")
		case "tls":
			c.TLS, _ = s.String(f.Value, "smtp.tls")
		case "auth":
			c.Auth, _ = s.String(f.Value, "smtp.auth")
		case "ca_file":
			c.CAFile, _ = s.Path(f.Value, "smtp.ca_file")
		case "timeout":
			c.Timeout, _ = s.Duration(f.Value, "smtp.timeout")
		}
	}
	return validate(s, c)
}

func decodeExec(s *config.Section) any {
	c := &ExecConfig{}
	for _, f := range fields(s, "command", "env", "dir", "timeout") {
		switch f.Key.Value {
		case "command":
			c.Command, _ = s.Command(f.Value, "exec.command")
		case "env":
			c.Env = secrets(s, f.Value, "exec.env")
		case "dir":
			c.Dir, _ = s.Path(f.Value, "exec.dir")
		case "timeout":
			c.Timeout, _ = s.Duration(f.Value, "exec.timeout")
		}
	}
	return validate(s, c)
}

func decodeSyslog(s *config.Section) any {
	c := &SyslogConfig{}
	for _, f := range fields(s, "network", "address", "facility", "tag") {
		switch f.Key.Value {
		case "network":
			c.Network, _ = s.String(f.Value, "syslog.network")
		case "address":
			c.Address, _ = s.String(f.Value, "syslog.address")
		case "facility":
			c.Facility, _ = s.String(f.Value, "syslog.facility")
		case "tag":
			c.Tag, _ = s.String(f.Value, "syslog.tag")
		}
	}
	return validate(s, c)
}

func decodeEventLog(s *config.Section) any {
	c := &EventLogConfig{}
	for _, f := range fields(s, "source", "event_id") {
		switch f.Key.Value {
		case "source":
			c.Source, _ = s.String(f.Value, "eventlog.source")
		case "event_id":
			if id, ok := s.Count(f.Value, "eventlog.event_id"); ok {
				if id > 0xFFFF {
					s.Errorf(f.Value, "eventlog.event_id must be at most 65535")
				} else {
					c.EventID = uint32(id)
				}
			}
		}
	}
	return validate(s, c)
}
