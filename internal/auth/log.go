package auth

import (
	"context"
	"fmt"
	"iter"
	"sync"
	"time"

	"github.com/stewardhq/steward"
)

// AuditStore keeps the audit records (internal/store).
type AuditStore interface {
	AppendAudit(ctx context.Context, r steward.AuditRecord) (steward.AuditRecord, error)
	LastAudit(ctx context.Context) (steward.AuditRecord, error)
	Audit(ctx context.Context, since time.Time, limit int) ([]steward.AuditRecord, error)
	AuditAll(ctx context.Context) iter.Seq2[steward.AuditRecord, error]
	// WithAudit returns ctx carrying r, which the store writes, stamped
	// by now, in the transaction of the change of r's action it makes
	// first with ctx; written reports whether it did.
	WithAudit(ctx context.Context, r steward.AuditRecord, now func() time.Time) (_ context.Context, written func() bool)
}

// Log is the audit log: records appended to the store, checked against
// the checkpoints Signer signs into the file at Path. It is safe for
// concurrent use.
type Log struct {
	Store  AuditStore
	Signer *Signer
	Path   string // the checkpoint file
	// Now stamps records and checkpoints; nil means time.Now.
	Now func() time.Time

	mu sync.Mutex // orders checkpoints in the file
}

func (l *Log) now() time.Time {
	if l.Now == nil {
		return time.Now()
	}
	return l.Now()
}

// Append stores r, stamped now, as the next record and returns it.
func (l *Log) Append(ctx context.Context, r steward.AuditRecord) (steward.AuditRecord, error) {
	r.Time = l.now()
	return l.Store.AppendAudit(ctx, r)
}

// WithAudit returns ctx carrying r, the record of a change a request is
// about to make, for the store to write (outcome "ok") in the change's
// own transaction; written reports whether it did. Only some changes are
// written so (see store.WithAudit); for the others written reports false
// and the caller appends the record itself.
func (l *Log) WithAudit(ctx context.Context, r steward.AuditRecord) (_ context.Context, written func() bool) {
	return l.Store.WithAudit(ctx, r, l.now)
}

// Records returns the records at or after since, newest first, at most
// limit (0: the store's default).
func (l *Log) Records(ctx context.Context, since time.Time, limit int) ([]steward.AuditRecord, error) {
	return l.Store.Audit(ctx, since, limit)
}

// Verify checks every record's chain and the tail against the latest
// checkpoint.
func (l *Log) Verify(ctx context.Context) (steward.AuditVerification, error) {
	cp, err := LatestCheckpoint(l.Path, l.Signer)
	if err != nil {
		// A checkpoint file that does not read or check is tampering too.
		return steward.AuditVerification{Problem: err.Error()}, nil
	}
	return Verify(l.Store.AuditAll(ctx), cp)
}

// Checkpoint signs the last record and appends the checkpoint to the file.
func (l *Log) Checkpoint(ctx context.Context) (steward.AuditCheckpoint, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	last, err := l.Store.LastAudit(ctx)
	if err != nil {
		return steward.AuditCheckpoint{}, err
	}
	if last.Seq == 0 {
		last.Hash = GenesisHash
	}
	c := l.Signer.Sign(last.Seq, last.Hash, l.now())
	if err := AppendCheckpoint(l.Path, c); err != nil {
		return steward.AuditCheckpoint{}, fmt.Errorf("audit checkpoint: %w", err)
	}
	return steward.AuditCheckpoint{Seq: c.Seq, Hash: c.Hash, Time: c.Time, File: l.Path, Signature: c.Signature, KeyID: l.Signer.KeyID()}, nil
}
