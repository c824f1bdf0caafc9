package metrics

import (
	"context"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/shirou/gopsutil/v4/disk"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/testwait"
)

var ctx = context.Background()

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var _ HistoryStore = (*store.Store)(nil)

func openStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// start is a minute boundary, so that the rows of each tier line up.
var start = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)

func newHistory(t testing.TB, st *store.Store, c *clock) *History {
	t.Helper()
	h, err := NewHistory(ctx, HistoryOptions{Store: st, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestHistoryQuery(t *testing.T) {
	st := openStore(t)
	c := &clock{t: start}
	h := newHistory(t, st, c)
	// Two services, one sample every 10 s for 2 hours: web's value is the
	// minute of the hour, db's 100 + that.
	for i := range 720 {
		ts := start.Add(time.Duration(i) * 10 * time.Second)
		m := float64(ts.Minute())
		if err := h.Record(ctx,
			Sample{Name: ServiceCPU, Labels: map[string]string{"service": "web"}, Value: m, Time: ts},
			Sample{Name: ServiceCPU, Labels: map[string]string{"service": "db"}, Value: 100 + m, Time: ts},
		); err != nil {
			t.Fatal(err)
		}
	}
	c.Add(2 * time.Hour)
	// One series by label, raw, per minute: the average of six samples.
	got, err := h.Query(ctx, Query{Name: ServiceCPU, Labels: map[string]string{"service": "web"},
		From: start, To: start.Add(10 * time.Minute), Step: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Labels["service"] != "web" || len(got[0].Points) != 10 || got[0].Tier != "1m" {
		t.Fatalf("query = %+v", got)
	}
	for i, p := range got[0].Points {
		if want := float64(start.Add(time.Duration(i) * time.Minute).UnixMilli()); p[0] != want || p[1] != float64(i) || p[2] != float64(i) || p[3] != float64(i) {
			t.Errorf("point %d = %v, want [%v %d %d %d]", i, p, want, i, i, i)
		}
	}
	// Both series, per hour: the 1h tier; avg of 0..59 is 29.5.
	got, err = h.Query(ctx, Query{Name: ServiceCPU, From: start, To: start.Add(2 * time.Hour), Step: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Labels["service"] != "db" || got[0].Tier != "1h" || len(got[1].Points) != 2 {
		t.Fatalf("query = %+v", got)
	}
	if p := got[1].Points[0]; p[1] != 29.5 || p[2] != 0 || p[3] != 59 {
		t.Errorf("hour point = %v, want avg 29.5 min 0 max 59", p)
	}
	// A 10 s step reads raw samples.
	got, err = h.Query(ctx, Query{Name: ServiceCPU, Labels: map[string]string{"service": "web"},
		From: start.Add(time.Hour), To: start.Add(time.Hour + time.Minute), Step: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Tier != "raw" || len(got[0].Points) != 6 {
		t.Fatalf("raw query = %+v", got)
	}
	// Defaults: the last hour, about 600 points.
	got, err = h.Query(ctx, Query{Name: ServiceCPU, Labels: map[string]string{"service": "db"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got[0].Points) != 360 || got[0].Step != 6000 {
		t.Errorf("default query: %d points of %d ms", len(got[0].Points), got[0].Step)
	}
	// No such series: no series.
	if got, err := h.Query(ctx, Query{Name: "nothing"}); err != nil || len(got) != 0 {
		t.Errorf("query of nothing = %v, %v", got, err)
	}
	for _, q := range []Query{
		{},
		{Name: "x", From: start, To: start},
		{Name: "x", Step: -time.Second},
		{Name: "x", Step: time.Microsecond},
		{Name: "x", From: start, To: start.Add(24 * time.Hour), Step: time.Second},
	} {
		if _, err := h.Query(ctx, q); steward.ErrorCode(err) != steward.EINVALID {
			t.Errorf("Query(%+v): %v, want invalid", q, err)
		}
	}
}

// TestRetention prunes each tier after its retention, on the injected
// clock, and a query older than the raw retention reads the minute tier.
func TestRetention(t *testing.T) {
	st := openStore(t)
	c := &clock{t: start}
	h, err := NewHistory(ctx, HistoryOptions{Store: st, Now: c.Now, KeepRaw: time.Hour, KeepMinute: 3 * time.Hour, KeepHour: 6 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 8 * 60 { // one sample a minute for 8 hours
		ts := start.Add(time.Duration(i) * time.Minute)
		if err := h.Record(ctx, Sample{Name: "custom", Value: 1, Time: ts}); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	c.Add(8 * time.Hour)
	if err := h.Prune(ctx); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		tier store.Tier
		want time.Time
	}{
		{store.TierRaw, c.Now().Add(-time.Hour)},
		{store.TierMinute, c.Now().Add(-3 * time.Hour)},
		{store.TierHour, c.Now().Add(-6 * time.Hour)},
	} {
		got, ok, err := st.OldestMetric(ctx, tt.tier)
		if err != nil || !ok || !got.Equal(tt.want) {
			t.Errorf("oldest %s = %v %v %v, want %v", tt.tier, got, ok, err, tt.want)
		}
	}
	got, err := h.Query(ctx, Query{Name: "custom", From: c.Now().Add(-2 * time.Hour), To: c.Now(), Step: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Tier != "1m" || len(got[0].Points) != 120 {
		t.Errorf("2h query after retention: tier %s, %d points", got[0].Tier, len(got[0].Points))
	}
	got, err = h.Query(ctx, Query{Name: "custom", From: c.Now().Add(-5 * time.Hour), To: c.Now(), Step: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Tier != "1h" || len(got[0].Points) != 5 {
		t.Errorf("5h query after retention: tier %s, %d points", got[0].Tier, len(got[0].Points))
	}
	// Beyond every retention: the hour tier, with what is left.
	got, _ = h.Query(ctx, Query{Name: "custom", From: c.Now().Add(-7 * time.Hour), To: c.Now(), Step: time.Minute})
	if got[0].Tier != "1h" {
		t.Errorf("7h query: tier %s", got[0].Tier)
	}
	h.SetRetention(0, 0, 0)
	if h.keep != [3]time.Duration{24 * time.Hour, 30 * 24 * time.Hour, 365 * 24 * time.Hour} {
		t.Errorf("default retention = %v", h.keep)
	}
}

// TestHistoryReopen: series known to the store are reused after a restart,
// and a query flushes what is pending.
func TestHistoryReopen(t *testing.T) {
	st := openStore(t)
	c := &clock{t: start}
	h := newHistory(t, st, c)
	if err := h.Record(ctx, Sample{Name: "a", Labels: map[string]string{"k": "v"}, Value: 1}); err != nil {
		t.Fatal(err)
	}
	got, err := h.Query(ctx, Query{Name: "a", From: start.Add(-time.Minute), To: start.Add(time.Minute)})
	if err != nil || len(got) != 1 || len(got[0].Points) != 1 {
		t.Fatalf("query of a pending sample = %+v, %v", got, err)
	}
	h2 := newHistory(t, st, c)
	if len(h2.series) != 1 {
		t.Errorf("reopened history knows %d series, want 1", len(h2.series))
	}
	if err := h2.Record(ctx, Sample{Name: "bad name"}); steward.ErrorCode(err) != steward.EINVALID {
		t.Errorf("Record of a bad name: %v", err)
	}
	if err := h2.Record(ctx, Sample{Name: "a", Labels: map[string]string{"k": "v"}, Value: 2}); err != nil {
		t.Fatal(err)
	}
	if len(h2.series) != 1 {
		t.Errorf("a known series was added again")
	}
	latest := h2.Latest(time.Minute)
	if len(latest) != 1 || latest[0].Value != 2 {
		t.Errorf("latest = %+v", latest)
	}
	c.Add(2 * time.Minute)
	if got := h2.Latest(time.Minute); len(got) != 0 {
		t.Errorf("latest after max age = %+v", got)
	}
}

func TestHistoryRun(t *testing.T) {
	st := openStore(t)
	h, err := NewHistory(ctx, HistoryOptions{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		h.Run(rctx)
		close(done)
	}()
	if err := h.Record(ctx, Sample{Name: "x", Value: 1}); err != nil {
		t.Fatal(err)
	}
	cancel()
	<-done
	if _, ok, _ := st.OldestMetric(ctx, store.TierRaw); !ok {
		t.Error("Run did not flush at its end")
	}
}

func TestSampleValidate(t *testing.T) {
	long := strings.Repeat("a", 201)
	for _, tt := range []struct {
		s  Sample
		ok bool
	}{
		{Sample{Name: "a_b:c", Value: 1}, true},
		{Sample{Name: "", Value: 1}, false},
		{Sample{Name: "1a", Value: 1}, false},
		{Sample{Name: "a-b", Value: 1}, false},
		{Sample{Name: long, Value: 1}, false},
		{Sample{Name: "a", Value: math.NaN()}, false},
		{Sample{Name: "a", Value: math.Inf(1)}, false},
		{Sample{Name: "a", Labels: map[string]string{"a:b": "x"}}, false},
		{Sample{Name: "a", Labels: map[string]string{"k": long}}, false},
		{Sample{Name: "a", Labels: map[string]string{"k": "\x00"}}, false},
	} {
		if err := tt.s.Validate(); (err == nil) != tt.ok {
			t.Errorf("Validate(%+v) = %v, want ok %v", tt.s, err, tt.ok)
		}
	}
	many := map[string]string{}
	for i := range 17 {
		many[string(rune('a'+i))] = "v"
	}
	if err := (Sample{Name: "a", Labels: many}).Validate(); err == nil {
		t.Error("17 labels accepted")
	}
}

func TestParseLine(t *testing.T) {
	for _, tt := range []struct {
		line string
		want string // name value labels, or "skip", or "error"
	}{
		{"queue_depth 42", "queue_depth 42 {collector=c}"},
		{"  temp_c -3.5  room=lab rack=2 ", "temp_c -3.5 {collector=c rack=2 room=lab}"},
		{"x 1 collector=mine", "x 1 {collector=mine}"},
		{"", "skip"},
		{"# a comment", "skip"},
		{"lonely", "error"},
		{"x ten", "error"},
		{"x 1 nolabel", "error"},
		{"x 1 a=1 a=2", "error"},
		{"bad-name 1", "error"},
		{"x NaN", "error"},
	} {
		s, ok, err := ParseLine(tt.line, map[string]string{"collector": "c"})
		var got string
		switch {
		case err != nil:
			got = "error"
		case !ok:
			got = "skip"
		default:
			got = s.Name + " " + strconv.FormatFloat(s.Value, 'g', -1, 64) + " " + labelText(s.Labels)
		}
		if got != tt.want {
			t.Errorf("ParseLine(%q) = %q, want %q", tt.line, got, tt.want)
		}
	}
}

func labelText(l map[string]string) string {
	var parts []string
	for k, v := range l {
		parts = append(parts, k+"="+v)
	}
	slices.Sort(parts)
	return "{" + strings.Join(parts, " ") + "}"
}

// FuzzParseLine: collector output is untrusted; ParseLine must not panic
// and what it accepts must be storable.
func FuzzParseLine(f *testing.F) {
	f.Add("queue_depth 42")              // plain
	f.Add("temp -3.5e2 room=lab rack=2") // labels, exponent
	f.Add("# comment")                   // skipped
	f.Add("x 1 a==b")                    // '=' in a value
	f.Add("x 1 =v")                      // empty key
	f.Add("x\t1\x00 k=\xff")             // NUL and invalid UTF-8
	f.Fuzz(func(t *testing.T, line string) {
		s, ok, err := ParseLine(line, nil)
		if err == nil && ok {
			if verr := s.Validate(); verr != nil {
				t.Fatalf("ParseLine(%q) accepted an invalid sample: %v", line, verr)
			}
		}
		if err != nil && ok {
			t.Fatalf("ParseLine(%q): ok with an error", line)
		}
	})
}

// TestPrometheus parses GET /metrics with the official text parser.
func TestPrometheus(t *testing.T) {
	st := openStore(t)
	c := &clock{t: time.Now()}
	h := newHistory(t, st, c)
	sys := System{CPUPercent: 12.5, MemUsed: 1 << 30, MemPercent: 40, Filesystems: []Filesystem{{Mount: "/", Used: 5, Total: 10, Percent: 50}}}
	if err := h.Record(ctx, sys.Samples(nil)...); err != nil {
		t.Fatal(err)
	}
	if err := h.Record(ctx, Usage{CPUPercent: 3, RSS: 1234}.Samples("web", c.Now())...); err != nil {
		t.Fatal(err)
	}
	// A custom metric whose series have different label keys.
	if err := h.Record(ctx,
		Sample{Name: "jobs_done", Labels: map[string]string{"queue": "a"}, Value: 3},
		Sample{Name: "jobs_done", Labels: map[string]string{"host": "b"}, Value: 4},
	); err != nil {
		t.Fatal(err)
	}
	exp := NewExporter(ExporterOptions{
		History: h,
		Services: func() []steward.ServiceStatus {
			return []steward.ServiceStatus{{Name: "web", Kind: "exec", State: steward.StateRunning, Health: steward.HealthHealthy, Restarts: 3}}
		},
		Alerts:  func() map[steward.AlertState]int { return map[steward.AlertState]int{steward.AlertFiring: 2} },
		Node:    "n1",
		Version: "1.0",
	})
	rec := httptest.NewRecorder()
	exp.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, rec.Body)
	}
	value := func(name string, labels map[string]string) (float64, bool) {
		fam := fams[name]
		if fam == nil {
			return 0, false
		}
	next:
		for _, m := range fam.Metric {
			for k, v := range labels {
				found := false
				for _, lp := range m.Label {
					if lp.GetName() == k && lp.GetValue() == v {
						found = true
					}
				}
				if !found {
					continue next
				}
			}
			switch {
			case m.Gauge != nil:
				return m.Gauge.GetValue(), true
			case m.Counter != nil:
				return m.Counter.GetValue(), true
			}
		}
		return 0, false
	}
	for _, tt := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"steward_info", map[string]string{"node": "n1", "version": "1.0"}, 1},
		{"steward_service_state", map[string]string{"service": "web", "state": "running"}, 1},
		{"steward_service_state", map[string]string{"service": "web", "state": "failed"}, 0},
		{"steward_service_health", map[string]string{"service": "web", "health": "healthy"}, 1},
		{"steward_service_restarts_total", map[string]string{"service": "web"}, 3},
		{"steward_alerts", map[string]string{"state": "firing"}, 2},
		{SystemCPU, nil, 12.5},
		{SystemDiskPercent, map[string]string{"mount": "/"}, 50},
		{ServiceRSS, map[string]string{"service": "web"}, 1234},
		{"jobs_done", map[string]string{"queue": "a"}, 3},
		{"jobs_done", map[string]string{"host": "b"}, 4},
	} {
		if got, ok := value(tt.name, tt.labels); !ok || got != tt.want {
			t.Errorf("%s%v = %v (found %v), want %v", tt.name, tt.labels, got, ok, tt.want)
		}
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes"} {
		if runtime.GOOS == "linux" || name == "go_goroutines" {
			if fams[name] == nil {
				t.Errorf("steward's own %s is missing", name)
			}
		}
	}
	if fams[SystemCPU].GetHelp() == "" || !strings.Contains(fams["jobs_done"].GetHelp(), "Custom") {
		t.Errorf("help texts: %q, %q", fams[SystemCPU].GetHelp(), fams["jobs_done"].GetHelp())
	}
}

func TestSystemSampler(t *testing.T) {
	c := &clock{t: time.Now()}
	ss := &SystemSampler{Mounts: []string{"/", "/nonexistent-mount"}, Now: c.Now}
	if _, err := ss.Sample(ctx); err == nil && runtime.GOOS == "linux" {
		t.Error("a missing mount gave no error")
	}
	c.Add(time.Second)
	s, _ := ss.Sample(ctx)
	if s.MemTotal == 0 || s.MemUsed == 0 || s.MemPercent <= 0 {
		t.Errorf("memory figures missing: %+v", s)
	}
	if s.CPUPercent < 0 || s.CPUPercent > 100 {
		t.Errorf("cpu = %v", s.CPUPercent)
	}
	if v, ok := s.Figure("disk:/", "%"); !ok || v <= 0 || v > 100 {
		t.Errorf("disk:/ = %v %v; filesystems %+v", v, ok, s.Filesystems)
	}
	for _, k := range []string{"cpu", "memory", "swap", "load1", "load5", "load15", "disk_read", "disk_write", "net_recv", "net_sent"} {
		if _, ok := s.Figure(k, "%"); !ok {
			t.Errorf("no figure %s", k)
		}
	}
	if v, _ := s.Figure("memory", "B"); v != float64(s.MemUsed) {
		t.Errorf("memory in bytes = %v, want %v", v, s.MemUsed)
	}
	if _, ok := s.Figure("disk:/nonexistent-mount", "%"); ok {
		t.Error("figure of a missing mount")
	}
	if _, ok := s.Figure("nothing", "%"); ok {
		t.Error("figure of nothing")
	}
	samples := s.Samples(map[string]string{"sysmon": "m"})
	if len(samples) < 14 || samples[0].Labels["sysmon"] != "m" || !samples[0].Time.Equal(s.Time) {
		t.Errorf("samples = %+v", samples[:1])
	}
}

func TestRatesAndDisks(t *testing.T) {
	if got := rate(150, 100, 10); got != 5 {
		t.Errorf("rate = %v", got)
	}
	if got := rate(50, 100, 10); got != 0 {
		t.Errorf("rate of a reset counter = %v", got)
	}
	io := map[string]disk.IOCountersStat{
		"sda": {ReadBytes: 1000, WriteBytes: 10}, "sda1": {ReadBytes: 600, WriteBytes: 5},
		"nvme0n1": {ReadBytes: 1, WriteBytes: 1}, "nvme0n1p1": {ReadBytes: 1, WriteBytes: 1},
	}
	r, w := diskTotals(io)
	if r != 1001 || w != 11 {
		t.Errorf("disk totals = %d, %d, want 1001, 11", r, w)
	}
}

// TestCollect runs a collector command that prints good and bad lines.
func TestCollect(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs sh")
	}
	script := filepath.Join(t.TempDir(), "collect")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho 'queue_depth 7 queue=mail'\necho 'garbage'\necho '# note'\necho 'temp 21.5'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	c := config.Collector{Name: "app", Command: []string{script}, Every: 20 * time.Millisecond, Timeout: 5 * time.Second}
	samples, err := Collect(ctx, "metricstest", c)
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("error = %v, want one about line 2", err)
	}
	if len(samples) != 2 || samples[0].Labels["collector"] != "app" || samples[0].Labels["queue"] != "mail" || samples[1].Value != 21.5 {
		t.Fatalf("samples = %+v", samples)
	}
	if _, err := Collect(ctx, "metricstest", config.Collector{Name: "x", Command: []string{filepath.Join(t.TempDir(), "missing")}, Timeout: time.Second}); err == nil {
		t.Error("a missing command gave no error")
	}
	st := openStore(t)
	h, err := NewHistory(ctx, HistoryOptions{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		RunCollectors(rctx, "metricstest", []config.Collector{c}, h, slog.New(slog.DiscardHandler))
		close(done)
	}()
	testwait.For(t, 5*time.Second, "the collector's samples to be recorded", func() bool { return len(h.Latest(time.Hour)) >= 2 })
	cancel()
	<-done
}
