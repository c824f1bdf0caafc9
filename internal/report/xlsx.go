package report

import (
	"fmt"
	"io"
	"time"

	"github.com/stewardhq/steward"
	"github.com/xuri/excelize/v2"
)

// The sheets of an XLSX report, one per section.
const (
	sheetSummary      = "Summary"
	sheetServices     = "Services"
	sheetAvailability = "Availability"
	sheetIncidents    = "Incidents"
	sheetJobs         = "Jobs"
	sheetMachine      = "Machine"
)

// maxChartSeries bounds the lines of the availability-over-time chart; the
// sheet holds every service.
const maxChartSeries = 12

// book builds an XLSX report: cells are typed (numbers as numbers, times
// as dates), and charts are Excel's own, drawn from the sheets' cells.
type book struct {
	f   *excelize.File
	err error
	pct int // style of percentages
	dt  int // style of dates
}

func writeXLSX(w io.Writer, rep steward.Report) error {
	b := &book{f: excelize.NewFile()}
	defer b.f.Close()
	b.pct, b.err = b.f.NewStyle(&excelize.Style{CustomNumFmt: ptr("0.000")})
	if b.err == nil {
		b.dt, b.err = b.f.NewStyle(&excelize.Style{CustomNumFmt: ptr("yyyy-mm-dd hh:mm:ss")})
	}
	if b.err == nil {
		b.err = b.f.SetSheetName("Sheet1", sheetSummary)
	}
	b.summary(rep)
	b.services(rep)
	b.availability(rep)
	b.incidents(rep)
	b.jobs(rep)
	b.machine(rep)
	if b.err != nil {
		return fmt.Errorf("write xlsx report: %w", b.err)
	}
	_, err := b.f.WriteTo(w)
	return err
}

// row writes vals from column A of row n (from 1) of sheet; a nil
// *float64 is an empty cell, a time a date.
func (b *book) row(sheet string, n int, vals ...any) {
	if b.err != nil {
		return
	}
	for i, v := range vals {
		cell, err := excelize.CoordinatesToCellName(i+1, n)
		if err != nil {
			b.err = err
			return
		}
		switch x := v.(type) {
		case nil:
			continue
		case *float64:
			if x == nil {
				continue
			}
			v = *x
		}
		if b.err = b.f.SetCellValue(sheet, cell, v); b.err != nil {
			return
		}
	}
}

func (b *book) sheet(name string, header ...any) {
	if b.err != nil {
		return
	}
	if _, b.err = b.f.NewSheet(name); b.err != nil {
		return
	}
	b.row(name, 1, header...)
	if b.err == nil {
		last, _ := excelize.CoordinatesToCellName(max(len(header), 1), 1)
		b.err = b.f.SetPanes(name, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"})
		if b.err == nil && len(header) > 0 {
			b.err = b.f.AutoFilter(name, "A1:"+last, nil)
		}
	}
}

func (b *book) style(sheet, from, to string, style int) {
	if b.err == nil {
		b.err = b.f.SetCellStyle(sheet, from, to, style)
	}
}

func (b *book) chart(sheet, cell string, c *excelize.Chart) {
	if b.err == nil {
		b.err = b.f.AddChart(sheet, cell, c)
	}
}

func (b *book) summary(rep steward.Report) {
	s := sheetSummary
	b.row(s, 1, "steward report")
	b.row(s, 2, "node", rep.Node)
	b.row(s, 3, "since", rep.Since)
	b.row(s, 4, "until", rep.Until)
	b.row(s, 5, "generated", rep.Generated)
	b.row(s, 6, "services", len(rep.Services))
	b.row(s, 7, "incidents", len(rep.Incidents))
	b.row(s, 8, "incident MTTR (seconds)", rep.MTTR)
	b.row(s, 9, "jobs", len(rep.Jobs))
	b.row(s, 10, "definitions", "docs/reports.md of steward")
	b.style(s, "B3", "B5", b.dt)
	if b.err == nil {
		b.err = b.f.SetColWidth(s, "A", "B", 24)
	}
}

func (b *book) services(rep steward.Report) {
	s := sheetServices
	b.sheet(s, "service", "availability %", "slo %", "error budget left %", "expected s", "up s", "down s", "unhealthy s",
		"planned s", "no data s", "crashes", "manual restarts", "outages", "mttr s", "mtbf s", "incidents",
		"cpu p50 %", "cpu p95 %", "cpu max %", "rss p50 bytes", "rss p95 bytes", "rss max bytes")
	for i, sr := range rep.Services {
		var slo *float64
		if sr.SLO > 0 {
			slo = ptr(sr.SLO)
		}
		vals := []any{sr.Name, sr.Availability, slo, sr.BudgetLeft, sr.Expected, sr.Up, sr.Down, sr.Unhealthy,
			sr.Planned, sr.NoData, sr.Crashes, sr.Manual, sr.Outages, sr.MTTR, sr.MTBF, sr.Incidents}
		for _, d := range []*steward.Distribution{sr.CPU, sr.RSS} {
			if d == nil {
				vals = append(vals, nil, nil, nil)
			} else {
				vals = append(vals, d.P50, d.P95, d.Max)
			}
		}
		b.row(s, i+2, vals...)
	}
	n := len(rep.Services)
	if n == 0 {
		return
	}
	b.style(s, "B2", fmt.Sprintf("D%d", n+1), b.pct)
	b.chart(s, "X2", &excelize.Chart{
		Type:   excelize.Bar,
		Series: []excelize.ChartSeries{{Name: s + "!$B$1", Categories: fmt.Sprintf("%s!$A$2:$A$%d", s, n+1), Values: fmt.Sprintf("%s!$B$2:$B$%d", s, n+1)}},
		Title:  excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: "Availability %"}}},
		Legend: excelize.ChartLegend{Position: "none"},
		XAxis:  excelize.ChartAxis{ReverseOrder: true},
		YAxis:  excelize.ChartAxis{Maximum: ptr(100.0)},
		Format: excelize.GraphicOptions{ScaleX: 1.2, ScaleY: 1 + float64(min(n, 40))/10},
	})
}

// availability writes one row per bucket and one column per service, with
// a line chart of the first maxChartSeries services.
func (b *book) availability(rep steward.Report) {
	s := sheetAvailability
	header := []any{"start"}
	for _, sr := range rep.Services {
		header = append(header, sr.Name)
	}
	b.sheet(s, header...)
	if len(rep.Services) == 0 {
		return
	}
	// Build gives every service the same buckets; a service with fewer
	// (a report from elsewhere) gets empty cells.
	rows := 0
	for _, sr := range rep.Services {
		rows = max(rows, len(sr.Buckets))
	}
	for i := range rows {
		vals := []any{rep.Since.Add(time.Duration(float64(i) * rep.Step * float64(time.Second)))}
		for _, sr := range rep.Services {
			var pct *float64
			if i < len(sr.Buckets) {
				vals[0], pct = sr.Buckets[i].Start, sr.Buckets[i].Percent
			}
			vals = append(vals, pct)
		}
		b.row(s, i+2, vals...)
	}
	if rows == 0 {
		return
	}
	b.style(s, "A2", fmt.Sprintf("A%d", rows+1), b.dt)
	last, _ := excelize.CoordinatesToCellName(len(rep.Services)+1, rows+1)
	b.style(s, "B2", last, b.pct)
	var series []excelize.ChartSeries
	for i := range min(len(rep.Services), maxChartSeries) {
		col, _ := excelize.ColumnNumberToName(i + 2)
		series = append(series, excelize.ChartSeries{Name: fmt.Sprintf("%s!$%s$1", s, col),
			Categories: fmt.Sprintf("%s!$A$2:$A$%d", s, rows+1), Values: fmt.Sprintf("%s!$%s$2:$%s$%d", s, col, col, rows+1)})
	}
	at, _ := excelize.CoordinatesToCellName(len(rep.Services)+3, 2)
	b.chart(s, at, &excelize.Chart{Type: excelize.Line, Series: series, ShowBlanksAs: "gap",
		Title:  excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: "Availability % per " + Duration(rep.Step)}}},
		Format: excelize.GraphicOptions{ScaleX: 2, ScaleY: 1.5}})
}

func (b *book) incidents(rep steward.Report) {
	s := sheetIncidents
	b.sheet(s, "id", "started", "resolved", "duration s", "open", "severity", "rule", "subject", "service", "message")
	for i, in := range rep.Incidents {
		var resolved any
		if !in.Resolved.IsZero() {
			resolved = in.Resolved
		}
		b.row(s, i+2, in.ID, in.Started, resolved, in.Duration, in.Open, in.Severity, in.Rule, in.Subject, in.Service, in.Message)
	}
	if n := len(rep.Incidents); n > 0 {
		b.style(s, "B2", fmt.Sprintf("C%d", n+1), b.dt)
	}
}

func (b *book) jobs(rep steward.Report) {
	s := sheetJobs
	b.sheet(s, "job", "runs", "succeeded", "failed", "other", "success %", "duration p50 s", "duration p95 s")
	for i, j := range rep.Jobs {
		b.row(s, i+2, j.Name, j.Runs, j.Succeeded, j.Failed, j.Other, j.Success, j.DurationP50, j.DurationP95)
	}
	n := len(rep.Jobs)
	if n == 0 {
		return
	}
	b.chart(s, "J2", &excelize.Chart{
		Type: excelize.Col,
		Series: []excelize.ChartSeries{
			{Name: s + "!$C$1", Categories: fmt.Sprintf("%s!$A$2:$A$%d", s, n+1), Values: fmt.Sprintf("%s!$C$2:$C$%d", s, n+1)},
			{Name: s + "!$D$1", Categories: fmt.Sprintf("%s!$A$2:$A$%d", s, n+1), Values: fmt.Sprintf("%s!$D$2:$D$%d", s, n+1)},
		},
		Title: excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: "Runs"}}},
	})
}

func (b *book) machine(rep steward.Report) {
	s := sheetMachine
	b.sheet(s, "figure", "mount", "p50", "p95", "max", "samples")
	n := 1
	add := func(fig, mount string, d *steward.Distribution) {
		if d != nil {
			n++
			b.row(s, n, fig, mount, d.P50, d.P95, d.Max, d.Samples)
		}
	}
	add("cpu %", "", rep.Machine.CPU)
	add("memory %", "", rep.Machine.Memory)
	for _, d := range rep.Machine.Disks {
		add("disk used %", d.Mount, &d.Used)
	}
	if n == 1 {
		return
	}
	b.chart(s, "H2", &excelize.Chart{
		Type: excelize.Col,
		Series: []excelize.ChartSeries{
			{Name: s + "!$D$1", Categories: fmt.Sprintf("%s!$A$2:$B$%d", s, n), Values: fmt.Sprintf("%s!$D$2:$D$%d", s, n)},
			{Name: s + "!$E$1", Categories: fmt.Sprintf("%s!$A$2:$B$%d", s, n), Values: fmt.Sprintf("%s!$E$2:$E$%d", s, n)},
		},
		Title: excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: "Machine, percent"}}},
		YAxis: excelize.ChartAxis{Maximum: ptr(100.0)},
	})
}
