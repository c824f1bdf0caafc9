package web

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/report"
)

// reportPresets are the ranges the report page offers at one click, as
// GET /v1/report's since= takes them.
var reportPresets = []string{"24h", "7d", "30d", "90d"}

// defaultReportSince is the range of the report page without since=, the
// API's default too.
const defaultReportSince = "7d"

// reportData is the report page's.
type reportData struct {
	Off   bool   // reports are not available on this steward
	Error string // why the range was refused
	// The range as asked for, shown back in the form.
	Since, Until string
	Selected     []string // the services asked for; none means all
	Services     []string // every service, for the choice
	Presets      []preset
	Downloads    []download
	Period       string
	Report       steward.Report
	Rows         []reportRow
	Summary      reportSummary
	Incidents    []incidentRow
	Jobs         []jobRow
	Machine      []fact
}

type preset struct {
	Name, URL string
	Current   bool
}

type download struct{ Label, URL string }

type fact struct{ Label, Value string }

// reportSummary is the page's headline figures.
type reportSummary struct {
	Availability string // up over expected, over every service
	Level        string
	Crashes      int
	Manual       int
	Incidents    int
	MTTR         string
}

// reportRow is a service's line of the report, its figures as text.
type reportRow struct {
	Name                string
	Availability, Level string
	SLO, Budget         string
	BudgetLevel         string
	Down, Unhealthy     string
	NoData              string
	Crashes, Manual     int
	Outages             int
	MTTR, MTBF          string
	CPU, RSS            string
	Strip               []stripCell
	StripLabel          string
	HasAvailability     bool
	availability        float64
}

// stripCell is one bucket of a service's availability strip, in a viewBox
// 100 wide.
type stripCell struct {
	X, W  float64
	Level string // ok, warn, crit or none
	Title string
}

type incidentRow struct {
	Rule, Subject, Severity, Message string
	Started                          time.Time
	Duration                         string
	Open                             bool
}

type jobRow struct {
	Name                string
	Runs, Failed, Other int
	Success, P50, P95   string
}

func (h *Handler) reportPage(r *http.Request, s *session, v *view) error {
	v.Template, v.Title, v.Nav = "report", "Reports", "report"
	q := r.URL.Query()
	d := &reportData{Since: q.Get("since"), Until: q.Get("until"), Selected: q["service"]}
	v.Data = d
	var list []steward.ServiceStatus
	if err := h.call(r, s, "GET", "/v1/services", &list); err != nil {
		return err
	}
	for _, st := range list {
		d.Services = append(d.Services, st.Name)
	}
	since := d.Since
	if since == "" {
		since = defaultReportSince
	}
	for _, p := range reportPresets {
		d.Presets = append(d.Presets, preset{Name: p, Current: p == since && d.Until == "",
			URL: "/report?" + steward.ReportQuery{Since: p, Services: d.Selected}.Values().Encode()})
	}
	rq := steward.ReportQuery{Since: d.Since, Until: d.Until, Services: d.Selected}
	var ae *apiError
	switch err := h.call(r, s, "GET", "/v1/report?"+rq.Values().Encode(), &d.Report); {
	case unavailable(err):
		d.Off = true
		return nil
	case errors.As(err, &ae) && ae.status == http.StatusBadRequest:
		d.Error, v.Status = ae.body.Message, http.StatusBadRequest
		return nil
	case err != nil:
		return err
	}
	// The downloads are of the range the page shows, fixed in time, so
	// that a file fetched later holds the same figures.
	fixed := steward.ReportQuery{Since: d.Report.Since.UTC().Format(time.RFC3339), Until: d.Report.Until.UTC().Format(time.RFC3339),
		Services: d.Selected}
	for _, f := range []struct{ label, format, section string }{
		{"Excel (XLSX)", steward.ReportXLSX, ""},
		{"HTML", steward.ReportHTML, ""},
		{"CSV: services", steward.ReportCSV, ""},
		{"CSV: incidents", steward.ReportCSV, steward.ReportIncidents},
		{"JSON", steward.ReportJSON, ""},
	} {
		fq := fixed
		fq.Format, fq.Section = f.format, f.section
		d.Downloads = append(d.Downloads, download{Label: f.label, URL: "/v1/report?" + fq.Values().Encode()})
	}
	d.fill()
	return nil
}

// fill turns the report into the page's rows.
func (d *reportData) fill() {
	rep := d.Report
	d.Period = rep.Since.Local().Format("Jan 2 2006 15:04") + " – " + rep.Until.Local().Format("Jan 2 2006 15:04")
	var up, expected float64
	for _, sr := range rep.Services {
		row := serviceRow(sr)
		up, expected = up+sr.Up, expected+sr.Expected
		d.Summary.Crashes += sr.Crashes
		d.Summary.Manual += sr.Manual
		d.Rows = append(d.Rows, row)
	}
	d.Summary.Availability, d.Summary.Level = "—", "none"
	if expected > 0 {
		a := 100 * up / expected
		d.Summary.Availability, d.Summary.Level = percent(a), report.Level(a, 0)
	}
	d.Summary.Incidents = len(rep.Incidents)
	d.Summary.MTTR = optDuration(rep.MTTR)
	for _, in := range rep.Incidents {
		d.Incidents = append(d.Incidents, incidentRow{Rule: in.Rule, Subject: in.Subject, Severity: in.Severity, Message: in.Message,
			Started: in.Started, Duration: report.Duration(in.Duration), Open: in.Open})
	}
	for _, j := range rep.Jobs {
		d.Jobs = append(d.Jobs, jobRow{Name: j.Name, Runs: j.Runs, Failed: j.Failed, Other: j.Other,
			Success: strconv.FormatFloat(j.Success, 'f', 1, 64) + "%", P50: report.Duration(j.DurationP50), P95: report.Duration(j.DurationP95)})
	}
	m := rep.Machine
	if m.CPU != nil {
		d.Machine = append(d.Machine, fact{"CPU p95", strconv.FormatFloat(m.CPU.P95, 'f', 1, 64) + "%"})
	}
	if m.Memory != nil {
		d.Machine = append(d.Machine, fact{"Memory p95", strconv.FormatFloat(m.Memory.P95, 'f', 1, 64) + "%"})
	}
	for _, disk := range m.Disks {
		d.Machine = append(d.Machine, fact{"Disk " + disk.Mount + " p95", strconv.FormatFloat(disk.Used.P95, 'f', 1, 64) + "%"})
	}
	slices.SortStableFunc(d.Rows, compareRows)
}

// compareRows puts the services furthest below their objective first,
// the ones never meant to run last.
func compareRows(a, b reportRow) int {
	return cmp.Or(cmp.Compare(b2i(!a.HasAvailability), b2i(!b.HasAvailability)), cmp.Compare(a.availability, b.availability))
}

func serviceRow(sr steward.ServiceReport) reportRow {
	row := reportRow{Name: sr.Name, Availability: "—", Level: "none", SLO: "—", Budget: "—", BudgetLevel: "none",
		Down: report.Duration(sr.Down), Unhealthy: report.Duration(sr.Unhealthy), NoData: report.Duration(sr.NoData),
		Crashes: sr.Crashes, Manual: sr.Manual, Outages: sr.Outages, MTTR: optDuration(sr.MTTR), MTBF: optDuration(sr.MTBF),
		CPU: "—", RSS: "—"}
	if sr.Availability != nil {
		row.HasAvailability, row.availability = true, *sr.Availability
		row.Availability, row.Level = percent(*sr.Availability), report.Level(*sr.Availability, sr.SLO)
	}
	if sr.SLO > 0 {
		row.SLO = strconv.FormatFloat(sr.SLO, 'f', -1, 64) + "%"
	}
	if sr.BudgetLeft != nil {
		row.Budget = strconv.FormatFloat(*sr.BudgetLeft, 'f', 1, 64) + "% left"
		row.BudgetLevel = "ok"
		switch {
		case *sr.BudgetLeft < 0:
			row.BudgetLevel = "crit"
		case *sr.BudgetLeft < 25:
			row.BudgetLevel = "warn"
		}
	}
	if sr.CPU != nil {
		row.CPU = strconv.FormatFloat(sr.CPU.P95, 'f', 1, 64) + "%"
	}
	if sr.RSS != nil {
		row.RSS = humanBytes(sr.RSS.P95)
	}
	n := float64(len(sr.Buckets))
	for i, b := range sr.Buckets {
		c := stripCell{X: 100 * float64(i) / n, W: 100 / n, Level: "none",
			Title: b.Start.Local().Format("Jan 2 15:04") + ": not meant to run, or no data"}
		if b.Percent != nil {
			c.Level = report.Level(*b.Percent, sr.SLO)
			c.Title = fmt.Sprintf("%s: %s up, %s down", b.Start.Local().Format("Jan 2 15:04"), report.Duration(b.Up), report.Duration(b.Down))
		}
		row.Strip = append(row.Strip, c)
	}
	row.StripLabel = sr.Name + "'s availability over time: " + row.Availability
	return row
}

// percent writes an availability with three decimals, as the report's
// other formats do.
func percent(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) + "%" }

func optDuration(v *float64) string {
	if v == nil {
		return "—"
	}
	return report.Duration(*v)
}
