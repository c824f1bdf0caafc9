package metrics

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/store"
)

// bench30 is a history holding 30 days of one sample every 10 s of one
// series (and 9 more series, so the query has to pick its own), with the
// default retention applied: raw samples for the last day, 1-minute and
// 1-hour averages for all 30.
var bench30 struct {
	once sync.Once
	h    *History
	now  time.Time
	dir  string
}

func history30(b *testing.B) (*History, time.Time) {
	bench30.once.Do(func() {
		dir, err := os.MkdirTemp("", "metrics-bench")
		if err != nil {
			b.Fatal(err)
		}
		bench30.dir = dir
		st, err := store.Open(ctx, filepath.Join(dir, "steward.db"))
		if err != nil {
			b.Fatal(err)
		}
		end := start.Add(30 * 24 * time.Hour)
		c := &clock{t: end}
		h, err := NewHistory(ctx, HistoryOptions{Store: st, Now: c.Now})
		if err != nil {
			b.Fatal(err)
		}
		var ids []int64
		for _, svc := range []string{"web", "db", "a", "b", "c", "d", "e", "f", "g", "h"} {
			id, err := st.SeriesID(ctx, ServiceCPU, map[string]string{"service": svc})
			if err != nil {
				b.Fatal(err)
			}
			ids = append(ids, id)
		}
		if _, err := NewHistory(ctx, HistoryOptions{Store: st}); err != nil {
			b.Fatal(err)
		}
		batch := make([]store.Point, 0, 8640*len(ids))
		for t := start; t.Before(end); t = t.Add(24 * time.Hour) {
			batch = batch[:0]
			for i := range 8640 {
				ts := t.Add(time.Duration(i) * 10 * time.Second)
				for j, id := range ids {
					batch = append(batch, store.Point{Series: id, Time: ts, Value: float64((i + j) % 100)})
				}
			}
			if err := st.WriteMetrics(ctx, batch); err != nil {
				b.Fatal(err)
			}
		}
		if err := h.Prune(ctx); err != nil {
			b.Fatal(err)
		}
		// A history opened afresh, as after a restart, knows every series.
		if bench30.h, err = NewHistory(ctx, HistoryOptions{Store: st, Now: c.Now}); err != nil {
			b.Fatal(err)
		}
		bench30.now = end
	})
	return bench30.h, bench30.now
}

// BenchmarkQuery30Days is GET /v1/metrics/query for one service's CPU over
// 30 days of 10 s samples, at the steps a chart asks for.
//
//	go test -run '^$' -bench Query30Days -benchtime 200x ./internal/metrics
func BenchmarkQuery30Days(b *testing.B) {
	for _, tt := range []struct {
		name string
		step time.Duration
		want int
	}{
		{"default-step", 0, 600},           // 72 min → the 1h tier
		{"step=1h", time.Hour, 720},        // the 1h tier
		{"step=5m", 5 * time.Minute, 8640}, // 43,200 1-minute rows
	} {
		b.Run(tt.name, func(b *testing.B) {
			h, now := history30(b)
			q := Query{Name: ServiceCPU, Labels: map[string]string{"service": "web"}, From: now.Add(-30 * 24 * time.Hour), To: now, Step: tt.step}
			for b.Loop() {
				got, err := h.Query(ctx, q)
				if err != nil {
					b.Fatal(err)
				}
				if len(got) != 1 || len(got[0].Points) < tt.want-2 {
					b.Fatalf("got %d series, %d points, want about %d", len(got), len(got[0].Points), tt.want)
				}
			}
		})
	}
	b.Run("last-day-raw-step=10s", func(b *testing.B) {
		h, now := history30(b)
		q := Query{Name: ServiceCPU, Labels: map[string]string{"service": "web"}, From: now.Add(-24 * time.Hour), To: now, Step: 10 * time.Second}
		for b.Loop() {
			got, err := h.Query(ctx, q)
			if err != nil {
				b.Fatal(err)
			}
			if got[0].Tier != "raw" || len(got[0].Points) < 8600 {
				b.Fatalf("tier %s, %d points", got[0].Tier, len(got[0].Points))
			}
		}
	})
}
