package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/stewardhq/steward"
)

// AddWorkflowRun stores r as a new workflow run, with params (what it was
// started with) and each of steps queued, in one transaction, and sets
// r.ID.
func (s *Store) AddWorkflowRun(ctx context.Context, r *steward.Run, params []byte, steps []string) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("add workflow run: %w", err)
	}
	defer tx.Rollback()
	if err := insertRun(ctx, tx, r, false); err != nil {
		return fmt.Errorf("add workflow run: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO run_params (run_id, params) VALUES (?, ?)`, r.ID, string(params)); err != nil {
		return fmt.Errorf("add workflow run: %w", err)
	}
	for i, name := range steps {
		if _, err := tx.ExecContext(ctx, `INSERT INTO steps (run_id, name, seq, status) VALUES (?, ?, ?, ?)`,
			r.ID, name, i, string(steward.RunQueued)); err != nil {
			return fmt.Errorf("add workflow run: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("add workflow run: %w", err)
	}
	s.wrote()
	return nil
}

// RunParams returns what workflow run id was started with.
func (s *Store) RunParams(ctx context.Context, id int64) ([]byte, error) {
	var p string
	err := s.r.QueryRowContext(ctx, `SELECT params FROM run_params WHERE run_id = ?`, id).Scan(&p)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, steward.Errorf(steward.ENOTFOUND, "run %d has no parameters", id)
	}
	if err != nil {
		return nil, fmt.Errorf("read parameters of run %d: %w", id, err)
	}
	return []byte(p), nil
}

// UpdateStep stores the status, attempt, times, exit code, error and
// outputs of step st of run id.
func (s *Store) UpdateStep(ctx context.Context, id int64, st *steward.StepRun) error {
	var outputs string
	if st.Outputs != nil {
		b, err := json.Marshal(st.Outputs)
		if err != nil {
			return fmt.Errorf("update step %s of run %d: %w", st.Name, id, err)
		}
		outputs = string(b)
	}
	res, err := s.w.ExecContext(ctx, `UPDATE steps SET status = ?, attempt = ?, started = ?, ended = ?, exit_code = ?,
	error = ?, outputs = ? WHERE run_id = ? AND name = ?`, string(st.Status), st.Attempt, nanoOrZero(st.Started),
		nanoOrZero(st.Ended), exitCode(st.ExitCode), st.Error, outputs, id, st.Name)
	if err != nil {
		return fmt.Errorf("update step %s of run %d: %w", st.Name, id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return steward.Errorf(steward.ENOTFOUND, "step %s of run %d not found", st.Name, id)
	}
	s.wrote()
	return nil
}

// SetStepOutput stores what step name of run id wrote.
func (s *Store) SetStepOutput(ctx context.Context, id int64, name string, out []byte, truncated bool) error {
	if _, err := s.w.ExecContext(ctx, `UPDATE steps SET output = ?, truncated = ? WHERE run_id = ? AND name = ?`,
		out, truncated, id, name); err != nil {
		return fmt.Errorf("store output of step %s of run %d: %w", name, id, err)
	}
	s.wrote()
	return nil
}

// Steps returns the steps of run id in file order; none for a job's run.
func (s *Store) Steps(ctx context.Context, id int64) ([]steward.StepRun, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT name, status, attempt, started, ended, exit_code, error, outputs
	FROM steps WHERE run_id = ? ORDER BY seq`, id)
	if err != nil {
		return nil, fmt.Errorf("list steps of run %d: %w", id, err)
	}
	defer rows.Close()
	var out []steward.StepRun
	for rows.Next() {
		var (
			st             steward.StepRun
			status, outs   string
			started, ended int64
			code           sql.NullInt64
		)
		if err := rows.Scan(&st.Name, &status, &st.Attempt, &started, &ended, &code, &st.Error, &outs); err != nil {
			return nil, fmt.Errorf("list steps of run %d: %w", id, err)
		}
		st.Status, st.Started, st.Ended = steward.RunStatus(status), timeOrZero(started), timeOrZero(ended)
		if code.Valid {
			c := int(code.Int64)
			st.ExitCode = &c
		}
		if outs != "" {
			if err := json.Unmarshal([]byte(outs), &st.Outputs); err != nil {
				return nil, fmt.Errorf("list steps of run %d: outputs of %s: %w", id, st.Name, err)
			}
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list steps of run %d: %w", id, err)
	}
	return out, nil
}

// StepOutput is what one step of a workflow run wrote.
type StepOutput struct {
	Name      string
	Output    []byte
	Truncated bool
}

// StepOutputs returns what each step of run id that wrote something
// wrote, in file order.
func (s *Store) StepOutputs(ctx context.Context, id int64) ([]StepOutput, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT name, output, truncated FROM steps
	WHERE run_id = ? AND length(output) > 0 ORDER BY seq`, id)
	if err != nil {
		return nil, fmt.Errorf("read output of run %d: %w", id, err)
	}
	defer rows.Close()
	var out []StepOutput
	for rows.Next() {
		var o StepOutput
		if err := rows.Scan(&o.Name, &o.Output, &o.Truncated); err != nil {
			return nil, fmt.Errorf("read output of run %d: %w", id, err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read output of run %d: %w", id, err)
	}
	return out, nil
}
