package notify

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// mailbox is an SMTP server backend that keeps what it receives.
type mailbox struct {
	mu    sync.Mutex
	mails []received
	user  string // "" accepts no authentication
	pass  string
}

type received struct {
	from   string
	to     []string
	data   string
	authed string
	tls    bool
}

func (mb *mailbox) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{mb: mb, conn: c}, nil
}

type session struct {
	mb   *mailbox
	conn *smtp.Conn
	cur  received
}

func (s *session) AuthMechanisms() []string {
	if s.mb.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if user != s.mb.user || pass != s.mb.pass {
			return errors.New("invalid credentials")
		}
		s.cur.authed = user
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.mb.user != "" && s.cur.authed == "" {
		return &smtp.SMTPError{Code: 530, Message: "authentication required"}
	}
	s.cur.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.cur.to = append(s.cur.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.data = string(b)
	_, s.cur.tls = s.conn.TLSConnectionState()
	s.mb.mu.Lock()
	s.mb.mails = append(s.mb.mails, s.cur)
	s.mb.mu.Unlock()
	return nil
}

func (s *session) Reset()        { s.cur = received{authed: s.cur.authed} }
func (s *session) Logout() error { return nil }

// testCert returns a self-signed certificate for 127.0.0.1 and localhost,
// and the path of its PEM file.
func testCert(t *testing.T) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "steward test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, path
}

// startSMTP starts an SMTP server on 127.0.0.1 speaking TLS from the start
// when implicit is set, else offering STARTTLS, and returns its address.
func startSMTP(t *testing.T, mb *mailbox, cert tls.Certificate, implicit bool) string {
	t.Helper()
	s := smtp.NewServer(mb)
	s.Domain = "localhost"
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	if cert.PrivateKey != nil {
		s.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	}
	var (
		l   net.Listener
		err error
	)
	if implicit {
		l, err = tls.Listen("tcp", "127.0.0.1:0", s.TLSConfig)
	} else {
		l, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	return l.Addr().String()
}

func TestSMTP(t *testing.T) {
	cert, caFile := testCert(t)
	t.Setenv("STEWARD_TEST_SMTP_PW", "pw-secret")
	m := testMessage()
	for _, tt := range []struct {
		name     string
		tls      string
		implicit bool
		auth     bool
	}{
		{"starttls with auth", TLSStartTLS, false, true},
		{"default is starttls", "", false, true},
		{"implicit tls with auth", TLSImplicit, true, true},
		{"plain without auth", TLSNone, false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mb := &mailbox{}
			c := SMTPConfig{From: "steward@example.com", To: []string{"ops@example.com", "oncall@example.com"}, TLS: tt.tls, CAFile: caFile}
			if tt.auth {
				mb.user, mb.pass = "steward", "pw-secret"
				c.Username, c.Password = "steward", "${env:STEWARD_TEST_SMTP_PW}"
			}
			srvCert := cert
			if tt.tls == TLSNone {
				srvCert = tls.Certificate{}
			}
			c.Host = startSMTP(t, mb, srvCert, tt.implicit)
			n, err := NewSMTP(c, Resolver{})
			if err != nil {
				t.Fatal(err)
			}
			if err := n.Notify(context.Background(), m); err != nil {
				t.Fatalf("Notify: %v", err)
			}
			mb.mu.Lock()
			defer mb.mu.Unlock()
			if len(mb.mails) != 1 {
				t.Fatalf("%d mails received, want 1", len(mb.mails))
			}
			got := mb.mails[0]
			if got.from != "steward@example.com" || strings.Join(got.to, ",") != "ops@example.com,oncall@example.com" {
				t.Errorf("envelope = %s -> %v", got.from, got.to)
			}
			if got.tls != (tt.tls != TLSNone) {
				t.Errorf("tls = %v", got.tls)
			}
			if tt.auth && got.authed != "steward" {
				t.Errorf("authenticated as %q, want steward", got.authed)
			}
			for _, want := range []string{
				"Subject: [FIRING] critical: disk on /var (and 2 more) on node web-01",
				"Message-ID: <k-123@steward>",
				"X-Steward-Key: k-123",
				"Date: Sun, 01 Mar 2026 12:00:00 +0000",
				"FIRING critical disk on /var: 93% used soon full",
			} {
				if !strings.Contains(got.data, want) {
					t.Errorf("mail lacks %q:\n%s", want, got.data)
				}
			}
		})
	}
}

func TestSMTPFailures(t *testing.T) {
	cert, caFile := testCert(t)
	m := testMessage()

	mb := &mailbox{user: "steward", pass: "right"}
	addr := startSMTP(t, mb, cert, false)
	wrong, err := NewSMTP(SMTPConfig{Host: addr, From: "a@b.c", To: []string{"d@e.f"}, Username: "steward", Password: "wrong-pw", CAFile: caFile}, Resolver{})
	if err != nil {
		t.Fatal(err)
	}
	if err := wrong.Notify(context.Background(), m); err == nil || strings.Contains(err.Error(), "wrong-pw") {
		t.Errorf("wrong password: err = %v, want one without the password", err)
	}

	// Without our CA the server's certificate is not trusted.
	untrusted, _ := NewSMTP(SMTPConfig{Host: addr, From: "a@b.c", To: []string{"d@e.f"}, Username: "steward", Password: "right"}, Resolver{})
	if err := untrusted.Notify(context.Background(), m); err == nil {
		t.Error("an untrusted certificate was accepted")
	}

	// STARTTLS is mandatory: a server without it is refused.
	plain := startSMTP(t, &mailbox{}, tls.Certificate{}, false)
	n, _ := NewSMTP(SMTPConfig{Host: plain, From: "a@b.c", To: []string{"d@e.f"}}, Resolver{})
	if err := n.Notify(context.Background(), m); err == nil {
		t.Error("a server without STARTTLS was used")
	}

	// Nobody listening.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := l.Addr().String()
	l.Close()
	n, _ = NewSMTP(SMTPConfig{Host: dead, From: "a@b.c", To: []string{"d@e.f"}, TLS: TLSNone, Timeout: time.Second}, Resolver{})
	if err := n.Notify(context.Background(), m); err == nil {
		t.Error("sending to a closed port succeeded")
	}
}

func TestSMTPValidate(t *testing.T) {
	ok := SMTPConfig{Host: "smtp.example.com:587", From: "steward@example.com", To: []string{"ops@example.com"}}
	with := func(f func(*SMTPConfig)) SMTPConfig { c := ok; f(&c); return c }
	for _, tt := range []struct {
		c    SMTPConfig
		errs []string
	}{
		{ok, nil},
		{with(func(c *SMTPConfig) {
			c.Host = "smtp.example.com"
			c.Username, c.Password, c.Auth = "u", "${file:pw}", AuthLogin
		}), nil},
		{SMTPConfig{}, []string{"host: is required", "from: is required", "to: needs at least one"}},
		{with(func(c *SMTPConfig) { c.Host = "h:99999" }), []string{"host: invalid port"}},
		{with(func(c *SMTPConfig) { c.Host = "h:x" }), []string{"host: invalid port"}},
		{with(func(c *SMTPConfig) { c.Host = ":25" }), []string{"host: invalid host"}},
		{with(func(c *SMTPConfig) { c.Host = "[::1" }), []string{"host: invalid host"}},
		{with(func(c *SMTPConfig) { c.From = "not an address"; c.To = []string{"ok@x.y", "bad"} }), []string{"from: invalid address", "to[1]: invalid address"}},
		{with(func(c *SMTPConfig) { c.TLS = "ssl"; c.Auth = "xoauth" }), []string{"tls: unknown value", "auth: unknown mechanism", "auth: needs a username"}},
		{with(func(c *SMTPConfig) { c.Password = "p" }), []string{"username: is required with a password"}},
		{with(func(c *SMTPConfig) { c.Username = "u" }), []string{"password: is required with a username"}},
		{with(func(c *SMTPConfig) { c.Auth = AuthPlain }), []string{"auth: needs a username"}},
		{with(func(c *SMTPConfig) { c.Username, c.Password, c.TLS = "u", "p", TLSNone }), []string{"tls: none would send the password"}},
		{with(func(c *SMTPConfig) { c.Username, c.Password, c.Timeout = "${x}", "${y}", -1 }), []string{"username: invalid", "password: invalid", "timeout: must not"}},
	} {
		checkProblems(t, fmt.Sprintf("%+v", tt.c), tt.c.Validate(), tt.errs)
	}

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "notpem"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		c   SMTPConfig
		err string
	}{
		{SMTPConfig{}, "host: is required"},
		{with(func(c *SMTPConfig) { c.CAFile = "missing.pem" }), "ca_file:"},
		{with(func(c *SMTPConfig) { c.CAFile = "notpem" }), "ca_file: no PEM certificate"},
		{with(func(c *SMTPConfig) { c.Username, c.Password = "${env:STEWARD_NOPE}", "p" }), "username: environment variable STEWARD_NOPE"},
		{with(func(c *SMTPConfig) { c.Username, c.Password = "u", "${env:STEWARD_NOPE}" }), "password: environment variable STEWARD_NOPE"},
	} {
		if _, err := NewSMTP(tt.c, Resolver{Dir: dir}); err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("NewSMTP(%+v) = %v, want %q", tt.c, err, tt.err)
		}
	}
	for _, tt := range []struct {
		c    SMTPConfig
		port int
		auth string
	}{
		{with(func(c *SMTPConfig) { c.Host = "h" }), 587, "NOAUTH"},
		{with(func(c *SMTPConfig) { c.Host, c.TLS = "h", TLSImplicit }), 465, "NOAUTH"},
		{with(func(c *SMTPConfig) { c.Host, c.TLS = "h", TLSNone }), 25, "NOAUTH"},
		{with(func(c *SMTPConfig) { c.Username, c.Password = "u", "p" }), 587, "PLAIN"},
		{with(func(c *SMTPConfig) { c.Username, c.Password, c.Auth = "u", "p", AuthLogin }), 587, "LOGIN"},
		{with(func(c *SMTPConfig) { c.Username, c.Password, c.Auth = "u", "p", AuthCramMD5 }), 587, "CRAM-MD5"},
	} {
		n, err := NewSMTP(tt.c, Resolver{})
		if err != nil {
			t.Fatal(err)
		}
		if n.port != tt.port || string(n.auth) != tt.auth {
			t.Errorf("NewSMTP(%+v): port %d auth %s, want %d %s", tt.c, n.port, n.auth, tt.port, tt.auth)
		}
	}
}
