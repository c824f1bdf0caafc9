package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/auth"
)

// DefaultAlertLimit is how many alerts Alerts returns when the filter sets
// no Limit.
const DefaultAlertLimit = 1000

const alertColumns = `SELECT id, rule, subject, severity, state, message, started, fired, resolved, updated,
	flapping, reminders, acked_by, acked_at, ack_comment FROM alerts`

// AlertFilter selects alerts for Alerts.
type AlertFilter struct {
	// Open selects only pending and firing alerts.
	Open bool
	// Since selects alerts open at or after it (not resolved before it).
	Since time.Time
	// Limit is the most alerts returned, newest first; 0 means DefaultAlertLimit.
	Limit int
}

// SaveAlert stores a, inserting it when its ID is 0 (and setting the ID),
// updating it otherwise, together with tr as its newest transition, in one
// transaction. Inserting a second open alert of the same rule and subject
// fails with ECONFLICT.
func (s *Store) SaveAlert(ctx context.Context, a *steward.Alert, tr steward.AlertTransition) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("save alert: %w", err)
	}
	defer tx.Rollback()
	args := []any{a.Rule, a.Subject, a.Severity, string(a.State), a.Message, nanoOrZero(a.Started),
		nanoOrZero(a.Fired), nanoOrZero(a.Resolved), nanoOrZero(a.Updated), a.Flapping, a.Reminders,
		a.AckedBy, nanoOrZero(a.AckedAt), a.AckComment}
	if a.ID == 0 {
		err = tx.QueryRowContext(ctx, `INSERT INTO alerts (rule, subject, severity, state, message, started, fired,
	resolved, updated, flapping, reminders, acked_by, acked_at, ack_comment)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, args...).Scan(&a.ID)
		if err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed") {
			return steward.Errorf(steward.ECONFLICT, "an alert %s on %q is already open", a.Rule, a.Subject)
		}
	} else {
		var res sql.Result
		res, err = tx.ExecContext(ctx, `UPDATE alerts SET rule = ?, subject = ?, severity = ?, state = ?, message = ?,
	started = ?, fired = ?, resolved = ?, updated = ?, flapping = ?, reminders = ?, acked_by = ?, acked_at = ?,
	ack_comment = ? WHERE id = ?`, append(args, a.ID)...)
		if err == nil {
			if n, _ := res.RowsAffected(); n == 0 {
				return steward.Errorf(steward.ENOTFOUND, "alert %d not found", a.ID)
			}
		}
	}
	if err != nil {
		return fmt.Errorf("save alert: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO alert_transitions (alert, time, from_state, to_state, message)
VALUES (?, ?, ?, ?, ?)`, a.ID, unixNano(tr.Time), string(tr.From), string(tr.To), tr.Message); err != nil {
		return fmt.Errorf("save alert: %w", err)
	}
	committed, err := s.auditIn(ctx, tx, auth.ActionAck)
	if err != nil {
		return fmt.Errorf("save alert: %w", err)
	}
	if err := commit(tx, committed); err != nil {
		return fmt.Errorf("save alert: %w", err)
	}
	s.wrote()
	return nil
}

func nanoOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return unixNano(t)
}

func timeOrZero(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

type scanner interface{ Scan(dest ...any) error }

func scanAlert(r scanner) (steward.Alert, error) {
	var (
		a                                               steward.Alert
		state                                           string
		started, fired, resolved, updated, ackedAt, fla int64
	)
	err := r.Scan(&a.ID, &a.Rule, &a.Subject, &a.Severity, &state, &a.Message, &started, &fired, &resolved,
		&updated, &fla, &a.Reminders, &a.AckedBy, &ackedAt, &a.AckComment)
	a.State = steward.AlertState(state)
	a.Started, a.Fired, a.Resolved = timeOrZero(started), timeOrZero(fired), timeOrZero(resolved)
	a.Updated, a.AckedAt = timeOrZero(updated), timeOrZero(ackedAt)
	a.Flapping = fla != 0
	return a, err
}

// Alerts returns the alerts f selects, newest first.
func (s *Store) Alerts(ctx context.Context, f AlertFilter) ([]steward.Alert, error) {
	limit := f.Limit
	switch {
	case limit == 0:
		limit = DefaultAlertLimit
	case limit < 0:
		return nil, fmt.Errorf("list alerts: %w", steward.Errorf(steward.EINVALID, "alert limit %d is negative", limit))
	}
	var (
		where []string
		args  []any
	)
	if f.Open {
		where = append(where, "state != 'resolved'")
	}
	if !f.Since.IsZero() {
		where = append(where, "(resolved = 0 OR resolved >= ?)")
		args = append(args, unixNano(f.Since))
	}
	q := alertColumns
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT ?"
	rows, err := s.r.QueryContext(ctx, q, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	defer rows.Close()
	out := []steward.Alert{}
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, fmt.Errorf("list alerts: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	return out, nil
}

// Alert returns alert id with its transitions, oldest first, or ENOTFOUND.
func (s *Store) Alert(ctx context.Context, id int64) (steward.Alert, error) {
	a, err := scanAlert(s.r.QueryRowContext(ctx, alertColumns+" WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return steward.Alert{}, steward.Errorf(steward.ENOTFOUND, "alert %d not found", id)
	}
	if err != nil {
		return steward.Alert{}, fmt.Errorf("get alert %d: %w", id, err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT time, from_state, to_state, message FROM alert_transitions
WHERE alert = ? ORDER BY id`, id)
	if err != nil {
		return steward.Alert{}, fmt.Errorf("get alert %d: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			tr       steward.AlertTransition
			ns       int64
			from, to string
		)
		if err := rows.Scan(&ns, &from, &to, &tr.Message); err != nil {
			return steward.Alert{}, fmt.Errorf("get alert %d: %w", id, err)
		}
		tr.Time, tr.From, tr.To = time.Unix(0, ns).UTC(), steward.AlertState(from), steward.AlertState(to)
		a.Transitions = append(a.Transitions, tr)
	}
	if err := rows.Err(); err != nil {
		return steward.Alert{}, fmt.Errorf("get alert %d: %w", id, err)
	}
	return a, nil
}

// PruneAlerts deletes the alerts resolved before before, with their
// transitions, and the silences that ended before it.
func (s *Store) PruneAlerts(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM alerts WHERE state = 'resolved' AND resolved < ?`, unixNano(before))
	if err != nil {
		return 0, fmt.Errorf("prune alerts: %w", err)
	}
	n, _ := res.RowsAffected()
	if _, err := s.w.ExecContext(ctx, `DELETE FROM silences WHERE ends < ?`, unixNano(before)); err != nil {
		return n, fmt.Errorf("prune silences: %w", err)
	}
	s.wrote()
	return n, nil
}

// AddSilence stores sl and sets its ID.
func (s *Store) AddSilence(ctx context.Context, sl *steward.Silence) error {
	m, err := json.Marshal(sl.Matchers)
	if err != nil {
		return fmt.Errorf("add silence: %w", err)
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("add silence: %w", err)
	}
	defer tx.Rollback()
	err = tx.QueryRowContext(ctx, `INSERT INTO silences (matchers, starts, ends, by, comment) VALUES (?, ?, ?, ?, ?)
RETURNING id`, string(m), unixNano(sl.Starts), unixNano(sl.Ends), sl.By, sl.Comment).Scan(&sl.ID)
	if err != nil {
		return fmt.Errorf("add silence: %w", err)
	}
	committed, err := s.auditIn(ctx, tx, auth.ActionSilence)
	if err != nil {
		return fmt.Errorf("add silence: %w", err)
	}
	if err := commit(tx, committed); err != nil {
		return fmt.Errorf("add silence: %w", err)
	}
	s.wrote()
	return nil
}

// Silences returns the silences that have not ended at now (all of them
// when now is zero), in ID order.
func (s *Store) Silences(ctx context.Context, now time.Time) ([]steward.Silence, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, matchers, starts, ends, by, comment FROM silences
WHERE ends > ? ORDER BY id`, nanoOrZero(now))
	if err != nil {
		return nil, fmt.Errorf("list silences: %w", err)
	}
	defer rows.Close()
	out := []steward.Silence{}
	for rows.Next() {
		var (
			sl           steward.Silence
			m            string
			starts, ends int64
		)
		if err := rows.Scan(&sl.ID, &m, &starts, &ends, &sl.By, &sl.Comment); err != nil {
			return nil, fmt.Errorf("list silences: %w", err)
		}
		if err := json.Unmarshal([]byte(m), &sl.Matchers); err != nil {
			return nil, fmt.Errorf("list silences: matchers of %d: %w", sl.ID, err)
		}
		sl.Starts, sl.Ends = time.Unix(0, starts).UTC(), time.Unix(0, ends).UTC()
		out = append(out, sl)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list silences: %w", err)
	}
	return out, nil
}

// DeleteSilence removes silence id, or returns ENOTFOUND.
func (s *Store) DeleteSilence(ctx context.Context, id int64) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("delete silence: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `DELETE FROM silences WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete silence: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return steward.Errorf(steward.ENOTFOUND, "silence %d not found", id)
	}
	committed, err := s.auditIn(ctx, tx, auth.ActionSilence)
	if err != nil {
		return fmt.Errorf("delete silence: %w", err)
	}
	if err := commit(tx, committed); err != nil {
		return fmt.Errorf("delete silence: %w", err)
	}
	s.wrote()
	return nil
}
