package notify

import (
	"fmt"
	"path/filepath"

	"github.com/stewardhq/steward/internal/config"
)

// Spec is the settings of one type of notifier, as its decoder in Types
// returns them and config.Notifier.Spec holds them: a *WebhookConfig,
// *SMTPConfig, *ExecConfig, *SyslogConfig or *EventLogConfig.
type Spec interface {
	// Validate reports every problem with the settings, with fields such
	// as "url".
	Validate() error
	build(r Resolver) (Notifier, error)
}

var (
	_ Spec = (*WebhookConfig)(nil)
	_ Spec = (*SMTPConfig)(nil)
	_ Spec = (*ExecConfig)(nil)
	_ Spec = (*SyslogConfig)(nil)
	_ Spec = (*EventLogConfig)(nil)
)

func (c *WebhookConfig) build(r Resolver) (Notifier, error) { return NewWebhook(*c, r) }
func (c *SMTPConfig) build(r Resolver) (Notifier, error)    { return NewSMTP(*c, r) }
func (c *ExecConfig) build(r Resolver) (Notifier, error)    { return NewExec(*c, r) }
func (c *SyslogConfig) build(Resolver) (Notifier, error)    { return NewSyslog(*c) }
func (c *EventLogConfig) build(Resolver) (Notifier, error)  { return NewEventLog(*c) }

// New validates s, expands its secrets with r and returns its notifier. It
// has no side effects: nothing is connected, started or written.
func New(s Spec, r Resolver) (Notifier, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s.build(r)
}

// Build builds the notifiers of cfg's notify: section with their secrets
// resolved: ${env:NAME} from steward's environment and ${file:PATH} from
// files, a relative PATH starting from the configuration file's directory.
// A reference that cannot be resolved, or any other problem, is a
// config.ErrorList at its position. It connects to nothing and starts
// nothing; the values it resolves live only in the notifiers, which never
// print them.
func Build(cfg *config.Config) (map[string]Notifier, error) {
	r := Resolver{}
	if cfg.File != "" {
		r.Dir = filepath.Dir(cfg.File)
	}
	out := make(map[string]Notifier, len(cfg.Notify))
	var errs config.ErrorList
	for _, name := range cfg.NotifyOrder {
		nc := cfg.Notify[name]
		s, ok := nc.Spec.(Spec)
		if !ok {
			errs = append(errs, cfg.ErrorAt(nc.At[""], "notifier %q: type %q is not one of this steward's notifiers", name, nc.Type))
			continue
		}
		n, err := New(s, r)
		if err != nil {
			var p Problems
			p.Nest(nc.Type, err)
			for _, fe := range FieldErrors(p.Err()) {
				errs = append(errs, cfg.ErrorAt(nc.At.Find(fe.Field), "%s", notifierMsg(name, fe.Field, fe.Msg)))
			}
			continue
		}
		out[name] = n
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

func notifierMsg(name, field, msg string) string {
	if field == "" {
		return fmt.Sprintf("notifier %q: %s", name, msg)
	}
	return fmt.Sprintf("notifier %q: %s: %s", name, field, msg)
}
