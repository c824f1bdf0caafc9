package store

import (
	"context"
	"fmt"
	"time"

	"github.com/stewardhq/steward"
)

// LogOffset is where a log watch stopped reading one file. The file is
// known by its identity (device and inode; volume serial and file index on
// Windows), not by its name, which rotation changes.
type LogOffset struct {
	Watch    string // the log watch, by its service name
	Identity string // the file's identity, as the log watch spells it
	Path     string // where the file was last seen; informational
	Offset   int64  // bytes read and handled
	// HeadLen and HeadHash guard against a reused identity: HeadHash is the
	// hex SHA-256 of the file's first HeadLen bytes.
	HeadLen  int
	HeadHash string
	Updated  time.Time
}

// LogOffsets returns the offsets stored for watch, in identity order.
func (s *Store) LogOffsets(ctx context.Context, watch string) ([]LogOffset, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT watch, identity, path, offset, head_len, head_hash, updated
FROM log_offsets WHERE watch = ? ORDER BY identity`, watch)
	if err != nil {
		return nil, fmt.Errorf("list log offsets: %w", err)
	}
	defer rows.Close()
	offs := []LogOffset{}
	for rows.Next() {
		var (
			o  LogOffset
			ns int64
		)
		if err := rows.Scan(&o.Watch, &o.Identity, &o.Path, &o.Offset, &o.HeadLen, &o.HeadHash, &ns); err != nil {
			return nil, fmt.Errorf("list log offsets: %w", err)
		}
		o.Updated = nanoTime(ns)
		offs = append(offs, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list log offsets: %w", err)
	}
	return offs, nil
}

// SaveLogOffsets stores offs, replacing what was stored for the same watch
// and identity, and deletes the offsets of watch whose identity is in
// forget, all in one transaction. A zero Updated is set to the current time.
func (s *Store) SaveLogOffsets(ctx context.Context, watch string, offs []LogOffset, forget []string) (err error) {
	for _, o := range offs {
		if o.Watch != watch || o.Identity == "" || o.Offset < 0 {
			return fmt.Errorf("save log offsets: %w", steward.Errorf(steward.EINVALID,
				"invalid log offset %q/%q at %d for watch %q", o.Watch, o.Identity, o.Offset, watch))
		}
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("save log offsets: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	now := time.Now().UTC()
	for _, o := range offs {
		if o.Updated.IsZero() {
			o.Updated = now
		}
		if _, err = tx.ExecContext(ctx, `INSERT INTO log_offsets (watch, identity, path, offset, head_len, head_hash, updated)
VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (watch, identity) DO UPDATE SET path = excluded.path,
	offset = excluded.offset, head_len = excluded.head_len, head_hash = excluded.head_hash,
	updated = excluded.updated`,
			o.Watch, o.Identity, o.Path, o.Offset, o.HeadLen, o.HeadHash, unixNano(o.Updated)); err != nil {
			return fmt.Errorf("save log offsets: %w", err)
		}
	}
	for _, id := range forget {
		if _, err = tx.ExecContext(ctx, `DELETE FROM log_offsets WHERE watch = ? AND identity = ?`, watch, id); err != nil {
			return fmt.Errorf("save log offsets: %w", err)
		}
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("save log offsets: %w", err)
	}
	s.wrote()
	return nil
}
