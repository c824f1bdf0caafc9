package report

import (
	"mime"
	"net/url"
	"strings"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
)

// DefaultSpan is the range of a report that names no since.
const DefaultSpan = 7 * 24 * time.Hour

// maxServices bounds the services one request may name.
const maxServices = 1000

// Request is a report as GET /v1/report asks for it.
type Request struct {
	Query
	Format  string
	Section string
}

// ParseRange reads a report's range: until is an RFC 3339 time or a span
// back from now ("" is now); since an RFC 3339 time or a span back from
// until ("7d", "36h"; "" is DefaultSpan).
func ParseRange(since, until string, now time.Time) (from, to time.Time, err error) {
	to = now
	if until != "" {
		if to, err = moment("until", until, now); err != nil {
			return from, to, err
		}
	}
	from = to.Add(-DefaultSpan)
	if since != "" {
		if from, err = moment("since", since, to); err != nil {
			return from, to, err
		}
	}
	if !from.Before(to) {
		return from, to, steward.Errorf(steward.EINVALID, "since %s is not before until %s",
			from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339))
	}
	return from.UTC(), to.UTC(), nil
}

// moment reads a time, or a span back from ref.
func moment(what, s string, ref time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := config.ParseSpan(s)
	if err != nil {
		return time.Time{}, steward.Errorf(steward.EINVALID, "%s %q: want a time like 2026-01-02T15:04:05Z or a span like 7d or 36h", what, s)
	}
	return ref.Add(-d), nil
}

// ParseRequest reads the query of GET /v1/report: since, until, service
// (repeated), format and section. Without format, accept (the Accept
// header) chooses among the formats' media types, JSON by default.
func ParseRequest(v url.Values, accept string, now time.Time) (Request, error) {
	for k := range v {
		switch k {
		case "since", "until", "service", "format", "section":
		default:
			return Request{}, steward.Errorf(steward.EINVALID, "unknown report parameter %q: want since, until, service, format or section", k)
		}
	}
	var r Request
	var err error
	if r.Since, r.Until, err = ParseRange(v.Get("since"), v.Get("until"), now); err != nil {
		return r, err
	}
	names := v["service"]
	if len(names) > maxServices {
		return r, steward.Errorf(steward.EINVALID, "a report names at most %d services", maxServices)
	}
	for _, n := range names {
		if n == "" || len(n) > 200 || strings.ContainsFunc(n, func(c rune) bool { return c < ' ' }) {
			return r, steward.Errorf(steward.EINVALID, "service %q is not a service name", n)
		}
	}
	r.Services = names
	r.Format, r.Section = v.Get("format"), v.Get("section")
	if r.Format == "" {
		r.Format = negotiate(accept)
	}
	return r, CheckFormat(r.Format, r.Section)
}

// negotiate picks the format whose media type accept lists first; JSON
// when it lists none of them.
func negotiate(accept string) string {
	for part := range strings.SplitSeq(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		for _, f := range steward.ReportFormats {
			if ct, _, _ := mime.ParseMediaType(ContentType(f)); ct == mt {
				return f
			}
		}
	}
	return steward.ReportJSON
}
