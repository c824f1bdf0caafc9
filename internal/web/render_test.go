package web

import (
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
)

func TestAgo(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"}, {-time.Second, "0s"}, {45 * time.Second, "45s"}, {192 * time.Second, "3m 12s"},
		{2*time.Hour + 5*time.Minute, "2h 5m"}, {99 * time.Hour, "4d 3h"},
	} {
		if got := ago(now, now.Add(-tc.d)); got != tc.want {
			t.Errorf("ago(%s) = %q, want %q", tc.d, got, tc.want)
		}
	}
	if got := ago(now, time.Time{}); got != "—" {
		t.Errorf("ago(zero) = %q", got)
	}
	if got := clock(now, time.Time{}); got != "—" {
		t.Errorf("clock(zero) = %q", got)
	}
	if got := clock(now, now.Add(-48*time.Hour)); !strings.Contains(got, "Dec 31") {
		t.Errorf("clock(2 days ago) = %q, want the date", got)
	}
}

func TestHumanBytes(t *testing.T) {
	for _, tc := range []struct {
		n    any
		want string
	}{
		{uint64(512), "512 B"}, {int64(2048), "2.0 KiB"}, {3 << 20, "3.0 MiB"}, {float64(150 << 30), "150 GiB"}, {"x", "0 B"},
	} {
		if got := humanBytes(tc.n); got != tc.want {
			t.Errorf("humanBytes(%v) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

func TestLocalPath(t *testing.T) {
	for in, want := range map[string]string{
		"": "/", "/": "/", "/services?q=x": "/services?q=x", "//evil.test": "/", "/\\evil.test": "/",
		"https://evil.test/": "/", "services": "/", "/%zz": "/",
	} {
		if got := localPath(in); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestChart(t *testing.T) {
	to := time.Now()
	from := to.Add(-time.Hour)
	if c := newChart("CPU", "%", nil, from, to); !c.Empty {
		t.Error("a chart of nothing is not empty")
	}
	one := []steward.MetricSeries{{Points: [][4]float64{{float64(to.Add(-time.Minute).UnixMilli()), 50, 50, 50}}}}
	c := newChart("CPU", "%", one, from, to)
	if c.Empty || !strings.HasPrefix(c.Line, "M") || !strings.Contains(c.Line, " L") || c.Last != "50.0%" || c.Peak != "100.0%" {
		t.Errorf("one point: %+v", c)
	}
	two := []steward.MetricSeries{{Points: [][4]float64{
		{float64(from.UnixMilli()), 10 << 20, 0, 0}, {float64(to.UnixMilli()), 300 << 20, 0, 0}}}}
	c = newChart("RSS", "B", two, from, to)
	if c.Min != "10.0 MiB" || c.Max != "300 MiB" || c.Last != "300 MiB" || c.Peak != "384 MiB" {
		t.Errorf("bytes: min %s max %s last %s top %s", c.Min, c.Max, c.Last, c.Peak)
	}
	if !strings.HasSuffix(c.Area, "Z") || !strings.Contains(c.Line, "L600.0 ") {
		t.Errorf("paths: %q %q", c.Line, c.Area)
	}
	for _, tc := range []struct {
		hi   float64
		unit string
		want float64
	}{{0, "B", 1}, {80, "%", 100}, {150, "%", 250}, {7, "", 7.5}, {1000, "B", 1024}} {
		if got := niceTop(tc.hi, tc.unit); got != tc.want {
			t.Errorf("niceTop(%v, %q) = %v, want %v", tc.hi, tc.unit, got, tc.want)
		}
	}
}

func TestGauge(t *testing.T) {
	if _, ok := lastGauge("CPU", nil); ok {
		t.Error("a gauge of nothing")
	}
	for v, level := range map[float64]string{10: "ok", 80: "warn", 95: "crit", 140: "crit"} {
		g, ok := lastGauge("CPU", []steward.MetricSeries{{Points: [][4]float64{{0, v, v, v}}}})
		if !ok || g.Level != level || g.Value > 100 {
			t.Errorf("gauge of %v = %+v, want level %s", v, g, level)
		}
	}
}

func TestParseDiff(t *testing.T) {
	got := parseDiff("--- version 1\n+++ version 2\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n\n")
	want := []string{"meta", "meta", "hunk", "ctx", "del", "add"}
	if len(got) != len(want) {
		t.Fatalf("parseDiff = %+v", got)
	}
	for i, l := range got {
		if l.Kind != want[i] {
			t.Errorf("line %d %q: kind %s, want %s", i, l.Text, l.Kind, want[i])
		}
	}
}

func TestServiceBlock(t *testing.T) {
	text := `# top
node: x
services:
  db:
    command: [postgres]   # the db
    ready: {tcp: ":5432"}

  # the web part
  web:
    command: ./web
checks:
  c: {tcp: ":1"}
`
	for name, want := range map[string]string{
		"db":   "db:\n  command: [postgres]   # the db\n  ready: {tcp: \":5432\"}",
		"web":  "web:\n  command: ./web",
		"nope": "",
	} {
		if got := serviceBlock([]byte(text), name); got != want {
			t.Errorf("serviceBlock(%s) = %q, want %q", name, got, want)
		}
	}
	if got := serviceBlock([]byte("services:\n  a:\n    command: x\n"), "a"); got != "a:\n  command: x" {
		t.Errorf("last in file: %q", got)
	}
	if got := serviceBlock([]byte("services: {a: {command: x}, b: {command: y}}\n"), "b"); got != "services: {a: {command: x}, b: {command: y}}" {
		t.Errorf("flow style: %q", got)
	}
	for _, bad := range []string{"", "- a\n", "services: [a]\n", ": :"} {
		if got := serviceBlock([]byte(bad), "a"); got != "" {
			t.Errorf("serviceBlock(%q) = %q", bad, got)
		}
	}
}

func TestMatchers(t *testing.T) {
	got := matchers(map[string]string{"zone": "eu", "team": "ops", "subject": "web", "rule": "cpu", "app": "shop"})
	if got != "rule=cpu subject=web app=shop team=ops zone=eu" {
		t.Errorf("matchers = %q", got)
	}
}
