package notify

// Config is one entry of the notify: section: exactly one kind of notifier.
type Config struct {
	Webhook  *WebhookConfig  `json:"webhook,omitempty"`
	SMTP     *SMTPConfig     `json:"smtp,omitempty"`
	Exec     *ExecConfig     `json:"exec,omitempty"`
	Syslog   *SyslogConfig   `json:"syslog,omitempty"`
	EventLog *EventLogConfig `json:"eventlog,omitempty"`
}

// Kind returns the name of the kind c sets ("webhook", "smtp", "exec",
// "syslog" or "eventlog"), or "" when it sets none or more than one.
func (c Config) Kind() string {
	kinds := c.kinds()
	if len(kinds) != 1 {
		return ""
	}
	return kinds[0]
}

func (c Config) kinds() []string {
	var ks []string
	if c.Webhook != nil {
		ks = append(ks, "webhook")
	}
	if c.SMTP != nil {
		ks = append(ks, "smtp")
	}
	if c.Exec != nil {
		ks = append(ks, "exec")
	}
	if c.Syslog != nil {
		ks = append(ks, "syslog")
	}
	if c.EventLog != nil {
		ks = append(ks, "eventlog")
	}
	return ks
}

// Validate reports every problem with c, with fields such as "webhook.url".
func (c Config) Validate() error {
	var p Problems
	switch ks := c.kinds(); len(ks) {
	case 0:
		p.Add("", "needs one of webhook, smtp, exec, syslog or eventlog")
	case 1:
	default:
		p.Add(ks[1], "only one kind per notifier, and %s is already set", ks[0])
	}
	if c.Webhook != nil {
		p.Nest("webhook", c.Webhook.Validate())
	}
	if c.SMTP != nil {
		p.Nest("smtp", c.SMTP.Validate())
	}
	if c.Exec != nil {
		p.Nest("exec", c.Exec.Validate())
	}
	if c.Syslog != nil {
		p.Nest("syslog", c.Syslog.Validate())
	}
	if c.EventLog != nil {
		p.Nest("eventlog", c.EventLog.Validate())
	}
	return p.Err()
}

// New validates c, expands its secrets with r and returns its notifier. It
// has no side effects: nothing is connected, started or written.
func New(c Config, r Resolver) (Notifier, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	var (
		n   Notifier
		err error
	)
	switch c.Kind() {
	case "webhook":
		n, err = NewWebhook(*c.Webhook, r)
	case "smtp":
		n, err = NewSMTP(*c.SMTP, r)
	case "exec":
		n, err = NewExec(*c.Exec, r)
	case "syslog":
		n, err = NewSyslog(*c.Syslog)
	case "eventlog":
		n, err = NewEventLog(*c.EventLog)
	}
	if err != nil {
		var p Problems
		p.Nest(c.Kind(), err)
		return nil, p.Err()
	}
	return n, nil
}
