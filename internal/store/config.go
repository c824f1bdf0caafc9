package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/stewardhq/steward"
)

// ConfigVersion is one configuration steward applied, as it was then.
type ConfigVersion struct {
	N      int       // 1 for the first version, then one more for each
	Time   time.Time // when it was applied
	Hash   string    // SHA-256 of Text, in hex
	Source string    // who or what applied it: "startup", "sighup", "cli:root", "api:TOKEN-NAME"
	File   string    // the file it was read from
	Text   []byte    // the file's content
}

// AddConfigVersion stores v as the newest version and sets its N and Hash.
// A zero v.Time is set to the current time.
func (s *Store) AddConfigVersion(ctx context.Context, v *ConfigVersion) error {
	if v.Time.IsZero() {
		v.Time = time.Now().UTC()
	}
	sum := sha256.Sum256(v.Text)
	hash := hex.EncodeToString(sum[:])
	text := v.Text
	if text == nil {
		text = []byte{}
	}
	var n int
	err := s.w.QueryRowContext(ctx, `INSERT INTO config_versions (n, time, hash, source, file, text)
SELECT COALESCE(MAX(n), 0) + 1, ?, ?, ?, ?, ? FROM config_versions RETURNING n`,
		unixNano(v.Time), hash, v.Source, v.File, text).Scan(&n)
	if err != nil {
		return fmt.Errorf("add config version: %w", err)
	}
	s.wrote()
	v.N, v.Hash = n, hash
	return nil
}

// ConfigVersions returns every stored version, newest first, without Text.
func (s *Store) ConfigVersions(ctx context.Context) ([]ConfigVersion, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT n, time, hash, source, file FROM config_versions ORDER BY n DESC`)
	if err != nil {
		return nil, fmt.Errorf("list config versions: %w", err)
	}
	defer rows.Close()
	vs := []ConfigVersion{}
	for rows.Next() {
		var (
			v  ConfigVersion
			ns int64
		)
		if err := rows.Scan(&v.N, &ns, &v.Hash, &v.Source, &v.File); err != nil {
			return nil, fmt.Errorf("list config versions: %w", err)
		}
		v.Time = time.Unix(0, ns).UTC()
		vs = append(vs, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list config versions: %w", err)
	}
	return vs, nil
}

// ConfigVersion returns version n with its Text, or an error with code
// steward.ENOTFOUND when there is no such version.
func (s *Store) ConfigVersion(ctx context.Context, n int) (ConfigVersion, error) {
	v, err := scanConfigVersion(s.r.QueryRowContext(ctx,
		`SELECT n, time, hash, source, file, text FROM config_versions WHERE n = ?`, n))
	if errors.Is(err, sql.ErrNoRows) {
		err = steward.Errorf(steward.ENOTFOUND, "config version %d not found", n)
	}
	if err != nil {
		return ConfigVersion{}, fmt.Errorf("get config version: %w", err)
	}
	return v, nil
}

// LatestConfigVersion returns the newest version with its Text, and false
// when no version is stored.
func (s *Store) LatestConfigVersion(ctx context.Context) (ConfigVersion, bool, error) {
	v, err := scanConfigVersion(s.r.QueryRowContext(ctx,
		`SELECT n, time, hash, source, file, text FROM config_versions ORDER BY n DESC LIMIT 1`))
	if errors.Is(err, sql.ErrNoRows) {
		return ConfigVersion{}, false, nil
	}
	if err != nil {
		return ConfigVersion{}, false, fmt.Errorf("get latest config version: %w", err)
	}
	return v, true, nil
}

func scanConfigVersion(row *sql.Row) (ConfigVersion, error) {
	var (
		v  ConfigVersion
		ns int64
	)
	if err := row.Scan(&v.N, &ns, &v.Hash, &v.Source, &v.File, &v.Text); err != nil {
		return ConfigVersion{}, err
	}
	if v.Text == nil {
		v.Text = []byte{} // the driver reads an empty BLOB as nil
	}
	v.Time = time.Unix(0, ns).UTC()
	return v, nil
}
