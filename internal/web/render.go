package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"maps"
	"math"
	"mime"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/stewardhq/steward"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// pageNames are the template sets: each page's file with the layout.
var pageNames = []string{"overview", "services", "service", "alerts", "events", "bus", "config", "report", "runs", "run", "fleet", "node", "error"}

// parsePages parses the login page and each page with the layout.
func parsePages(funcs template.FuncMap) map[string]*template.Template {
	base := template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/parts.html"))
	pages := map[string]*template.Template{
		"login": template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/login.html")),
	}
	for _, name := range pageNames {
		pages[name] = template.Must(template.Must(base.Clone()).ParseFS(templateFS, "templates/"+name+".html"))
	}
	return pages
}

// asset is one embedded static file.
type asset struct {
	body []byte
	typ  string
	hash string
}

func loadAssets() map[string]asset {
	m := map[string]asset{}
	fs.WalkDir(assetFS, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := assetFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		m[path.Base(p)] = asset{body: b, typ: mime.TypeByExtension(path.Ext(p)), hash: hex.EncodeToString(sum[:6])}
		return nil
	})
	return m
}

// assetURL returns the URL of the asset named name, versioned by its
// content so that it may be cached for good.
func (h *Handler) assetURL(name string) string {
	return "/assets/" + name + "?v=" + h.assets[name].hash
}

// serveAsset serves an embedded file: public, as it holds no data.
func (h *Handler) serveAsset(w http.ResponseWriter, r *http.Request) {
	a, ok := h.assets[r.PathValue("file")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", a.typ)
	w.Header().Set("ETag", `"`+a.hash+`"`)
	if r.URL.Query().Get("v") == a.hash {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	if r.Header.Get("If-None-Match") == `"`+a.hash+`"` {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Write(a.body)
}

// funcs are the template functions.
func (h *Handler) funcs() template.FuncMap {
	return template.FuncMap{
		"ago":      func(t time.Time) string { return ago(h.now(), t) },
		"rfc3339":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"clock":    func(t time.Time) string { return clock(h.now(), t) },
		"bytes":    humanBytes,
		"pct":      func(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) + "%" },
		"num":      func(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) },
		"short":    func(s string) string { return s[:min(len(s), 10)] },
		"join":     strings.Join,
		"upper":    strings.ToUpper,
		"active":   func(s steward.State) bool { return s.Active() },
		"settled":  func(s steward.State) bool { return s == steward.StateRunning },
		"matchers": matchers,
		"has":      func(list []string, s string) bool { return slices.Contains(list, s) },
		"plural": func(n int, one, many string) string {
			if n == 1 {
				return one
			}
			return many
		},
	}
}

// ago returns how long before now t was, in at most two units: "45s",
// "3m 12s", "2h 5m", "4d 3h".
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	d := max(now.Sub(t), 0)
	s := int64(d / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm %ds", s/60, s%60)
	case s < 86400:
		return fmt.Sprintf("%dh %dm", s/3600, s%3600/60)
	}
	return fmt.Sprintf("%dd %dh", s/86400, s%86400/3600)
}

// clock returns t as a time of day, with the date when it is not today.
func clock(now, t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	t = t.Local()
	if y, m, d := now.Local().Date(); t.Year() == y && t.Month() == m && t.Day() == d {
		return t.Format("15:04:05")
	}
	return t.Format("Jan 2 15:04:05")
}

// humanBytes returns n in binary units: "512 B", "3.4 MiB".
func humanBytes(n any) string {
	var f float64
	switch v := n.(type) {
	case uint64:
		f = float64(v)
	case int64:
		f = float64(v)
	case int:
		f = float64(v)
	case float64:
		f = v
	}
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	i := 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	if i == 0 {
		return strconv.FormatFloat(f, 'f', 0, 64) + " B"
	}
	prec := 1
	if f >= 100 {
		prec = 0
	}
	return strconv.FormatFloat(f, 'f', prec, 64) + " " + units[i]
}

// matchers returns a silence's matchers as "key=pattern" words: rule,
// subject and severity first, then the other labels in order.
func matchers(m map[string]string) string {
	first := []string{"rule", "subject", "severity"}
	var out []string
	for _, k := range first {
		if v, ok := m[k]; ok {
			out = append(out, k+"="+v)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !slices.Contains(first, k) {
			out = append(out, k+"="+m[k])
		}
	}
	return strings.Join(out, " ")
}

// gauge is one figure of the machine, as a ring.
type gauge struct {
	Label   string
	Value   float64 // percent
	Text    string
	Dash    string // the ring's stroke-dasharray
	Level   string // ok, warn or crit
	Caption string
}

// ringLength is the circumference of the gauge ring (r = 40).
const ringLength = 2 * math.Pi * 40

// lastGauge returns a gauge of the last point of the first series.
func lastGauge(label string, series []steward.MetricSeries) (gauge, bool) {
	if len(series) == 0 || len(series[0].Points) == 0 {
		return gauge{}, false
	}
	pts := series[0].Points
	v := math.Max(0, math.Min(100, pts[len(pts)-1][1]))
	g := gauge{Label: label, Value: v, Text: strconv.FormatFloat(v, 'f', 0, 64) + "%", Level: "ok"}
	g.Dash = fmt.Sprintf("%.2f %.2f", ringLength*v/100, ringLength)
	switch {
	case v >= 90:
		g.Level = "crit"
	case v >= 75:
		g.Level = "warn"
	}
	return g, true
}

// chart is a time series drawn as an SVG line and area over a fixed
// viewBox (chartW × chartH), the time axis spanning from to to.
type chart struct {
	Title          string
	Line, Area     string
	Last, Min, Max string
	Peak           string // the top of the y axis
	Empty          bool
	FromTxt, ToTxt string
	PointsN        int
	unit           string
	lo, hi, yTop   float64
	fromMS, spanMS float64
	points         [][4]float64
}

const (
	chartW = 600.0
	chartH = 120.0
)

// newChart draws the first series of series; unit "%" is a percentage
// (axis 0–100 unless it goes higher), "B" bytes.
func newChart(title, unit string, series []steward.MetricSeries, from, to time.Time) chart {
	c := chart{Title: title, unit: unit, fromMS: float64(from.UnixMilli()), spanMS: float64(to.Sub(from).Milliseconds())}
	c.FromTxt, c.ToTxt = from.Local().Format("15:04"), "now"
	if len(series) == 0 || len(series[0].Points) == 0 || c.spanMS <= 0 {
		c.Empty = true
		return c
	}
	c.points = series[0].Points
	c.PointsN = len(c.points)
	// Fewer samples than the range holds (steward started lately): the
	// axis starts at the first, showing at least a minute.
	toMS := c.fromMS + c.spanMS
	if first := math.Min(c.points[0][0], toMS-60000); first > c.fromMS {
		c.fromMS, c.spanMS = first, toMS-first
		c.FromTxt = time.UnixMilli(int64(first)).Local().Format("15:04:05")
	}
	c.lo, c.hi = math.Inf(1), math.Inf(-1)
	for _, p := range c.points {
		c.lo, c.hi = math.Min(c.lo, p[1]), math.Max(c.hi, p[1])
	}
	c.yTop = niceTop(c.hi, unit)
	var line, area strings.Builder
	var x0, xn float64
	for i, p := range c.points {
		x := math.Max(0, math.Min(chartW, (p[0]-c.fromMS)/c.spanMS*chartW))
		y := chartH - p[1]/c.yTop*chartH
		if i == 0 {
			x0 = x
			fmt.Fprintf(&line, "M%.1f %.1f", x, y)
		} else {
			fmt.Fprintf(&line, " L%.1f %.1f", x, y)
		}
		xn = x
	}
	if len(c.points) == 1 { // a lone point: a short flat stroke
		xn = math.Min(chartW, x0+4)
		fmt.Fprintf(&line, " L%.1f %.1f", xn, chartH-c.points[0][1]/c.yTop*chartH)
	}
	fmt.Fprintf(&area, "%s L%.1f %.1f L%.1f %.1f Z", line.String(), xn, chartH, x0, chartH)
	c.Line, c.Area = line.String(), area.String()
	c.Last = c.format(c.points[len(c.points)-1][1])
	c.Min, c.Max, c.Peak = c.format(c.lo), c.format(c.hi), c.format(c.yTop)
	return c
}

func (c chart) format(v float64) string {
	if c.unit == "B" {
		return humanBytes(v)
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + c.unit
}

// niceTop returns the top of a chart's y axis for a largest value hi.
func niceTop(hi float64, unit string) float64 {
	if unit == "%" && hi <= 100 {
		return 100
	}
	if hi <= 0 {
		return 1
	}
	base := 10.0
	if unit == "B" {
		base = 2
	}
	top := math.Pow(base, math.Ceil(math.Log(hi)/math.Log(base)))
	for _, f := range []float64{0.25, 0.5, 0.75} { // a tighter bound when one fits
		if top*f >= hi*1.05 {
			return top * f
		}
	}
	return top
}

// diffLine is one line of a unified diff, with its kind: meta, hunk, add,
// del or ctx.
type diffLine struct {
	Kind string
	Text string
}

func parseDiff(text string) []diffLine {
	var out []diffLine
	for _, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		k := "ctx"
		switch {
		case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "---"):
			k = "meta"
		case strings.HasPrefix(l, "@@"):
			k = "hunk"
		case strings.HasPrefix(l, "+"):
			k = "add"
		case strings.HasPrefix(l, "-"):
			k = "del"
		}
		if l != "" || k != "ctx" {
			out = append(out, diffLine{Kind: k, Text: l})
		}
	}
	return out
}

// serviceBlock returns the lines of the config text that declare the
// service name: from its key under services: to the line before the next
// key (at that level or above); "" when it cannot be found.
func serviceBlock(text []byte, name string) string {
	var doc yaml.Node
	if yaml.Unmarshal(text, &doc) != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return ""
	}
	lines := strings.Split(string(text), "\n")
	top := doc.Content[0]
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value != "services" || top.Content[i+1].Kind != yaml.MappingNode {
			continue
		}
		end := len(lines) + 1 // the first line past the services
		if i+2 < len(top.Content) {
			end = top.Content[i+2].Line
		}
		svcs := top.Content[i+1]
		for j := 0; j+1 < len(svcs.Content); j += 2 {
			if svcs.Content[j].Value != name {
				continue
			}
			start, stop := svcs.Content[j].Line, end
			if j+2 < len(svcs.Content) {
				stop = svcs.Content[j+2].Line
			}
			if stop <= start {
				stop = start + 1
			}
			block := lines[start-1 : min(stop-1, len(lines))]
			for len(block) > 1 {
				l := strings.TrimSpace(block[len(block)-1])
				if l != "" && !strings.HasPrefix(l, "#") {
					break
				}
				block = block[:len(block)-1]
			}
			return dedent(block)
		}
	}
	return ""
}

// dedent removes the indentation the first line has from every line.
func dedent(lines []string) string {
	ind := len(lines[0]) - len(strings.TrimLeft(lines[0], " "))
	for i, l := range lines {
		if len(l) >= ind && strings.TrimSpace(l[:ind]) == "" {
			lines[i] = l[ind:]
		}
	}
	return strings.Join(lines, "\n")
}
