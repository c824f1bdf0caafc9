package report

import (
	"net/url"
	"testing"
	"time"

	"github.com/stewardhq/steward"
)

func TestParseRequest(t *testing.T) {
	now := at(48 * h)
	for _, c := range []struct {
		query, accept string
		from, to      time.Time
		format        string
		bad           bool
	}{
		{"", "", at(48*h - 7*24*h), now, "json", false},
		{"since=1d", "text/csv", at(24 * h), now, "csv", false},
		{"since=2026-01-05T00:00:00Z&until=12h&format=xlsx", "", t0, at(36 * h), "xlsx", false},
		{"since=1w1d&until=1d", "text/html, */*", at(-7 * 24 * h), at(24 * h), "html", false},
		{"format=csv&section=jobs", "", at(48*h - 7*24*h), now, "csv", false},
		{"since=-1d", "", time.Time{}, time.Time{}, "", true},
		{"since=0s", "", time.Time{}, time.Time{}, "", true},
		{"until=2026-01-01T00:00:00Z&since=2026-01-02T00:00:00Z", "", time.Time{}, time.Time{}, "", true},
		{"format=pdf", "", time.Time{}, time.Time{}, "", true},
		{"bogus=1", "", time.Time{}, time.Time{}, "", true},
		{"service=", "", time.Time{}, time.Time{}, "", true},
		{"since=99999999999999d", "", time.Time{}, time.Time{}, "", true},
	} {
		v, err := url.ParseQuery(c.query)
		if err != nil {
			t.Fatal(err)
		}
		r, err := ParseRequest(v, c.accept, now)
		if c.bad {
			if steward.ErrorCode(err) != steward.EINVALID {
				t.Errorf("%q: %v, want an invalid error", c.query, err)
			}
			continue
		}
		if err != nil || !r.Since.Equal(c.from) || !r.Until.Equal(c.to) || r.Format != c.format {
			t.Errorf("%q: %+v, %v; want %v–%v as %s", c.query, r, err, c.from, c.to, c.format)
		}
	}
}

// FuzzParseRequest: any query is a request with a range that is not
// empty, or an invalid error; never a panic.
func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{
		"", "since=7d", "since=1w2d3h&until=1h", "since=2026-01-05T00:00:00Z&until=2026-01-06T00:00:00Z",
		"service=api&service=db&format=csv&section=incidents", "format=xlsx", "since=%00", "since=9223372036854775807d",
	} {
		f.Add(s, "")
	}
	f.Add("", "text/html;q=0.9, text/csv")
	now := at(48 * h)
	f.Fuzz(func(t *testing.T, query, accept string) {
		v, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		r, err := ParseRequest(v, accept, now)
		if err != nil {
			if steward.ErrorCode(err) != steward.EINVALID {
				t.Fatalf("%q: %v, want an invalid error", query, err)
			}
			return
		}
		if !r.Since.Before(r.Until) || CheckFormat(r.Format, r.Section) != nil {
			t.Fatalf("%q: %+v", query, r)
		}
	})
}
