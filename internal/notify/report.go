package notify

import (
	"fmt"
	"strings"
	"time"
)

// MaxAttachment bounds the file an email attaches: a larger report is
// sent as its path and link only, and the body says so.
const MaxAttachment = 10 << 20

// Report is the file a report job wrote, as a message delivers it: SMTP
// attaches it (up to MaxAttachment), a webhook's JSON carries these
// fields, the other notifiers say where it is.
type Report struct {
	Job         string    `json:"job"`
	Path        string    `json:"path"`
	Name        string    `json:"name"` // the file name an attachment takes
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	Since       time.Time `json:"since"`
	Until       time.Time `json:"until"`
	// URL fetches the same report from the dashboard; "" when no
	// dashboard is configured.
	URL string `json:"url,omitempty"`
}

// Attach reports whether r is small enough to be attached to an email.
func (r *Report) Attach() bool { return r.Size <= MaxAttachment }

// title is the subject of a report's message.
func (r *Report) title(node string) string {
	s := fmt.Sprintf("steward report %s: %s to %s", r.Job, r.Since.UTC().Format(time.DateOnly+" 15:04"),
		r.Until.UTC().Format(time.DateOnly+" 15:04")+" UTC")
	if node != "" {
		s += " on node " + node
	}
	return s
}

// text says what r is and where to find it.
func (r *Report) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "The report of job %s, from %s to %s.\n", r.Job, r.Since.UTC().Format(time.RFC3339), r.Until.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "  file: %s (%d bytes, %s)\n", r.Path, r.Size, r.ContentType)
	fmt.Fprintf(&b, "  sha256: %s\n", r.SHA256)
	if r.URL != "" {
		fmt.Fprintf(&b, "  link: %s\n", r.URL)
	}
	if !r.Attach() {
		fmt.Fprintf(&b, "The file is larger than %d MB: it is not attached.\n", MaxAttachment>>20)
	}
	return b.String()
}
