package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"time"

	"github.com/stewardhq/steward"
)

//go:embed report.html
var pageText string

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct":   func(v *float64) string { return pctText(v) },
	"dur":   func(secs float64) string { return Duration(secs) },
	"durp":  func(v *float64) string { return durationOpt(v) },
	"stamp": func(t time.Time) string { return stamp(t) },
	"num":   func(v float64) string { return fmt.Sprintf("%.1f", v) },
	"bytes": func(v float64) string { return byteText(v) },
}).Parse(pageText))

// Chart geometry, in SVG user units.
const (
	chartWidth = 720
	labelWidth = 160
	barHeight  = 18
	stripGap   = 4
)

// bar is one service's availability bar.
type bar struct {
	Name    string
	Y       int
	Width   float64
	Text    string
	Color   string
	SLOX    float64 // where the SLO's mark goes; 0 for none
	Missing bool
}

// cell is one bucket of a service's availability strip.
type cell struct {
	X, W  float64
	Color string
	Title string
}

type strip struct {
	Name  string
	Y     int
	Cells []cell
}

type pageData struct {
	steward.Report
	Title       string
	Bars        []bar
	BarsHeight  int
	Strips      []strip
	StripHeight int
	Ticks       []tick
	ChartWidth  int
	LabelWidth  int
	PlotWidth   int
}

type tick struct {
	X    float64
	Text string
}

func writeHTML(w io.Writer, rep steward.Report) error {
	d := pageData{Report: rep, ChartWidth: chartWidth, LabelWidth: labelWidth, PlotWidth: chartWidth - labelWidth - 60,
		Title: "steward report " + rep.Since.UTC().Format("2006-01-02 15:04") + " – " + rep.Until.UTC().Format("2006-01-02 15:04") + " UTC"}
	if rep.Node != "" {
		d.Title += " · " + rep.Node
	}
	plot := float64(d.PlotWidth)
	for i, s := range rep.Services {
		b := bar{Name: s.Name, Y: i * (barHeight + stripGap), Text: pctText(s.Availability), Missing: s.Availability == nil}
		if s.Availability != nil {
			b.Width = plot * *s.Availability / 100
			b.Color = color(*s.Availability, s.SLO)
		}
		if s.SLO > 0 {
			b.SLOX = plot * s.SLO / 100
		}
		d.Bars = append(d.Bars, b)
	}
	d.BarsHeight = max(len(d.Bars)*(barHeight+stripGap), barHeight)
	plotW := float64(chartWidth - labelWidth)
	for i, s := range rep.Services {
		st := strip{Name: s.Name, Y: i * (barHeight + stripGap)}
		n := float64(len(s.Buckets))
		for j, b := range s.Buckets {
			c := cell{X: plotW * float64(j) / n, W: math.Max(plotW/n-0.5, 0.5), Color: "#d0d4da",
				Title: stamp(b.Start) + ": not meant to run or no data"}
			if b.Percent != nil {
				c.Color = color(*b.Percent, s.SLO)
				c.Title = fmt.Sprintf("%s: %s up, %s down", stamp(b.Start), Duration(b.Up), Duration(b.Down))
			}
			st.Cells = append(st.Cells, c)
		}
		d.Strips = append(d.Strips, st)
	}
	d.StripHeight = max(len(d.Strips)*(barHeight+stripGap), barHeight)
	span := rep.Until.Sub(rep.Since)
	for i := range 5 {
		at := rep.Since.Add(span * time.Duration(i) / 4)
		layout := "01-02 15:04"
		if rep.Step >= 86400 {
			layout = "2006-01-02"
		}
		d.Ticks = append(d.Ticks, tick{X: plotW * float64(i) / 4, Text: at.UTC().Format(layout)})
	}
	return page.Execute(w, d)
}

// Level grades an availability in percent against the service's SLO
// (0: none): "ok" when it meets the SLO (or 99.9% without one), "warn"
// above 99% (or while under twice the SLO's budget spent), "crit" below.
func Level(pct, slo float64) string {
	good, fair := 99.9, 99.0
	if slo > 0 {
		good, fair = slo, 100-2*(100-slo)
	}
	switch {
	case pct >= good:
		return "ok"
	case pct >= fair:
		return "warn"
	}
	return "crit"
}

// levelColors are the colors of the levels in the HTML report.
var levelColors = map[string]string{"ok": "#2e9e5b", "warn": "#e0a100", "crit": "#d64545"}

func color(pct, slo float64) string { return levelColors[Level(pct, slo)] }

func pctText(v *float64) string {
	if v == nil {
		return "—"
	}
	return fmt.Sprintf("%.3f%%", *v)
}

func durationOpt(v *float64) string {
	if v == nil {
		return "—"
	}
	return Duration(*v)
}

// Duration writes seconds for a human: 3d 4h, 2h 5m, 4m 10s, 12s.
func Duration(secs float64) string {
	d := time.Duration(secs * float64(time.Second)).Round(time.Second)
	days, hours, mins, s := d/(24*time.Hour), d%(24*time.Hour)/time.Hour, d%time.Hour/time.Minute, d%time.Minute/time.Second
	switch {
	case days > 0:
		return fmt.Sprintf("%dd %dh", days, hours)
	case hours > 0:
		return fmt.Sprintf("%dh %dm", hours, mins)
	case mins > 0:
		return fmt.Sprintf("%dm %ds", mins, s)
	}
	return fmt.Sprintf("%ds", s)
}

func byteText(v float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}
