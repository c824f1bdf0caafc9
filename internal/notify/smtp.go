package notify

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	netmail "net/mail"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	mail "github.com/wneessen/go-mail"
)

// SMTP transport security.
const (
	TLSStartTLS = "starttls" // plain connection upgraded with STARTTLS, which must succeed (default; port 587)
	TLSImplicit = "tls"      // TLS from the first byte (port 465)
	TLSNone     = "none"     // no encryption (port 25); no authentication allowed
)

// SMTP authentication mechanisms.
const (
	AuthPlain   = "plain"
	AuthLogin   = "login"
	AuthCramMD5 = "cram-md5"
)

// DefaultSMTPTimeout bounds connecting and each SMTP command when Timeout is 0.
const DefaultSMTPTimeout = 30 * time.Second

// SMTPConfig configures an SMTP notifier.
type SMTPConfig struct {
	// Host is "host" or "host:port"; the port defaults to 587 with
	// starttls, 465 with tls and 25 with none.
	Host     string   `json:"host"`
	From     string   `json:"from"`
	To       []string `json:"to"`
	Username Secret   `json:"username,omitempty"`
	Password Secret   `json:"password,omitempty"`
	TLS      string   `json:"tls,omitempty"`  // TLSStartTLS (default), TLSImplicit or TLSNone
	Auth     string   `json:"auth,omitempty"` // AuthPlain (default with a username), AuthLogin or AuthCramMD5
	// CAFile is a PEM file of certificates trusted besides the system's,
	// for a server with a private CA. A relative path starts from the
	// Resolver's Dir.
	CAFile  string        `json:"ca_file,omitempty"`
	Timeout time.Duration `json:"timeout,omitempty"`
}

// Validate reports every problem with c.
func (c SMTPConfig) Validate() error {
	var p Problems
	if c.Host == "" {
		p.Add("host", "is required")
	} else if _, _, err := splitHostPort(c.Host, 0); err != nil {
		p.Add("host", "%v", err)
	}
	if c.From == "" {
		p.Add("from", "is required")
	} else if _, err := netmail.ParseAddress(c.From); err != nil {
		p.Add("from", "invalid address %q", c.From)
	}
	if len(c.To) == 0 {
		p.Add("to", "needs at least one address")
	}
	for i, to := range c.To {
		if _, err := netmail.ParseAddress(to); err != nil {
			p.Add(fmt.Sprintf("to[%d]", i), "invalid address %q", to)
		}
	}
	switch c.TLS {
	case "", TLSStartTLS, TLSImplicit, TLSNone:
	default:
		p.Add("tls", "unknown value %q, want starttls, tls or none", c.TLS)
	}
	switch c.Auth {
	case "", AuthPlain, AuthLogin, AuthCramMD5:
	default:
		p.Add("auth", "unknown mechanism %q, want plain, login or cram-md5", c.Auth)
	}
	switch {
	case c.Username == "" && c.Password != "":
		p.Add("username", "is required with a password")
	case c.Username != "" && c.Password == "":
		p.Add("password", "is required with a username")
	case c.Username == "" && c.Auth != "":
		p.Add("auth", "needs a username and password")
	case c.Username != "" && c.TLS == TLSNone:
		p.Add("tls", "none would send the password in clear: use starttls or tls")
	}
	if err := CheckSecretRefs(c.Username); err != nil {
		p.Add("username", "%v", err)
	}
	if err := CheckSecretRefs(c.Password); err != nil {
		p.Add("password", "%v", err)
	}
	if c.Timeout < 0 {
		p.Add("timeout", "must not be negative")
	}
	return p.Err()
}

// splitHostPort splits "host[:port]", using def when there is no port.
func splitHostPort(s string, def int) (string, int, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		if strings.Contains(err.Error(), "missing port") {
			return s, def, nil
		}
		return "", 0, fmt.Errorf("invalid host %q, want host or host:port", s)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "", 0, fmt.Errorf("invalid port %q", port)
	}
	if host == "" {
		return "", 0, fmt.Errorf("invalid host %q: no host name", s)
	}
	return host, n, nil
}

// SMTP sends each message as an email. It is safe for concurrent use: each
// Notify opens its own connection.
type SMTP struct {
	host     string
	port     int
	from     string
	to       []string
	username string
	password string
	tls      string
	auth     mail.SMTPAuthType
	tlsConf  *tls.Config
	timeout  time.Duration
}

var _ Notifier = (*SMTP)(nil)

// NewSMTP validates c, expands its secrets with r, reads its CA file and
// returns the notifier. It does not connect.
func NewSMTP(c SMTPConfig, r Resolver) (*SMTP, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	s := &SMTP{from: c.From, to: c.To, tls: cmp.Or(c.TLS, TLSStartTLS), timeout: c.Timeout}
	if s.timeout == 0 {
		s.timeout = DefaultSMTPTimeout
	}
	def := 587
	switch s.tls {
	case TLSImplicit:
		def = 465
	case TLSNone:
		def = 25
	}
	s.host, s.port, _ = splitHostPort(c.Host, def)
	u, err := ExpandSecrets(c.Username, r)
	if err != nil {
		return nil, &FieldError{Field: "username", Msg: err.Error()}
	}
	pw, err := ExpandSecrets(c.Password, r)
	if err != nil {
		return nil, &FieldError{Field: "password", Msg: err.Error()}
	}
	s.username, s.password = u.Reveal(), pw.Reveal()
	switch {
	case s.username == "":
		s.auth = mail.SMTPAuthNoAuth
	case c.Auth == AuthLogin:
		s.auth = mail.SMTPAuthLogin
	case c.Auth == AuthCramMD5:
		s.auth = mail.SMTPAuthCramMD5
	default:
		s.auth = mail.SMTPAuthPlain
	}
	s.tlsConf = &tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12}
	if c.CAFile != "" {
		path := c.CAFile
		if !filepath.IsAbs(path) && r.Dir != "" {
			path = filepath.Join(r.Dir, path)
		}
		pem, err := os.ReadFile(path)
		if err != nil {
			return nil, &FieldError{Field: "ca_file", Msg: err.Error()}
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, &FieldError{Field: "ca_file", Msg: "no PEM certificate in " + path}
		}
		s.tlsConf.RootCAs = pool
	}
	return s, nil
}

// Notify sends m as one email to every recipient.
func (s *SMTP) Notify(ctx context.Context, m Message) error {
	msg := mail.NewMsg(mail.WithNoDefaultUserAgent())
	if err := msg.From(s.from); err != nil {
		return fmt.Errorf("smtp: from: %w", err)
	}
	if err := msg.To(s.to...); err != nil {
		return fmt.Errorf("smtp: to: %w", err)
	}
	msg.Subject(m.Title())
	msg.SetBodyString(mail.TypeTextPlain, m.Text()+"\n-- \nsteward notification "+m.Key+"\n")
	if m.Key != "" {
		// Retries carry the same Message-ID, so that mail systems can drop
		// duplicates.
		msg.SetMessageIDWithValue(m.Key + "@steward")
		msg.SetGenHeader("X-Steward-Key", m.Key)
	}
	if !m.Time.IsZero() {
		msg.SetDateWithValue(m.Time)
	} else {
		msg.SetDate()
	}
	msg.SetGenHeader(mail.HeaderXMailer, "steward")
	if r := m.Report; r != nil && r.Attach() {
		// Checked before connecting: a report removed since is an error
		// the outbox retries, not a mail without its file.
		if fi, err := os.Stat(r.Path); err != nil {
			return fmt.Errorf("smtp: report: %w", err)
		} else if fi.Size() > MaxAttachment {
			return fmt.Errorf("smtp: report %s grew to %d bytes, over the %d bytes an email attaches", r.Path, fi.Size(), MaxAttachment)
		}
		msg.AttachFile(r.Path, mail.WithFileName(r.Name), mail.WithFileContentType(mail.ContentType(r.ContentType)),
			mail.WithFileEncoding(mail.EncodingB64))
	}

	opts := []mail.Option{
		mail.WithPort(s.port),
		mail.WithTimeout(s.timeout),
		mail.WithTLSConfig(s.tlsConf),
		mail.WithSMTPAuth(s.auth),
	}
	switch s.tls {
	case TLSImplicit:
		opts = append(opts, mail.WithSSL())
	case TLSNone:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if s.auth != mail.SMTPAuthNoAuth {
		opts = append(opts, mail.WithUsername(s.username), mail.WithPassword(s.password))
	}
	c, err := mail.NewClient(s.host, opts...)
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("smtp: send to %s:%d: %w", s.host, s.port, err)
	}
	return nil
}
