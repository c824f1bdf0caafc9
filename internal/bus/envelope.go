package bus

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"
)

// The types of message of the envelope.
const (
	TypeCommand  = "command"
	TypeEvent    = "event"
	TypeQuery    = "query"
	TypeResponse = "response"
)

// The headers of the envelope.
const (
	HeaderType          = "Steward-Type"
	HeaderID            = "Nats-Msg-Id" // also JetStream's deduplication id
	HeaderSource        = "Steward-Source"
	HeaderCorrelationID = "Steward-Correlation-Id"
	HeaderReplyTo       = "Steward-Reply-To"
	HeaderTime          = "Steward-Time"
)

// Limits of the envelope's fields.
const (
	maxID      = 128
	maxSource  = 256
	maxSubject = 1024
	maxHeaders = 64
	maxValue   = 4096
)

// Message is one message on the bus with steward's envelope. A message
// from a client that knows no envelope has only Subject, Header and Data.
type Message struct {
	Subject       string
	Type          string // TypeCommand, TypeEvent, TypeQuery, TypeResponse or ""
	ID            string
	Source        string
	CorrelationID string
	ReplyTo       string
	Time          time.Time
	// Header holds the other headers, one value each.
	Header map[string]string
	Data   []byte
	// Stream and Seq locate a message read from a stream; "" and 0 for a
	// live one.
	Stream string
	Seq    uint64
}

// NewID returns a new unique message id.
func NewID() string { return nuid.Next() }

// msg returns m as a NATS message, its envelope in the headers.
func (m Message) msg() *nats.Msg {
	out := nats.NewMsg(m.Subject)
	out.Data = m.Data
	for k, v := range m.Header {
		out.Header.Set(k, v)
	}
	for _, h := range [][2]string{
		{HeaderType, m.Type}, {HeaderID, m.ID}, {HeaderSource, m.Source},
		{HeaderCorrelationID, m.CorrelationID}, {HeaderReplyTo, m.ReplyTo},
	} {
		if h[1] != "" {
			out.Header.Set(h[0], h[1])
		}
	}
	if !m.Time.IsZero() {
		out.Header.Set(HeaderTime, m.Time.UTC().Format(time.RFC3339Nano))
	}
	return out
}

// Headers returns m's envelope and headers as NATS headers.
func (m Message) Headers() nats.Header { return m.msg().Header }

// Parse reads the envelope of the NATS message msg. It refuses an
// envelope whose fields are not valid: an unknown type, an id or
// correlation id that is empty, too long or not printable ASCII, a
// reply-to that is no subject to publish to, a time that is not RFC 3339,
// a header given twice.
func Parse(msg *nats.Msg) (Message, error) {
	m := Message{Subject: msg.Subject, Data: msg.Data}
	if len(msg.Header) > maxHeaders {
		return Message{}, fmt.Errorf("envelope: %d headers, at most %d", len(msg.Header), maxHeaders)
	}
	for k, vs := range msg.Header {
		if len(vs) != 1 {
			return Message{}, fmt.Errorf("envelope: header %s given %d times", k, len(vs))
		}
		v := vs[0]
		if len(v) > maxValue || !printable(v, true) {
			return Message{}, fmt.Errorf("envelope: header %s: not printable text of at most %d bytes", k, maxValue)
		}
		var err error
		switch k {
		case HeaderType:
			switch v {
			case TypeCommand, TypeEvent, TypeQuery, TypeResponse:
				m.Type = v
			default:
				err = fmt.Errorf("%q is not command, event, query or response", v)
			}
		case HeaderID:
			m.ID, err = token(v, maxID)
		case HeaderCorrelationID:
			m.CorrelationID, err = token(v, maxID)
		case HeaderSource:
			if v == "" || len(v) > maxSource {
				err = fmt.Errorf("want 1 to %d bytes", maxSource)
			}
			m.Source = v
		case HeaderReplyTo:
			err = CheckSubject(v, false)
			m.ReplyTo = v
		case HeaderTime:
			m.Time, err = time.Parse(time.RFC3339Nano, v)
		default:
			if m.Header == nil {
				m.Header = map[string]string{}
			}
			m.Header[k] = v
		}
		if err != nil {
			return Message{}, fmt.Errorf("envelope: header %s: %w", k, err)
		}
	}
	return m, nil
}

// token checks an id: 1 to max bytes of printable ASCII without spaces.
func token(v string, max int) (string, error) {
	if v == "" || len(v) > max || !printable(v, false) {
		return "", fmt.Errorf("want 1 to %d printable ASCII characters without spaces", max)
	}
	return v, nil
}

// printable reports whether s is printable ASCII, with spaces when spaces.
func printable(s string, spaces bool) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e {
			if !(spaces && c == ' ') {
				return false
			}
		}
	}
	return true
}

// CheckSubject checks a subject: dot-separated tokens of printable
// characters without spaces, at most maxSubject bytes; the wildcards * and
// > are tokens of a subject to subscribe to only, > the last.
func CheckSubject(s string, wildcards bool) error {
	if s == "" || len(s) > maxSubject || !utf8.ValidString(s) {
		return fmt.Errorf("subject %q: want 1 to %d bytes of UTF-8", s, maxSubject)
	}
	toks := strings.Split(s, ".")
	for i, t := range toks {
		switch {
		case t == "":
			return fmt.Errorf("subject %q: an empty token", s)
		case strings.ContainsAny(t, " \t\r\n\x00"):
			return fmt.Errorf("subject %q: spaces are not allowed", s)
		case (t == "*" || t == ">") && !wildcards:
			return fmt.Errorf("subject %q: wildcards are for subscriptions", s)
		case t == ">" && i != len(toks)-1:
			return fmt.Errorf("subject %q: > must be the last token", s)
		case len(t) > 1 && strings.ContainsAny(t, "*>"):
			return fmt.Errorf("subject %q: a wildcard must be a whole token", s)
		}
	}
	return nil
}

// Token returns s as one subject token: node and service names may hold
// dots, which become underscores.
func Token(s string) string {
	if s == "" {
		return "-"
	}
	return strings.ReplaceAll(s, ".", "_")
}
