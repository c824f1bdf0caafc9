package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/stewardhq/steward"
)

// The reads of a report (internal/report): what happened within a time
// range, in one query per table.

// historyTypes are the event types a service's history is made of.
const historyTypes = `('` + steward.EventState + `', '` + steward.EventHealth + `', '` + steward.EventSystem + `')`

// History returns the state, health and system events of [from, to) in time
// order, after the last event of each of those types and services before
// from (what was true when the range began), in ID order.
func (s *Store) History(ctx context.Context, from, to time.Time) (before, within []steward.Event, err error) {
	before, err = s.historyEvents(ctx, eventColumns+` WHERE id IN (SELECT MAX(id) FROM events
WHERE time < ? AND type IN `+historyTypes+` GROUP BY type, service) ORDER BY id`, unixNano(from))
	if err != nil {
		return nil, nil, err
	}
	within, err = s.historyEvents(ctx, eventColumns+` WHERE time >= ? AND time < ? AND type IN `+historyTypes+` ORDER BY time, id`,
		unixNano(from), unixNano(to))
	return before, within, err
}

func (s *Store) historyEvents(ctx context.Context, q string, args ...any) ([]steward.Event, error) {
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read history: %w", err)
	}
	evs, err := scanEvents(rows)
	if err != nil {
		return nil, fmt.Errorf("read history: %w", err)
	}
	return evs, nil
}

// Incidents returns the alerts that fired and were open at some time in
// [from, to), oldest first.
func (s *Store) Incidents(ctx context.Context, from, to time.Time) ([]steward.Alert, error) {
	rows, err := s.r.QueryContext(ctx, alertColumns+` WHERE fired != 0 AND started < ? AND (resolved = 0 OR resolved >= ?)
ORDER BY started, id`, unixNano(to), unixNano(from))
	if err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	defer rows.Close()
	out := []steward.Alert{}
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, fmt.Errorf("list incidents: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	return out, nil
}

// RunsBetween returns the runs created in [from, to), oldest first.
func (s *Store) RunsBetween(ctx context.Context, from, to time.Time) ([]steward.Run, error) {
	rows, err := s.r.QueryContext(ctx, runColumns+` WHERE created >= ? AND created < ? ORDER BY id`, unixNano(from), unixNano(to))
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	out, err := scanRuns(rows)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	if out == nil {
		out = []steward.Run{}
	}
	return out, nil
}

// SeriesValues are the values of one series in a time range: the samples
// of the raw tier, or the mean of each row of an aggregate tier, in time
// order, with the greatest sample.
type SeriesValues struct {
	Series Series
	Values []float64
	Max    float64
}

// MetricValues returns the values in tier t, from from (inclusive) to to
// (exclusive), of each series named name that has some, in series ID order.
func (s *Store) MetricValues(ctx context.Context, name string, t Tier, from, to time.Time) ([]SeriesValues, error) {
	table, err := t.table()
	if err != nil {
		return nil, err
	}
	cols := `sum / count, max`
	if t == TierRaw {
		cols = `value, value`
	}
	rows, err := s.r.QueryContext(ctx, `SELECT s.id, s.labels, `+cols+` FROM metric_series s JOIN `+table+` m ON m.series = s.id
WHERE s.name = ? AND m.time >= ? AND m.time < ? ORDER BY s.id, m.time`, name, from.UnixMilli(), to.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("read metric %s: %w", name, err)
	}
	defer rows.Close()
	var out []SeriesValues
	for rows.Next() {
		var (
			id       int64
			labels   string
			mean, mx float64
		)
		if err := rows.Scan(&id, &labels, &mean, &mx); err != nil {
			return nil, fmt.Errorf("read metric %s: %w", name, err)
		}
		if len(out) == 0 || out[len(out)-1].Series.ID != id {
			se := Series{ID: id, Name: name}
			if err := json.Unmarshal([]byte(labels), &se.Labels); err != nil {
				return nil, fmt.Errorf("read metric %s: labels: %w", name, err)
			}
			out = append(out, SeriesValues{Series: se, Max: mx})
		}
		sv := &out[len(out)-1]
		sv.Values = append(sv.Values, mean)
		sv.Max = max(sv.Max, mx)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read metric %s: %w", name, err)
	}
	return out, nil
}
