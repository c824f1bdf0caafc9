package main

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/testwait"
)

// smtpInbox is an SMTP server backend (no TLS, no authentication) that
// keeps the data of each mail it receives.
type smtpInbox struct {
	mu    sync.Mutex
	mails []string
}

func (in *smtpInbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &inboxSession{in: in}, nil }

type inboxSession struct{ in *smtpInbox }

func (s *inboxSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *inboxSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *inboxSession) Reset()                               {}
func (s *inboxSession) Logout() error                        { return nil }
func (s *inboxSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.in.mu.Lock()
	s.in.mails = append(s.in.mails, string(b))
	s.in.mu.Unlock()
	return nil
}

// startInbox serves an smtpInbox on a loopback port and returns it with
// its address.
func startInbox(t *testing.T) (*smtpInbox, string) {
	t.Helper()
	in := &smtpInbox{}
	s := smtp.NewServer(in)
	s.Domain = "localhost"
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	return in, l.Addr().String()
}

// waitMails waits until the inbox holds n mails and returns them.
func (in *smtpInbox) waitMails(t *testing.T, n int) []string {
	t.Helper()
	var mails []string
	testwait.NoError(t, 20*time.Second, func() error {
		in.mu.Lock()
		mails = append([]string(nil), in.mails...)
		in.mu.Unlock()
		if len(mails) < n {
			return fmt.Errorf("%d mails, want %d", len(mails), n)
		}
		return nil
	})
	return mails
}

// attachment parses a mail with net/mail and mime/multipart and returns
// its subject, its text and its one attachment: name, media type and
// decoded content.
func attachment(t *testing.T, data string) (subject, text, name, ctype string, content []byte) {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		t.Fatalf("mail Content-Type %q, want multipart/mixed:\n%s", msg.Header.Get("Content-Type"), data)
	}
	dec := new(mime.WordDecoder)
	subject, _ = dec.DecodeHeader(msg.Header.Get("Subject"))
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if p.FileName() == "" {
			text = string(b) // quoted-printable: multipart decodes it
			continue
		}
		if enc := p.Header.Get("Content-Transfer-Encoding"); enc != "base64" {
			t.Fatalf("attachment encoding %q, want base64", enc)
		}
		if content, err = base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(b)), "")); err != nil {
			t.Fatal(err)
		}
		name, ctype = p.FileName(), pt
	}
}

// TestReportJobEndToEnd: a real steward runs report jobs: the XLSX one
// mails its file as an attachment that opens as a workbook and posts its
// path, size, digest and dashboard link to a webhook that was down when
// the job ran (the outbox delivers it once it is back); the CSV one
// replaces one file and mails it as CSV.
func TestReportJobEndToEnd(t *testing.T) {
	quickExit(t)
	setSecrets(t)
	inbox, smtpAddr := startInbox(t)
	rcv := newReceiver(t, nil)
	rcv.setFailing(true)
	web := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	e := newEnv(t, fmt.Sprintf(`
web: {listen: "%s"}
notify:
  mail: {smtp: {host: "%s", tls: none, from: steward@example.com, to: [ops@example.com]}}
  hook: {webhook: {url: "%s/hook?token=${env:STEWARD_E2E_TOKEN}"}}
notifications: {min_backoff: 100ms, max_backoff: 200ms}
services:
  api: {command: ["{{prog}}", "-sleep", "1h"]}
jobs:
  weekly: {report: {since: 7d, format: xlsx, notify: [mail, hook]}}
  latest: {report: {since: 1h, services: [api], format: csv, out: out/latest.csv, notify: mail}}
`, web, smtpAddr, rcv.url))
	e.run()
	e.waitState("api", steward.StateRunning)

	if code, out, stderr := e.steward("jobs", "run", "weekly", "--wait"); code != 0 || !strings.Contains(out, "succeeded") {
		t.Fatalf("jobs run weekly: exit %d, %q %q", code, out, stderr)
	}
	runs := e.runsJSON("weekly")
	id := strconv.Itoa(int(runs[0]["id"].(float64)))
	code, logs, _ := e.steward("runs", "logs", id)
	dir := filepath.Join(e.dir, "reports")
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) != 1 || !strings.HasPrefix(ents[0].Name(), "weekly-") || !strings.HasSuffix(ents[0].Name(), ".xlsx") {
		t.Fatalf("reports dir = %v (%v)", ents, err)
	}
	path := filepath.Join(dir, ents[0].Name())
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(file)
	digest := hex.EncodeToString(sum[:])
	if code != 0 || !strings.Contains(logs, "report "+path) || !strings.Contains(logs, digest) ||
		!strings.Contains(logs, "notify mail: queued") || !strings.Contains(logs, "notify hook: queued") {
		t.Errorf("runs logs %s: exit %d:\n%s", id, code, logs)
	}

	subject, text, name, ctype, content := attachment(t, inbox.waitMails(t, 1)[0])
	if !strings.HasPrefix(subject, "steward report weekly: ") || name != ents[0].Name() ||
		ctype != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" || !bytes.Equal(content, file) {
		t.Errorf("mail %q: attachment %q %s, %d bytes (file %d)", subject, name, ctype, len(content), len(file))
	}
	if !strings.Contains(text, "sha256: "+digest) || !strings.Contains(text, "link: http://"+web+"/v1/report?") {
		t.Errorf("mail text:\n%s", text)
	}
	zr, err := zip.NewReader(bytes.NewReader(content), int64(len(content)))
	if err != nil {
		t.Fatalf("the attachment is not a zip: %v", err)
	}
	found := false
	for _, f := range zr.File {
		found = found || f.Name == "xl/workbook.xml"
	}
	if !found {
		t.Error("the attachment has no xl/workbook.xml")
	}

	// The webhook was down: the notification waits in the outbox, then
	// goes once the receiver is back.
	testwait.NoError(t, 10*time.Second, func() error {
		list := e.notifications("--state", "pending")
		if len(list) != 1 || list[0].Notifier != "hook" || list[0].Attempts < 2 {
			return fmt.Errorf("pending notifications = %+v", list)
		}
		return nil
	})
	rcv.setFailing(false)
	r := rcv.waitDeliveries(1)[0].msg.Report
	if r == nil || r.Path != path || r.Size != int64(len(file)) || r.SHA256 != digest {
		t.Fatalf("webhook report = %+v", r)
	}
	u, err := url.Parse(r.URL)
	if err != nil || u.Host != web || u.Path != "/v1/report" || u.Query().Get("format") != "xlsx" {
		t.Errorf("webhook link = %q", r.URL)
	}

	// A file out: replaced by each run, a CSV attachment that parses.
	for range 2 {
		if code, out, stderr := e.steward("jobs", "run", "latest", "--wait"); code != 0 {
			t.Fatalf("jobs run latest: exit %d, %q %q", code, out, stderr)
		}
	}
	mails := inbox.waitMails(t, 3)
	_, _, name, ctype, content = attachment(t, mails[2])
	rows, err := csv.NewReader(bytes.NewReader(content)).ReadAll()
	if err != nil || name != "latest.csv" || ctype != "text/csv" || len(rows) != 2 || rows[1][0] != "api" {
		t.Errorf("csv attachment %q %s: %q (%v)", name, ctype, rows, err)
	}
	if ents, _ := os.ReadDir(filepath.Join(e.dir, "out")); len(ents) != 1 {
		t.Errorf("out holds %v, want latest.csv alone", ents)
	}
}
