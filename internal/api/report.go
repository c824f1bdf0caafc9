package api

import (
	"bytes"
	"context"
	"mime"
	"net/http"
	"slices"
	"strconv"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/report"
)

// Reports builds the reports of time ranges from the store.
type Reports interface {
	Report(ctx context.Context, q report.Query) (steward.Report, error)
}

var errNoReports = steward.Errorf(steward.EUNAVAILABLE, "reports are not available")

// report answers GET /v1/report with the report of the range in the format
// asked for: JSON and HTML shown inline, CSV and XLSX as attachments, each
// under the name report.FileName gives it. The body is written in full
// before the answer starts, so that a failure is still a JSON error.
func (s *Server) report(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Reports == nil {
		return errNoReports
	}
	req, err := report.ParseRequest(r.URL.Query(), r.Header.Get("Accept"), s.now())
	if err != nil {
		return err
	}
	if t := s.tenancy(r); !t.all() {
		if i := slices.IndexFunc(req.Services, func(n string) bool { return !t.service(n) }); i >= 0 {
			return steward.Errorf(steward.ENOTFOUND, "no service %q", req.Services[i])
		}
		req.Scope = reportScope{t}
	}
	rep, err := s.opts.Reports.Report(r.Context(), req.Query)
	if err != nil {
		return err
	}
	var body bytes.Buffer
	if err := report.Write(&body, rep, req.Format, req.Section); err != nil {
		return err
	}
	disposition := "attachment"
	if req.Format == steward.ReportJSON || req.Format == steward.ReportHTML {
		disposition = "inline"
	}
	h := w.Header()
	h.Set("Content-Type", report.ContentType(req.Format))
	h.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": report.FileName(rep, req.Format)}))
	h.Set("Content-Length", strconv.Itoa(body.Len()))
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(body.Bytes())
	return err
}

// reportScope narrows a report to what a tenancy sees.
type reportScope struct{ t tenancy }

var _ report.Scope = reportScope{}

func (s reportScope) Service(name string) bool   { return s.t.service(name) }
func (s reportScope) Alert(a steward.Alert) bool { return s.t.alert(a) }
func (s reportScope) Run(r steward.Run) bool     { return s.t.run(r) }
