package metrics

import (
	"cmp"
	"context"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/store"
)

// Flushing and pruning periods of History.Run.
const (
	FlushEvery = time.Minute
	PruneEvery = time.Hour
)

// Query bounds.
const (
	// MaxPoints is the most steps a query may ask for per series.
	MaxPoints = 20000
	// defaultPoints is about how many steps a query without a step gets.
	defaultPoints = 600
	// defaultRange is the range of a query without from.
	defaultRange = time.Hour
)

// SeriesStore names the series: a metric name with its labels.
type SeriesStore interface {
	SeriesID(ctx context.Context, name string, labels map[string]string) (int64, error)
	ListSeries(ctx context.Context) ([]store.Series, error)
}

// PointStore keeps the points of the series, in tiers.
type PointStore interface {
	WriteMetrics(ctx context.Context, points []store.Point) error
	AggregateMetrics(ctx context.Context, series int64, t store.Tier, from, to time.Time, step time.Duration) ([]store.Bucket, error)
	PruneMetrics(ctx context.Context, t store.Tier, before time.Time) (int64, error)
}

// HistoryStore is where a History keeps its samples: *store.Store.
type HistoryStore interface {
	SeriesStore
	PointStore
}

// HistoryOptions configure a History.
type HistoryOptions struct {
	Store HistoryStore
	// KeepRaw, KeepMinute and KeepHour are how long each tier is kept.
	KeepRaw, KeepMinute, KeepHour time.Duration
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// History records samples in the store: raw, and averaged per minute and
// per hour, each tier pruned after its retention. Samples are kept in memory
// and written once a minute in one transaction (a kill -9 loses at most
// that minute of metrics, never an event or alert). It is safe for
// concurrent use.
type History struct {
	st  HistoryStore
	now func() time.Time
	log *slog.Logger

	mu      sync.Mutex
	keep    [3]time.Duration // raw, minute, hour
	ids     map[string]int64 // name + labels key → series ID
	series  map[int64]store.Series
	pending []store.Point
	latest  map[int64]store.Point
}

// NewHistory returns a History over o.Store, which must be open.
func NewHistory(ctx context.Context, o HistoryOptions) (*History, error) {
	h := &History{
		st:     o.Store,
		now:    o.Now,
		log:    o.Logger,
		ids:    map[string]int64{},
		series: map[int64]store.Series{},
		latest: map[int64]store.Point{},
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.SetRetention(o.KeepRaw, o.KeepMinute, o.KeepHour)
	list, err := h.st.ListSeries(ctx)
	if err != nil {
		return nil, err
	}
	for _, se := range list {
		h.ids[seriesKey(se.Name, se.Labels)] = se.ID
		h.series[se.ID] = se
	}
	return h, nil
}

// SetRetention sets how long each tier is kept; a zero keeps the default.
func (h *History) SetRetention(raw, minute, hour time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.keep = [3]time.Duration{
		cmp.Or(raw, 24*time.Hour),
		cmp.Or(minute, 30*24*time.Hour),
		cmp.Or(hour, 365*24*time.Hour),
	}
}

func seriesKey(name string, labels map[string]string) string {
	return name + store.LabelsKey(labels)
}

// Record validates samples and keeps them for the next Flush. A sample
// without a time is taken at now. Nothing is recorded when one is invalid.
func (h *History) Record(ctx context.Context, samples ...Sample) error {
	for _, s := range samples {
		if err := s.Validate(); err != nil {
			return err
		}
	}
	now := h.now()
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range samples {
		key := seriesKey(s.Name, s.Labels)
		id, ok := h.ids[key]
		if !ok {
			var err error
			if id, err = h.st.SeriesID(ctx, s.Name, s.Labels); err != nil {
				return err
			}
			h.ids[key] = id
			h.series[id] = store.Series{ID: id, Name: s.Name, Labels: maps.Clone(s.Labels)}
		}
		t := s.Time
		if t.IsZero() {
			t = now
		}
		p := store.Point{Series: id, Time: t, Value: s.Value}
		h.pending = append(h.pending, p)
		if l, ok := h.latest[id]; !ok || !t.Before(l.Time) {
			h.latest[id] = p
		}
	}
	return nil
}

// Flush writes the samples recorded since the last Flush.
func (h *History) Flush(ctx context.Context) error {
	h.mu.Lock()
	pending := h.pending
	h.pending = nil
	h.mu.Unlock()
	return h.st.WriteMetrics(ctx, pending)
}

// Prune deletes what each tier holds beyond its retention.
func (h *History) Prune(ctx context.Context) error {
	h.mu.Lock()
	keep := h.keep
	h.mu.Unlock()
	now := h.now()
	for i, t := range []store.Tier{store.TierRaw, store.TierMinute, store.TierHour} {
		if _, err := h.st.PruneMetrics(ctx, t, now.Add(-keep[i])); err != nil {
			return err
		}
	}
	return nil
}

// Run flushes every FlushEvery and prunes every PruneEvery (and once at
// the start) until ctx ends, then flushes what is left.
func (h *History) Run(ctx context.Context) {
	flush := time.NewTicker(FlushEvery)
	defer flush.Stop()
	prune := time.NewTicker(PruneEvery)
	defer prune.Stop()
	if err := h.Prune(ctx); err != nil && ctx.Err() == nil {
		h.log.Warn("prune metrics", "err", err)
	}
	for {
		select {
		case <-ctx.Done():
			if err := h.Flush(context.WithoutCancel(ctx)); err != nil {
				h.log.Warn("flush metrics", "err", err)
			}
			return
		case <-flush.C:
			if err := h.Flush(ctx); err != nil {
				h.log.Warn("flush metrics", "err", err)
			}
		case <-prune.C:
			if err := h.Prune(ctx); err != nil {
				h.log.Warn("prune metrics", "err", err)
			}
		}
	}
}

// Latest returns the newest sample of every series that has one taken
// within maxAge, sorted by name and labels.
func (h *History) Latest(maxAge time.Duration) []Sample {
	cut := h.now().Add(-maxAge)
	h.mu.Lock()
	out := make([]Sample, 0, len(h.latest))
	for id, p := range h.latest {
		if p.Time.Before(cut) {
			delete(h.latest, id)
			continue
		}
		se := h.series[id]
		out = append(out, Sample{Name: se.Name, Labels: se.Labels, Value: p.Value, Time: p.Time})
	}
	h.mu.Unlock()
	slices.SortFunc(out, func(a, b Sample) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(store.LabelsKey(a.Labels), store.LabelsKey(b.Labels))
	})
	return out
}

// Query selects series by name and labels, over a time range, in steps.
type Query struct {
	Name string
	// Labels each selected series must have (others may have more).
	Labels map[string]string
	// From and To bound the range; zero To means now, zero From an hour
	// before To.
	From, To time.Time
	// Step is the width of one point; 0 chooses about 600 points.
	Step time.Duration
}

// Series is the answer of a query for one series: one point per step that
// has samples.
type Series struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels,omitempty"`
	// Tier is the resolution the points were computed from: raw, 1m or 1h.
	Tier string `json:"tier"`
	// Step is the width of a point in milliseconds.
	Step int64 `json:"step"`
	// Points are [time (Unix ms, start of the step), average, min, max].
	Points [][4]float64 `json:"points"`
}

// Query returns the series q selects, sorted by labels.
func (h *History) Query(ctx context.Context, q Query) ([]Series, error) {
	if q.Name == "" {
		return nil, steward.Errorf(steward.EINVALID, "a metrics query needs a name")
	}
	now := h.now()
	if q.To.IsZero() {
		q.To = now
	}
	if q.From.IsZero() {
		q.From = q.To.Add(-defaultRange)
	}
	span := q.To.Sub(q.From)
	switch {
	case span <= 0:
		return nil, steward.Errorf(steward.EINVALID, "from (%s) must be before to (%s)", q.From.Format(time.RFC3339), q.To.Format(time.RFC3339))
	case q.Step < 0:
		return nil, steward.Errorf(steward.EINVALID, "step must not be negative")
	case q.Step == 0:
		q.Step = max(time.Second, (span / defaultPoints).Round(time.Second))
	case q.Step < time.Millisecond:
		return nil, steward.Errorf(steward.EINVALID, "step must be at least 1ms")
	}
	if span/q.Step > MaxPoints {
		return nil, steward.Errorf(steward.EINVALID, "step %s gives more than %d points over %s: use a larger step", q.Step, MaxPoints, span)
	}
	// Buckets start on multiples of the step, so that they hold whole
	// aggregate rows and a chart's points stay put as time goes on.
	stepMS := q.Step.Milliseconds()
	from := time.UnixMilli(floorDiv(q.From.UnixMilli(), stepMS) * stepMS)

	h.mu.Lock()
	keep := h.keep
	dirty := len(h.pending) > 0
	var ids []int64
	for id, se := range h.series {
		if se.Name == q.Name && hasLabels(se.Labels, q.Labels) {
			ids = append(ids, id)
		}
	}
	series := make([]store.Series, len(ids))
	for i, id := range ids {
		series[i] = h.series[id]
	}
	h.mu.Unlock()
	if dirty {
		if err := h.Flush(ctx); err != nil {
			return nil, err
		}
	}
	tier := chooseTier(now, from, q.Step, keep)
	out := make([]Series, 0, len(series))
	for _, se := range series {
		buckets, err := h.st.AggregateMetrics(ctx, se.ID, tier, from, q.To, q.Step)
		if err != nil {
			return nil, err
		}
		s := Series{Name: se.Name, Labels: se.Labels, Tier: string(tier), Step: stepMS, Points: make([][4]float64, len(buckets))}
		for i, b := range buckets {
			s.Points[i] = [4]float64{float64(b.Time.UnixMilli()), b.Sum / float64(b.Count), b.Min, b.Max}
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b Series) int {
		return strings.Compare(store.LabelsKey(a.Labels), store.LabelsKey(b.Labels))
	})
	return out, nil
}

// chooseTier returns the coarsest tier whose resolution fits in step and
// whose retention reaches back to from; or, when none does, the finest tier
// that reaches back to from; or the hour tier.
func chooseTier(now, from time.Time, step time.Duration, keep [3]time.Duration) store.Tier {
	tiers := []store.Tier{store.TierRaw, store.TierMinute, store.TierHour}
	covers := func(i int) bool { return !from.Before(now.Add(-keep[i])) }
	for i := len(tiers) - 1; i >= 0; i-- {
		if tiers[i].Resolution() <= step && covers(i) {
			return tiers[i]
		}
	}
	for i := range tiers {
		if covers(i) {
			return tiers[i]
		}
	}
	return store.TierHour
}

func hasLabels(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

// floorDiv divides rounding toward negative infinity.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
