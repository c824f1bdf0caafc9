package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/auth"
)

// DefaultRunLimit is how many runs Runs returns when the filter sets no
// Limit.
const DefaultRunLimit = 100

const runColumns = `SELECT id, kind, name, status, trigger, scheduled, created, started, ended, exit_code, attempt, error
	FROM runs`

// RunFilter selects runs for Runs.
type RunFilter struct {
	Name   string // "" for every name
	Open   bool   // only queued and running runs
	Limit  int    // at most, newest first; 0 means DefaultRunLimit
	Status steward.RunStatus
}

// AddRun stores r as a new run and sets its ID. With mark, r.Scheduled
// becomes the last scheduled time its job has taken (SetJobMark), in the
// same transaction: a scheduled time is taken exactly when its run is
// stored.
func (s *Store) AddRun(ctx context.Context, r *steward.Run, mark bool) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("add run: %w", err)
	}
	defer tx.Rollback()
	if err := insertRun(ctx, tx, r, mark); err != nil {
		return fmt.Errorf("add run: %w", err)
	}
	committed, err := s.auditIn(ctx, tx, auth.ActionRunJob)
	if err != nil {
		return fmt.Errorf("add run: %w", err)
	}
	if err := commit(tx, committed); err != nil {
		return fmt.Errorf("add run: %w", err)
	}
	s.wrote()
	return nil
}

// insertRun inserts r in tx and sets its ID; with mark, as AddRun does.
func insertRun(ctx context.Context, tx *sql.Tx, r *steward.Run, mark bool) error {
	err := tx.QueryRowContext(ctx, `INSERT INTO runs (kind, name, status, trigger, scheduled, created, started,
	ended, exit_code, attempt, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		r.Kind, r.Name, string(r.Status), r.Trigger, nanoOrZero(r.Scheduled), nanoOrZero(r.Created),
		nanoOrZero(r.Started), nanoOrZero(r.Ended), exitCode(r.ExitCode), r.Attempt, r.Error).Scan(&r.ID)
	if err != nil {
		return err
	}
	if mark {
		if _, err := tx.ExecContext(ctx, markJob, r.Name, unixNano(r.Scheduled)); err != nil {
			return err
		}
	}
	return nil
}

const markJob = `INSERT INTO job_marks (name, scheduled) VALUES (?, ?)
	ON CONFLICT (name) DO UPDATE SET scheduled = excluded.scheduled`

// UpdateRun stores the status, times, exit code and error of run r.
func (s *Store) UpdateRun(ctx context.Context, r *steward.Run) error {
	res, err := s.w.ExecContext(ctx, `UPDATE runs SET status = ?, started = ?, ended = ?, exit_code = ?, error = ?
	WHERE id = ?`, string(r.Status), nanoOrZero(r.Started), nanoOrZero(r.Ended), exitCode(r.ExitCode), r.Error, r.ID)
	if err != nil {
		return fmt.Errorf("update run %d: %w", r.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return steward.Errorf(steward.ENOTFOUND, "run %d not found", r.ID)
	}
	s.wrote()
	return nil
}

// SetRunOutput stores the captured output of run id.
func (s *Store) SetRunOutput(ctx context.Context, id int64, out []byte, truncated bool) error {
	if _, err := s.w.ExecContext(ctx, `UPDATE runs SET output = ?, truncated = ? WHERE id = ?`, out, truncated, id); err != nil {
		return fmt.Errorf("store output of run %d: %w", id, err)
	}
	s.wrote()
	return nil
}

// RunOutput returns the captured output of run id.
func (s *Store) RunOutput(ctx context.Context, id int64) (out []byte, truncated bool, err error) {
	err = s.r.QueryRowContext(ctx, `SELECT output, truncated FROM runs WHERE id = ?`, id).Scan(&out, &truncated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, steward.Errorf(steward.ENOTFOUND, "run %d not found", id)
	}
	if err != nil {
		return nil, false, fmt.Errorf("read output of run %d: %w", id, err)
	}
	return out, truncated, nil
}

func exitCode(c *int) any {
	if c == nil {
		return nil
	}
	return *c
}

func scanRun(r scanner) (steward.Run, error) {
	var (
		run                                steward.Run
		status                             string
		scheduled, created, started, ended int64
		code                               sql.NullInt64
	)
	err := r.Scan(&run.ID, &run.Kind, &run.Name, &status, &run.Trigger, &scheduled, &created, &started, &ended,
		&code, &run.Attempt, &run.Error)
	run.Status = steward.RunStatus(status)
	run.Scheduled, run.Created = timeOrZero(scheduled), timeOrZero(created)
	run.Started, run.Ended = timeOrZero(started), timeOrZero(ended)
	if code.Valid {
		c := int(code.Int64)
		run.ExitCode = &c
	}
	return run, err
}

// Run returns run id.
func (s *Store) Run(ctx context.Context, id int64) (steward.Run, error) {
	r, err := scanRun(s.r.QueryRowContext(ctx, runColumns+` WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, steward.Errorf(steward.ENOTFOUND, "run %d not found", id)
	}
	if err != nil {
		return r, fmt.Errorf("read run %d: %w", id, err)
	}
	return r, nil
}

// Runs returns the runs f selects, newest first.
func (s *Store) Runs(ctx context.Context, f RunFilter) ([]steward.Run, error) {
	limit := f.Limit
	switch {
	case limit == 0:
		limit = DefaultRunLimit
	case limit < 0:
		return nil, fmt.Errorf("list runs: %w", steward.Errorf(steward.EINVALID, "run limit %d is negative", limit))
	}
	q, args := runColumns+` WHERE 1 = 1`, []any{}
	if f.Name != "" {
		q += ` AND name = ?`
		args = append(args, f.Name)
	}
	if f.Open {
		q += ` AND status IN ('queued', 'running')`
	}
	if f.Status != "" {
		q += ` AND status = ?`
		args = append(args, string(f.Status))
	}
	rows, err := s.r.QueryContext(ctx, q+` ORDER BY id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	out, err := scanRuns(rows)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	return out, nil
}

// scanRuns reads the runs of rows (runColumns) and closes them; nil when
// there are none.
func scanRuns(rows *sql.Rows) ([]steward.Run, error) {
	defer rows.Close()
	var out []steward.Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// JobMark returns the last scheduled time job name has taken, and false
// when it has none.
func (s *Store) JobMark(ctx context.Context, name string) (time.Time, bool, error) {
	var ns int64
	err := s.r.QueryRowContext(ctx, `SELECT scheduled FROM job_marks WHERE name = ?`, name).Scan(&ns)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("read mark of job %s: %w", name, err)
	}
	return timeOrZero(ns), true, nil
}

// SetJobMark stores t as the last scheduled time job name has taken.
func (s *Store) SetJobMark(ctx context.Context, name string, t time.Time) error {
	_, err := s.w.ExecContext(ctx, markJob, name, unixNano(t))
	if err != nil {
		return fmt.Errorf("store mark of job %s: %w", name, err)
	}
	s.wrote()
	return nil
}

// PruneRuns deletes the runs that ended before before, and those past the
// newest keep runs that ended of their job or workflow, but never the
// newest run of one, and returns how many it deleted. The steps of a
// workflow run go with it.
func (s *Store) PruneRuns(ctx context.Context, before time.Time, keep int) (int64, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM runs WHERE ended > 0
	AND (ended < ? OR id IN (SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY name ORDER BY id DESC) AS n
		FROM runs WHERE ended > 0) WHERE n > ?))
	AND id NOT IN (SELECT max(id) FROM runs GROUP BY name)`, unixNano(before), max(keep, 1))
	if err != nil {
		return 0, fmt.Errorf("prune runs: %w", err)
	}
	s.wrote()
	n, _ := res.RowsAffected()
	return n, nil
}
