// Package store provides steward's persistent state in one SQLite file:
// the event log, the history of applied configurations and a small
// key/value table. It uses modernc.org/sqlite (pure Go, no cgo), applies its
// own schema migrations on Open, and may be imported by any package that
// needs to remember something across restarts of steward.
//
// Durability: the database runs in WAL mode with synchronous=NORMAL. A
// write is in the WAL, in the operating system's hands, before the call that
// made it returns, so a kill -9 of steward loses nothing that was committed.
// Only a crash of the operating system or a power loss can roll back the
// last few committed transactions; it never corrupts the file.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/stewardhq/steward"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// busyTimeoutMS is how long a statement waits for a lock held by another
// process (a second steward, the sqlite3 shell) before it fails.
const busyTimeoutMS = 5000

// DSN parameters of the two pools. The writer begins its transactions with
// BEGIN IMMEDIATE so that a transaction never fails half-way on a lock
// upgrade; the readers cannot write at all. Every connection's page cache
// is capped at cacheKiB.
var (
	writerParams = "_txlock=immediate&_busy_timeout=" + strconv.Itoa(busyTimeoutMS) +
		"&_foreign_keys=1&_journal_mode=WAL&_synchronous=NORMAL" +
		"&_pragma=wal_autocheckpoint(" + strconv.Itoa(autoCheckpointPages) + ")" + cacheParam
	readerParams = "_busy_timeout=" + strconv.Itoa(busyTimeoutMS) +
		"&_foreign_keys=1&_query_only=1" + cacheParam
	cacheParam = "&_pragma=cache_size(-" + strconv.Itoa(cacheKiB) + ")"
)

// cacheKiB caps each connection's page cache, in KiB. SQLite's default,
// 2,000 KiB, fills as the events table grows (a crash-looping service adds
// to it at every restart) and is never given back: with three connections
// that was 4–6 MB more resident memory after some 20,000 restarts. The
// kernel's page cache holds the file all the same, so a smaller cache costs
// reads a system call, not a disk access.
const cacheKiB = 256

// Checkpoints copy the WAL into the database file and fsync both: a few
// milliseconds. SQLite would run them in the writer's commit, on the
// restart path, every 1000 pages; instead a goroutine runs one beside the
// writer every checkpointEvery writes. The writer's own automatic
// checkpoint stays as a safety net should that goroutine fall behind.
const (
	checkpointEvery     = 200
	autoCheckpointPages = 10000
)

// readerConns is the size of the read pool. WAL lets readers run beside the
// one writer, so a long listing never delays an AppendEvents.
const readerConns = 2

// Store is steward's SQLite database. It is safe for concurrent use: every
// write goes through one connection, in the order the calls arrive, and
// reads use a small pool of their own.
type Store struct {
	w *sql.DB // the one writer connection
	r *sql.DB // read-only connections

	appendEvent *sql.Stmt
	pruneBatch  int // pruneBatch, but tests set a smaller one

	writes         atomic.Int64  // write transactions committed, for checkpointing
	checkpointDue  chan struct{} // capacity 1: a checkpoint is wanted
	stop           chan struct{} // closed by Close: the checkpointer returns
	checkpointDone chan struct{} // closed when the checkpointer has returned
	closeOnce      sync.Once
	closeErr       error
}

// Open opens the database file at path, creating it and its parent
// directory when they do not exist, and brings its schema up to date.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, fmt.Errorf("open store: %w", steward.Errorf(steward.EINVALID, "store path is empty"))
	}
	s, err := open(ctx, path, migrationFiles)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return s, nil
}

func open(ctx context.Context, path string, migrations fs.FS) (_ *Store, err error) {
	if strings.ContainsRune(path, '?') {
		return nil, steward.Errorf(steward.EINVALID, "store path %q contains '?'", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("create directory: %w", err)
	}
	// Create the file ourselves so that it, and the -wal and -shm files
	// SQLite later gives the same mode, are readable by the owner only.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create file: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("create file: %w", err)
	}

	s := &Store{pruneBatch: pruneBatch}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()

	// The path is passed without a "file:" prefix, so SQLite takes it as a
	// plain file name (Windows drive letters and backslashes included) and
	// the driver reads the parameters after the '?'.
	if s.w, err = sql.Open("sqlite", path+"?"+writerParams); err != nil {
		return nil, err
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxLifetime(0)
	s.w.SetConnMaxIdleTime(0)
	if err := s.w.PingContext(ctx); err != nil {
		return nil, err
	}
	if err := migrate(ctx, s.w, migrations); err != nil {
		return nil, err
	}

	if s.r, err = sql.Open("sqlite", path+"?"+readerParams); err != nil {
		return nil, err
	}
	s.r.SetMaxOpenConns(readerConns)
	s.r.SetMaxIdleConns(readerConns)
	if err := s.r.PingContext(ctx); err != nil {
		return nil, err
	}

	if s.appendEvent, err = s.w.PrepareContext(ctx, appendEventSQL); err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}

	s.checkpointDue = make(chan struct{}, 1)
	s.stop = make(chan struct{})
	s.checkpointDone = make(chan struct{})
	go s.checkpointer()
	return s, nil
}

// wrote counts a committed write transaction and asks for a checkpoint
// every checkpointEvery of them.
func (s *Store) wrote() {
	if s.writes.Add(1)%checkpointEvery == 0 {
		select {
		case s.checkpointDue <- struct{}{}:
		default: // one is already due
		}
	}
}

// checkpointer runs a passive checkpoint, which never blocks the writer,
// each time one is due, until Close.
func (s *Store) checkpointer() {
	defer close(s.checkpointDone)
	for {
		select {
		case <-s.stop:
			return
		case <-s.checkpointDue:
			// An error leaves the frames in the WAL, where they are as safe:
			// the next checkpoint, or the writer's own, copies them.
			_, _ = s.r.Exec("PRAGMA wal_checkpoint(PASSIVE)")
		}
	}
}

// Close closes the database; calls made after Close fail. Closing again
// returns the first Close's result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.close() })
	return s.closeErr
}

func (s *Store) close() error {
	if s.stop != nil {
		close(s.stop)
		<-s.checkpointDone
	}
	var errs []error
	if s.appendEvent != nil {
		errs = append(errs, s.appendEvent.Close())
	}
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	if s.w != nil {
		errs = append(errs, s.w.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

// migration is one numbered schema change, from a file named like
// 0001_init.sql.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads the migrations/*.sql files of fsys in name order.
// Their numbers must run 1, 2, 3… without a gap.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	ms := make([]migration, 0, len(names))
	for i, name := range names {
		base := path.Base(name)
		num, _, _ := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if err != nil || v != i+1 {
			return nil, fmt.Errorf("migration %s: want a name starting with %04d_", base, i+1)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read migration: %w", err)
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b)})
	}
	return ms, nil
}

// migrate applies the migrations of fsys that the database lacks, each in
// its own transaction together with the PRAGMA user_version that records it.
func migrate(ctx context.Context, db *sql.DB, fsys fs.FS) error {
	ms, err := loadMigrations(fsys)
	if err != nil {
		return err
	}
	v, err := schemaVersion(ctx, db)
	if err != nil {
		return err
	}
	if v > len(ms) {
		return fmt.Errorf("database schema version %d is newer than this steward knows (%d): use a newer steward", v, len(ms))
	}
	for _, m := range ms[v:] {
		if err := applyMigration(ctx, db, m); err != nil {
			return err
		}
	}
	return nil
}

// querier is a *sql.DB or a *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func schemaVersion(ctx context.Context, q querier) (int, error) {
	var v int
	if err := q.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

func applyMigration(ctx context.Context, db *sql.DB, m migration) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migration %s: %w", m.name, err)
	}
	defer tx.Rollback()
	// Another process may have migrated since we looked.
	v, err := schemaVersion(ctx, tx)
	if err != nil {
		return fmt.Errorf("migration %s: %w", m.name, err)
	}
	if v >= m.version {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return fmt.Errorf("migration %s: %w", m.name, err)
	}
	if _, err := tx.ExecContext(ctx, "PRAGMA user_version = "+strconv.Itoa(m.version)); err != nil {
		return fmt.Errorf("migration %s: %w", m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migration %s: %w", m.name, err)
	}
	return nil
}
