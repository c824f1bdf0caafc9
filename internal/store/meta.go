package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/stewardhq/steward"
)

// GetMeta returns the value stored under key, and false when there is none.
func (s *Store) GetMeta(ctx context.Context, key string) (string, bool, error) {
	var v string
	err := s.r.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("get meta %s: %w", key, err)
	}
	return v, true, nil
}

// SetMeta stores value under key, replacing any value it had.
func (s *Store) SetMeta(ctx context.Context, key, value string) error {
	if key == "" {
		return fmt.Errorf("set meta: %w", steward.Errorf(steward.EINVALID, "meta key is empty"))
	}
	_, err := s.w.ExecContext(ctx,
		`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
		key, value)
	if err != nil {
		return fmt.Errorf("set meta %s: %w", key, err)
	}
	s.wrote()
	return nil
}
