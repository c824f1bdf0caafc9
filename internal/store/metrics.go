package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/stewardhq/steward"
)

// Tier is one resolution of the metrics history.
type Tier string

// The tiers: raw samples, 1-minute and 1-hour aggregates.
const (
	TierRaw    Tier = "raw"
	TierMinute Tier = "1m"
	TierHour   Tier = "1h"
)

// Resolution is the width of one row of tier t; 0 for raw samples.
func (t Tier) Resolution() time.Duration {
	switch t {
	case TierMinute:
		return time.Minute
	case TierHour:
		return time.Hour
	}
	return 0
}

func (t Tier) table() (string, error) {
	switch t {
	case TierRaw:
		return "metric_raw", nil
	case TierMinute:
		return "metric_1m", nil
	case TierHour:
		return "metric_1h", nil
	}
	return "", steward.Errorf(steward.EINVALID, "unknown metrics tier %q", t)
}

// Series is one metric name with one set of labels.
type Series struct {
	ID     int64
	Name   string
	Labels map[string]string
}

// Point is one sample of a series.
type Point struct {
	Series int64
	Time   time.Time
	Value  float64
}

// Bucket aggregates the samples of one step of a query.
type Bucket struct {
	Time  time.Time // start of the step
	Sum   float64
	Count int64
	Min   float64
	Max   float64
}

// LabelsKey is the canonical text of labels as stored: a JSON object with
// sorted keys, "{}" for none.
func LabelsKey(labels map[string]string) string {
	if len(labels) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(labels) // map keys are sorted; strings always marshal
	return string(b)
}

// SeriesID returns the ID of the series name with labels, adding it when
// it is new.
func (s *Store) SeriesID(ctx context.Context, name string, labels map[string]string) (int64, error) {
	if name == "" {
		return 0, fmt.Errorf("add series: %w", steward.Errorf(steward.EINVALID, "metric name is empty"))
	}
	var id int64
	err := s.w.QueryRowContext(ctx, `INSERT INTO metric_series (name, labels) VALUES (?, ?)
ON CONFLICT (name, labels) DO UPDATE SET name = excluded.name RETURNING id`, name, LabelsKey(labels)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("add series %s: %w", name, err)
	}
	s.wrote()
	return id, nil
}

// ListSeries returns every series, in ID order.
func (s *Store) ListSeries(ctx context.Context) ([]Series, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, name, labels FROM metric_series ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list series: %w", err)
	}
	defer rows.Close()
	out := []Series{}
	for rows.Next() {
		var (
			se     Series
			labels string
		)
		if err := rows.Scan(&se.ID, &se.Name, &labels); err != nil {
			return nil, fmt.Errorf("list series: %w", err)
		}
		if err := json.Unmarshal([]byte(labels), &se.Labels); err != nil {
			return nil, fmt.Errorf("list series: labels of %s: %w", se.Name, err)
		}
		out = append(out, se)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list series: %w", err)
	}
	return out, nil
}

// aggKey is one row of an aggregate tier.
type aggKey struct {
	series int64
	time   int64 // ms, start of the interval
}

type agg struct {
	sum      float64
	count    int64
	min, max float64
}

func (a *agg) add(v float64) {
	if a.count == 0 || v < a.min {
		a.min = v
	}
	if a.count == 0 || v > a.max {
		a.max = v
	}
	a.sum += v
	a.count++
}

// WriteMetrics stores points as raw samples and adds them to the 1-minute
// and 1-hour aggregates, in one transaction. A second point of a series at
// the same millisecond replaces the raw sample (the aggregates count both).
func (s *Store) WriteMetrics(ctx context.Context, points []Point) error {
	if len(points) == 0 {
		return nil
	}
	minutes := map[aggKey]*agg{}
	hours := map[aggKey]*agg{}
	for _, p := range points {
		ms := p.Time.UnixMilli()
		for _, t := range []struct {
			m     map[aggKey]*agg
			width int64
		}{{minutes, 60_000}, {hours, 3_600_000}} {
			k := aggKey{p.Series, floorDiv(ms, t.width) * t.width}
			a := t.m[k]
			if a == nil {
				a = &agg{}
				t.m[k] = a
			}
			a.add(p.Value)
		}
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("write metrics: %w", err)
	}
	defer tx.Rollback()
	raw, err := tx.PrepareContext(ctx, `INSERT OR REPLACE INTO metric_raw (series, time, value) VALUES (?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("write metrics: %w", err)
	}
	defer raw.Close()
	for _, p := range points {
		if _, err := raw.ExecContext(ctx, p.Series, p.Time.UnixMilli(), p.Value); err != nil {
			return fmt.Errorf("write metrics: %w", err)
		}
	}
	for table, m := range map[string]map[aggKey]*agg{"metric_1m": minutes, "metric_1h": hours} {
		up, err := tx.PrepareContext(ctx, `INSERT INTO `+table+` (series, time, sum, count, min, max) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (series, time) DO UPDATE SET sum = sum + excluded.sum, count = count + excluded.count,
	min = min(min, excluded.min), max = max(max, excluded.max)`)
		if err != nil {
			return fmt.Errorf("write metrics: %w", err)
		}
		for k, a := range m {
			if _, err := up.ExecContext(ctx, k.series, k.time, a.sum, a.count, a.min, a.max); err != nil {
				up.Close()
				return fmt.Errorf("write metrics: %w", err)
			}
		}
		up.Close()
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("write metrics: %w", err)
	}
	s.wrote()
	return nil
}

// floorDiv divides rounding toward negative infinity.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// AggregateMetrics returns the samples of series in tier t from from
// (inclusive) to to (exclusive), aggregated per step: one Bucket per step
// that has samples, in time order, each starting at from plus a whole
// number of steps. A step shorter than a millisecond counts as one.
func (s *Store) AggregateMetrics(ctx context.Context, series int64, t Tier, from, to time.Time, step time.Duration) ([]Bucket, error) {
	table, err := t.table()
	if err != nil {
		return nil, err
	}
	stepMS := max(step.Milliseconds(), 1)
	f, e := from.UnixMilli(), to.UnixMilli()
	var q string
	if t == TierRaw {
		q = `SELECT (time - ?1) / ?2, SUM(value), COUNT(*), MIN(value), MAX(value) FROM metric_raw
WHERE series = ?3 AND time >= ?1 AND time < ?4 GROUP BY 1 ORDER BY 1`
	} else {
		q = `SELECT (time - ?1) / ?2, SUM(sum), SUM(count), MIN(min), MAX(max) FROM ` + table + `
WHERE series = ?3 AND time >= ?1 AND time < ?4 GROUP BY 1 ORDER BY 1`
	}
	rows, err := s.r.QueryContext(ctx, q, f, stepMS, series, e)
	if err != nil {
		return nil, fmt.Errorf("query metrics: %w", err)
	}
	defer rows.Close()
	out := []Bucket{}
	for rows.Next() {
		var (
			b Bucket
			n int64
		)
		if err := rows.Scan(&n, &b.Sum, &b.Count, &b.Min, &b.Max); err != nil {
			return nil, fmt.Errorf("query metrics: %w", err)
		}
		b.Time = time.UnixMilli(f + n*stepMS).UTC()
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query metrics: %w", err)
	}
	return out, nil
}

// OldestMetric returns the time of the oldest row of tier t, and false when
// it has none.
func (s *Store) OldestMetric(ctx context.Context, t Tier) (time.Time, bool, error) {
	table, err := t.table()
	if err != nil {
		return time.Time{}, false, err
	}
	var ms sql.NullInt64
	if err := s.r.QueryRowContext(ctx, `SELECT MIN(time) FROM `+table).Scan(&ms); err != nil {
		return time.Time{}, false, fmt.Errorf("oldest metric: %w", err)
	}
	if !ms.Valid {
		return time.Time{}, false, nil
	}
	return time.UnixMilli(ms.Int64).UTC(), true, nil
}

// PruneMetrics deletes the rows of tier t older than before and returns
// how many it deleted. It deletes series by series along the primary key,
// one short transaction each, so that writes wait for one series at most.
func (s *Store) PruneMetrics(ctx context.Context, t Tier, before time.Time) (int64, error) {
	table, err := t.table()
	if err != nil {
		return 0, err
	}
	series, err := s.ListSeries(ctx)
	if err != nil {
		return 0, fmt.Errorf("prune metrics: %w", err)
	}
	var total int64
	for _, se := range series {
		res, err := s.w.ExecContext(ctx, `DELETE FROM `+table+` WHERE series = ? AND time < ?`, se.ID, before.UnixMilli())
		if err != nil {
			return total, fmt.Errorf("prune metrics: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("prune metrics: %w", err)
		}
		if n > 0 {
			s.wrote()
		}
		total += n
	}
	return total, nil
}
