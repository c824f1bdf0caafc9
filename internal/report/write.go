package report

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stewardhq/steward"
)

// ContentType returns the media type of format.
func ContentType(format string) string {
	switch format {
	case steward.ReportCSV:
		return "text/csv; charset=utf-8"
	case steward.ReportHTML:
		return "text/html; charset=utf-8"
	case steward.ReportXLSX:
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	return "application/json"
}

// FileName is the name a report of rep in format is saved under:
// steward-report-NODE-SINCE-UNTIL.EXT, with dates in UTC.
func FileName(rep steward.Report, format string) string {
	name := "steward-report"
	if rep.Node != "" {
		name += "-" + strings.Map(func(r rune) rune {
			if r == '-' || r == '_' || r == '.' || '0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' {
				return r
			}
			return '_'
		}, rep.Node)
	}
	const day = "20060102T1504Z"
	return name + "-" + rep.Since.UTC().Format(day) + "-" + rep.Until.UTC().Format(day) + "." + format
}

// Write writes rep to w in format (one of steward.ReportFormats); a CSV
// report holds one section (steward.ReportSections; "" is services).
func Write(w io.Writer, rep steward.Report, format, section string) error {
	if err := CheckFormat(format, section); err != nil {
		return err
	}
	switch format {
	case steward.ReportCSV:
		return writeCSV(w, rep, section)
	case steward.ReportHTML:
		return writeHTML(w, rep)
	case steward.ReportXLSX:
		return writeXLSX(w, rep)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// CheckFormat reports whether format and section name a report Write
// writes, as an EINVALID error saying what is allowed.
func CheckFormat(format, section string) error {
	if !slices.Contains(steward.ReportFormats, format) {
		return steward.Errorf(steward.EINVALID, "report format %q is not one of %s", format, strings.Join(steward.ReportFormats, ", "))
	}
	if section != "" && !slices.Contains(steward.ReportSections, section) {
		return steward.Errorf(steward.EINVALID, "report section %q is not one of %s", section, strings.Join(steward.ReportSections, ", "))
	}
	if section != "" && format != steward.ReportCSV {
		return steward.Errorf(steward.EINVALID, "a report section is for format csv; %s holds every section", format)
	}
	return nil
}

func writeCSV(w io.Writer, rep steward.Report, section string) error {
	cw := csv.NewWriter(w)
	for _, row := range table(rep, section) {
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// table returns one section of rep as rows of text, a header row first;
// absent figures are empty cells.
func table(rep steward.Report, section string) [][]string {
	switch section {
	case steward.ReportIncidents:
		rows := [][]string{{"id", "rule", "subject", "service", "severity", "started", "resolved", "duration_seconds", "open", "message"}}
		for _, in := range rep.Incidents {
			rows = append(rows, []string{strconv.FormatInt(in.ID, 10), in.Rule, in.Subject, in.Service, in.Severity,
				stamp(in.Started), stamp(in.Resolved), num(in.Duration), strconv.FormatBool(in.Open), in.Message})
		}
		return rows
	case steward.ReportJobs:
		rows := [][]string{{"job", "runs", "succeeded", "failed", "other", "success_percent", "duration_p50_seconds", "duration_p95_seconds"}}
		for _, j := range rep.Jobs {
			rows = append(rows, []string{j.Name, strconv.Itoa(j.Runs), strconv.Itoa(j.Succeeded), strconv.Itoa(j.Failed),
				strconv.Itoa(j.Other), num(j.Success), num(j.DurationP50), num(j.DurationP95)})
		}
		return rows
	case steward.ReportMachine:
		rows := [][]string{{"figure", "mount", "p50", "p95", "max", "samples"}}
		add := func(fig, mount string, d *steward.Distribution) {
			if d != nil {
				rows = append(rows, []string{fig, mount, num(d.P50), num(d.P95), num(d.Max), strconv.Itoa(d.Samples)})
			}
		}
		add("cpu_percent", "", rep.Machine.CPU)
		add("memory_percent", "", rep.Machine.Memory)
		for _, d := range rep.Machine.Disks {
			add("disk_used_percent", d.Mount, &d.Used)
		}
		return rows
	}
	rows := [][]string{{"service", "availability_percent", "expected_seconds", "up_seconds", "down_seconds", "unhealthy_seconds",
		"planned_seconds", "no_data_seconds", "slo_percent", "error_budget_seconds", "error_budget_left_percent",
		"crashes", "manual_restarts", "outages", "mttr_seconds", "mtbf_seconds", "incidents",
		"cpu_p50_percent", "cpu_p95_percent", "cpu_max_percent", "rss_p50_bytes", "rss_p95_bytes", "rss_max_bytes"}}
	for _, s := range rep.Services {
		slo := ""
		if s.SLO > 0 {
			slo = num(s.SLO)
		}
		row := []string{s.Name, opt(s.Availability), num(s.Expected), num(s.Up), num(s.Down), num(s.Unhealthy),
			num(s.Planned), num(s.NoData), slo, opt(s.ErrorBudget), opt(s.BudgetLeft),
			strconv.Itoa(s.Crashes), strconv.Itoa(s.Manual), strconv.Itoa(s.Outages), opt(s.MTTR), opt(s.MTBF),
			strconv.Itoa(s.Incidents)}
		for _, d := range []*steward.Distribution{s.CPU, s.RSS} {
			if d == nil {
				row = append(row, "", "", "")
			} else {
				row = append(row, num(d.P50), num(d.P95), num(d.Max))
			}
		}
		rows = append(rows, row)
	}
	return rows
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func opt(v *float64) string {
	if v == nil {
		return ""
	}
	return num(*v)
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
