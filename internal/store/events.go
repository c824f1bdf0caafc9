package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/stewardhq/steward"
)

// DefaultEventLimit is how many events Events returns when the filter sets
// no Limit.
const DefaultEventLimit = 1000

// pruneBatch is how many events PruneEvents deletes per transaction, so
// that appends on the restart path wait for one short batch at most.
const pruneBatch = 5000

const appendEventSQL = `INSERT INTO events (time, type, service, from_state, to_state, pid, reason)
VALUES (?, ?, ?, ?, ?, ?, ?)`

const eventColumns = `SELECT id, time, type, service, from_state, to_state, pid, reason FROM events`

// EventFilter selects events for Events. Its zero value selects the newest
// DefaultEventLimit events.
type EventFilter struct {
	// AfterID selects events whose ID is greater: a replay cursor.
	AfterID int64
	// Since selects events whose Time is at or after it.
	Since time.Time
	// Service selects one service's events; "" selects all.
	Service string
	// Limit is the most events returned; 0 means DefaultEventLimit.
	// With neither AfterID nor Since set, the newest Limit matching events
	// are returned, otherwise the first Limit after the cursor.
	Limit int
}

// AppendEvents stores evs in one transaction, in order, and sets their
// IDs; a zero Time is set to the current time, any other is kept. Either
// every event is stored or none is. Event IDs increase and are never
// reused, not even after PruneEvents. An error for which IsBusy reports
// true means another connection held the database's write lock: the same
// call may succeed later.
func (s *Store) AppendEvents(ctx context.Context, evs []steward.Event) error {
	for i := range evs {
		if evs[i].Type == "" {
			return fmt.Errorf("append events: %w", steward.Errorf(steward.EINVALID, "event type is empty"))
		}
	}
	now := time.Now().UTC()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("append events: %w", err)
	}
	defer tx.Rollback()
	stmt := tx.StmtContext(ctx, s.appendEvent)
	ids := make([]int64, len(evs))
	for i := range evs {
		ev := &evs[i]
		t := cmp.Or(ev.Time, now)
		res, err := stmt.ExecContext(ctx, unixNano(t), ev.Type, ev.Service,
			string(ev.From), string(ev.To), ev.PID, ev.Reason)
		if err != nil {
			return fmt.Errorf("append events: %w", err)
		}
		if ids[i], err = res.LastInsertId(); err != nil {
			return fmt.Errorf("append events: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("append events: %w", err)
	}
	for i := range evs {
		evs[i].ID = ids[i]
		if evs[i].Time.IsZero() {
			evs[i].Time = now
		}
	}
	s.wrote()
	return nil
}

// Events returns the events f selects in ascending ID order, with times in
// UTC. It returns an empty, non-nil slice when none match.
func (s *Store) Events(ctx context.Context, f EventFilter) ([]steward.Event, error) {
	limit := f.Limit
	switch {
	case limit == 0:
		limit = DefaultEventLimit
	case limit < 0:
		return nil, fmt.Errorf("list events: %w", steward.Errorf(steward.EINVALID, "event limit %d is negative", limit))
	}
	var (
		where []string
		args  []any
	)
	if f.AfterID > 0 {
		where = append(where, "id > ?")
		args = append(args, f.AfterID)
	}
	if !f.Since.IsZero() {
		where = append(where, "time >= ?")
		args = append(args, unixNano(f.Since))
	}
	if f.Service != "" {
		where = append(where, "service = ?")
		args = append(args, f.Service)
	}
	var q strings.Builder
	q.WriteString(eventColumns)
	if len(where) > 0 {
		q.WriteString(" WHERE ")
		q.WriteString(strings.Join(where, " AND "))
	}
	newest := f.AfterID <= 0 && f.Since.IsZero()
	if newest {
		q.WriteString(" ORDER BY id DESC LIMIT ?")
	} else {
		q.WriteString(" ORDER BY id LIMIT ?")
	}
	args = append(args, limit)

	rows, err := s.r.QueryContext(ctx, q.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	evs, err := scanEvents(rows)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	if newest {
		slices.Reverse(evs)
	}
	return evs, nil
}

// PruneEvents deletes the events whose Time is before before and returns
// how many it deleted. It always keeps the newest event, whatever its Time,
// so that no event ID is ever given out twice. It deletes in batches, so
// appends made meanwhile wait for one batch at most.
func (s *Store) PruneEvents(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		res, err := s.w.ExecContext(ctx,
			`DELETE FROM events WHERE id IN (
	SELECT id FROM events WHERE time < ? AND id < (SELECT MAX(id) FROM events) ORDER BY id LIMIT ?)`,
			unixNano(before), s.pruneBatch)
		if err != nil {
			return total, fmt.Errorf("prune events: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("prune events: %w", err)
		}
		s.wrote()
		total += n
		if n < int64(s.pruneBatch) {
			return total, nil
		}
	}
}

var (
	minNanoTime = time.Unix(0, math.MinInt64)
	maxNanoTime = time.Unix(0, math.MaxInt64)
)

// unixNano is t.UnixNano clamped to the years 1678–2262 that it can
// represent, so that a far-away filter time still compares correctly.
func unixNano(t time.Time) int64 {
	switch {
	case t.Before(minNanoTime):
		return math.MinInt64
	case t.After(maxNanoTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// scanEvents reads the events of rows (eventColumns) and closes them.
func scanEvents(rows *sql.Rows) ([]steward.Event, error) {
	defer rows.Close()
	evs := []steward.Event{}
	for rows.Next() {
		var (
			ev       steward.Event
			ns       int64
			from, to string
		)
		if err := rows.Scan(&ev.ID, &ns, &ev.Type, &ev.Service, &from, &to, &ev.PID, &ev.Reason); err != nil {
			return nil, err
		}
		ev.Time = time.Unix(0, ns).UTC()
		ev.From, ev.To = steward.State(from), steward.State(to)
		evs = append(evs, ev)
	}
	return evs, rows.Err()
}
