package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/auth"
)

// Audit listing bounds.
const (
	DefaultAuditLimit = 100
	MaxAuditLimit     = 10000
)

// CreateToken stores t with the hash of its secret. A name already taken
// is a conflict.
func (s *Store) CreateToken(ctx context.Context, t steward.Token, hash string) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("create token: %w", err)
	}
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, `INSERT INTO tokens (accessor, name, hash, role, tenant, created, expires)
VALUES (?, ?, ?, ?, ?, ?, ?)`, t.Accessor, t.Name, hash, t.Role, t.Tenant, unixNano(t.Created), nanoOrZero(t.Expires))
	if err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed") {
		return steward.Errorf(steward.ECONFLICT, "a token named %q exists", t.Name)
	}
	if err != nil {
		return fmt.Errorf("create token: %w", err)
	}
	committed, err := s.auditIn(ctx, tx, auth.ActionTokens)
	if err != nil {
		return fmt.Errorf("create token: %w", err)
	}
	if err := commit(tx, committed); err != nil {
		return fmt.Errorf("create token: %w", err)
	}
	return nil
}

const tokenColumns = `accessor, name, role, tenant, created, expires, revoked, hash`

func scanToken(sc interface{ Scan(...any) error }) (steward.Token, string, error) {
	var t steward.Token
	var created, expires, revoked int64
	var hash string
	err := sc.Scan(&t.Accessor, &t.Name, &t.Role, &t.Tenant, &created, &expires, &revoked, &hash)
	t.Created, t.Expires, t.Revoked = nanoTime(created), nanoTime(expires), nanoTime(revoked)
	return t, hash, err
}

// Tokens returns every token, revoked ones too, by name.
func (s *Store) Tokens(ctx context.Context) ([]steward.Token, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+tokenColumns+` FROM tokens ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("tokens: %w", err)
	}
	defer rows.Close()
	list := []steward.Token{}
	for rows.Next() {
		t, _, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("tokens: %w", err)
		}
		list = append(list, t)
	}
	return list, rows.Err()
}

// TokenByAccessor returns the token with accessor and the hash of its
// secret; ENOTFOUND when there is none.
func (s *Store) TokenByAccessor(ctx context.Context, accessor string) (steward.Token, string, error) {
	t, hash, err := scanToken(s.r.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE accessor = ?`, accessor))
	if errors.Is(err, sql.ErrNoRows) {
		return t, "", steward.Errorf(steward.ENOTFOUND, "no such token")
	}
	if err != nil {
		return t, "", fmt.Errorf("token: %w", err)
	}
	return t, hash, nil
}

// RevokeToken marks the token named name (or with that accessor) revoked
// at now and returns it; ENOTFOUND when there is none, a conflict when it
// is revoked already.
func (s *Store) RevokeToken(ctx context.Context, name string, now time.Time) (steward.Token, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return steward.Token{}, fmt.Errorf("revoke token: %w", err)
	}
	defer tx.Rollback()
	t, _, err := scanToken(tx.QueryRowContext(ctx, `UPDATE tokens SET revoked = ? WHERE (name = ? OR accessor = ?)
AND revoked = 0 RETURNING `+tokenColumns, unixNano(now), name, name))
	if errors.Is(err, sql.ErrNoRows) {
		tx.Rollback()
		var n int
		if s.r.QueryRowContext(ctx, `SELECT count(*) FROM tokens WHERE name = ? OR accessor = ?`, name, name).Scan(&n); n > 0 {
			return t, steward.Errorf(steward.ECONFLICT, "token %q is revoked already", name)
		}
		return t, steward.Errorf(steward.ENOTFOUND, "no token %q", name)
	}
	if err != nil {
		return t, fmt.Errorf("revoke token: %w", err)
	}
	committed, err := s.auditIn(ctx, tx, auth.ActionTokens)
	if err != nil {
		return t, fmt.Errorf("revoke token: %w", err)
	}
	if err := commit(tx, committed); err != nil {
		return t, fmt.Errorf("revoke token: %w", err)
	}
	return t, nil
}

// AppendAudit stores r as the next audit record, chained to the last one,
// and returns it with its seq and hash.
func (s *Store) AppendAudit(ctx context.Context, r steward.AuditRecord) (steward.AuditRecord, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return r, fmt.Errorf("append audit: %w", err)
	}
	defer tx.Rollback()
	if r, err = appendAudit(ctx, tx, r); err != nil {
		return r, err
	}
	if err := tx.Commit(); err != nil {
		return r, fmt.Errorf("append audit: %w", err)
	}
	return r, nil
}

// LastAudit returns the last audit record; a zero record when there is none.
func (s *Store) LastAudit(ctx context.Context) (steward.AuditRecord, error) {
	var r steward.AuditRecord
	var t int64
	err := s.r.QueryRowContext(ctx, `SELECT seq, time, principal, action, target, outcome, hash FROM audit
ORDER BY seq DESC LIMIT 1`).Scan(&r.Seq, &t, &r.Principal, &r.Action, &r.Target, &r.Outcome, &r.Hash)
	if errors.Is(err, sql.ErrNoRows) {
		return steward.AuditRecord{}, nil
	}
	r.Time = nanoTime(t)
	if err != nil {
		return r, fmt.Errorf("last audit record: %w", err)
	}
	return r, nil
}

// Audit returns the audit records at or after since, newest first, at most
// limit (0: DefaultAuditLimit).
func (s *Store) Audit(ctx context.Context, since time.Time, limit int) ([]steward.AuditRecord, error) {
	if limit <= 0 {
		limit = DefaultAuditLimit
	}
	limit = min(limit, MaxAuditLimit)
	rows, err := s.r.QueryContext(ctx, `SELECT seq, time, principal, action, target, outcome, hash FROM audit
WHERE time >= ? ORDER BY seq DESC LIMIT ?`, unixNano(since), limit)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	defer rows.Close()
	list := []steward.AuditRecord{}
	for rows.Next() {
		r, err := scanAudit(rows)
		if err != nil {
			return nil, fmt.Errorf("audit: %w", err)
		}
		list = append(list, r)
	}
	return list, rows.Err()
}

// AuditAll yields every audit record in seq order, for verification.
func (s *Store) AuditAll(ctx context.Context) iter.Seq2[steward.AuditRecord, error] {
	return func(yield func(steward.AuditRecord, error) bool) {
		rows, err := s.r.QueryContext(ctx, `SELECT seq, time, principal, action, target, outcome, hash FROM audit ORDER BY seq`)
		if err != nil {
			yield(steward.AuditRecord{}, fmt.Errorf("audit: %w", err))
			return
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanAudit(rows)
			if err != nil {
				yield(r, fmt.Errorf("audit: %w", err))
				return
			}
			if !yield(r, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(steward.AuditRecord{}, fmt.Errorf("audit: %w", err))
		}
	}
}

func scanAudit(rows *sql.Rows) (steward.AuditRecord, error) {
	var r steward.AuditRecord
	var t int64
	err := rows.Scan(&r.Seq, &t, &r.Principal, &r.Action, &r.Target, &r.Outcome, &r.Hash)
	r.Time = nanoTime(t)
	return r, err
}
