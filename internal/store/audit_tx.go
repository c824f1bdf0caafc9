package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/auth"
)

// pendingAudit is the audit record of a change that a request makes, to
// be written in the change's own transaction.
type pendingAudit struct {
	st  *Store
	rec steward.AuditRecord
	now func() time.Time

	mu      sync.Mutex
	claimed bool // a transaction is writing it
	written bool // a transaction wrote it and committed
}

type pendingKey struct{}

// WithAudit returns ctx carrying rec, which the first change of rec's
// action that s makes with ctx writes as an audit record — outcome "ok",
// stamped by now — in the change's own transaction: a token created or
// revoked (tokens), a silence added or deleted (silence), an alert
// acknowledged (ack), a run added (run-job). The change and its record
// are stored together or not at all: a record that cannot be written
// fails the change. written reports whether it was written.
func (s *Store) WithAudit(ctx context.Context, rec steward.AuditRecord, now func() time.Time) (_ context.Context, written func() bool) {
	p := &pendingAudit{st: s, rec: rec, now: now}
	return context.WithValue(ctx, pendingKey{}, p), func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.written
	}
}

// auditIn writes in tx the record ctx carries for action, when it carries
// one of this store's not yet written; committed, called once tx is
// committed or rolled back, marks it written or frees it for another try.
func (s *Store) auditIn(ctx context.Context, tx *sql.Tx, action auth.Action) (committed func(ok bool), err error) {
	p, _ := ctx.Value(pendingKey{}).(*pendingAudit)
	if p == nil || p.st != s || p.rec.Action != string(action) {
		return func(bool) {}, nil
	}
	p.mu.Lock()
	if p.claimed || p.written {
		p.mu.Unlock()
		return func(bool) {}, nil
	}
	p.claimed = true
	p.mu.Unlock()
	done := func(ok bool) {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.claimed, p.written = false, ok
	}
	rec := p.rec
	rec.Time, rec.Outcome = p.now(), "ok"
	if _, err := appendAudit(ctx, tx, rec); err != nil {
		done(false)
		return nil, err
	}
	return done, nil
}

// commit commits tx, then tells committed whether it did.
func commit(tx *sql.Tx, committed func(bool)) error {
	err := tx.Commit()
	committed(err == nil)
	return err
}

// appendAudit stores r in tx as the next audit record, chained to the
// last one, and returns it with its seq and hash.
func appendAudit(ctx context.Context, tx *sql.Tx, r steward.AuditRecord) (steward.AuditRecord, error) {
	prev := auth.GenesisHash
	err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1`).Scan(&r.Seq, &prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("append audit: %w", err)
	}
	r.Seq++
	r.Time = r.Time.UTC()
	r.Hash = auth.ChainHash(prev, r)
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit (seq, time, principal, action, target, outcome, hash)
VALUES (?, ?, ?, ?, ?, ?, ?)`, r.Seq, unixNano(r.Time), r.Principal, r.Action, r.Target, r.Outcome, r.Hash); err != nil {
		return r, fmt.Errorf("append audit: %w", err)
	}
	return r, nil
}
