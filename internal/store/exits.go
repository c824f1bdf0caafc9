package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/stewardhq/steward"
)

// Exit history bounds.
const (
	// DefaultExitLimit is how many exits Exits returns when asked for none.
	DefaultExitLimit = 20
	// MaxExitLimit is the most Exits returns.
	MaxExitLimit = 1000
	// keepExits is how many exits of each service AppendExits keeps.
	keepExits = 1000
)

// AppendExits stores the exit records es in one transaction and sets their
// IDs, keeping the newest keepExits of each service.
func (s *Store) AppendExits(ctx context.Context, es []steward.Exit) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("append exits: %w", err)
	}
	defer tx.Rollback()
	services := map[string]bool{}
	for i := range es {
		e := &es[i]
		lines, err := json.Marshal(e.LastLines)
		if err != nil {
			return fmt.Errorf("append exits: %w", err)
		}
		var code sql.NullInt64
		if e.ExitCode != nil {
			code = sql.NullInt64{Int64: int64(*e.ExitCode), Valid: true}
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO exits (service, pid, started, ended, exit_code, signal, status,
oom, oom_detail, peak_rss, cpu_seconds, last_lines, probe, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.Service, e.PID, unixNano(e.Started), unixNano(e.Ended), code, e.Signal, e.Status,
			e.OOM, e.OOMDetail, int64(e.PeakRSSBytes), e.CPUSeconds, string(lines), e.Probe, e.Reason)
		if err != nil {
			return fmt.Errorf("append exits: %w", err)
		}
		if e.ID, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("append exits: %w", err)
		}
		services[e.Service] = true
	}
	for svc := range services {
		if _, err := tx.ExecContext(ctx, `DELETE FROM exits WHERE service = ? AND id <= (
SELECT id FROM exits WHERE service = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`, svc, svc, keepExits); err != nil {
			return fmt.Errorf("append exits: prune: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("append exits: %w", err)
	}
	s.wrote()
	return nil
}

// Exits returns the newest limit exits of service, newest first; limit 0
// means DefaultExitLimit, and more than MaxExitLimit is MaxExitLimit.
func (s *Store) Exits(ctx context.Context, service string, limit int) ([]steward.Exit, error) {
	if limit <= 0 {
		limit = DefaultExitLimit
	}
	limit = min(limit, MaxExitLimit)
	rows, err := s.r.QueryContext(ctx, `SELECT id, service, pid, started, ended, exit_code, signal, status, oom,
oom_detail, peak_rss, cpu_seconds, last_lines, probe, reason FROM exits WHERE service = ? ORDER BY id DESC LIMIT ?`, service, limit)
	if err != nil {
		return nil, fmt.Errorf("list exits: %w", err)
	}
	defer rows.Close()
	out := []steward.Exit{}
	for rows.Next() {
		var e steward.Exit
		var started, ended, rss int64
		var code sql.NullInt64
		var lines string
		if err := rows.Scan(&e.ID, &e.Service, &e.PID, &started, &ended, &code, &e.Signal, &e.Status, &e.OOM,
			&e.OOMDetail, &rss, &e.CPUSeconds, &lines, &e.Probe, &e.Reason); err != nil {
			return nil, fmt.Errorf("list exits: %w", err)
		}
		e.Started, e.Ended = time.Unix(0, started).UTC(), time.Unix(0, ended).UTC()
		e.UptimeSeconds = e.Ended.Sub(e.Started).Seconds()
		e.PeakRSSBytes = uint64(rss)
		if code.Valid {
			c := int(code.Int64)
			e.ExitCode = &c
		}
		if err := json.Unmarshal([]byte(lines), &e.LastLines); err != nil {
			return nil, fmt.Errorf("list exits: last lines of exit %d: %w", e.ID, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list exits: %w", err)
	}
	return out, nil
}
