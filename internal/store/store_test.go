package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/testwait"
)

// openTest opens a store in a new temporary directory and closes it when
// the test ends.
func openTest(t testing.TB) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data", "steward.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s, path
}

func pragma(t *testing.T, s *Store, name string) string {
	t.Helper()
	var v string
	if err := s.w.QueryRow("PRAGMA " + name).Scan(&v); err != nil {
		t.Fatalf("PRAGMA %s: %v", name, err)
	}
	return v
}

func TestOpenSettings(t *testing.T) {
	s, path := openTest(t)
	ms, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ pragma, want string }{
		{"journal_mode", "wal"},
		{"synchronous", "1"}, // NORMAL
		{"foreign_keys", "1"},
		{"busy_timeout", "5000"},
		{"user_version", strconv.Itoa(len(ms))}, // every embedded migration applied
		{"cache_size", strconv.Itoa(-cacheKiB)},
	} {
		if got := pragma(t, s, tt.pragma); got != tt.want {
			t.Errorf("PRAGMA %s = %q, want %q", tt.pragma, got, tt.want)
		}
	}
	var readerCache string
	if err := s.r.QueryRow("PRAGMA cache_size").Scan(&readerCache); err != nil {
		t.Fatalf("PRAGMA cache_size on a reader: %v", err)
	}
	if want := strconv.Itoa(-cacheKiB); readerCache != want {
		t.Errorf("PRAGMA cache_size on a reader = %q, want %q", readerCache, want)
	}
	if runtime.GOOS != "windows" {
		for _, p := range []string{filepath.Dir(path), path} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			want := os.FileMode(0o600)
			if fi.IsDir() {
				want = 0o750
			}
			if got := fi.Mode().Perm() &^ 0o022; got != want&^0o022 {
				t.Errorf("mode of %s = %v, want %v", p, fi.Mode().Perm(), want)
			}
		}
	}
	// The readers cannot write.
	if _, err := s.r.Exec(`INSERT INTO meta (key, value) VALUES ('a', 'b')`); err == nil {
		t.Error("write through the read pool succeeded")
	}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "steward.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	ev := steward.Event{Type: steward.EventSystem, Reason: "started"}
	if err := appendEvent(ctx, s, &ev); err != nil {
		t.Fatal(err)
	}
	if err := s.SetMeta(ctx, "run_id", "r1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	evs, err := s.Events(ctx, EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].ID != ev.ID || evs[0].Reason != "started" {
		t.Errorf("events after reopen = %+v, want the one appended", evs)
	}
	if v, ok, err := s.GetMeta(ctx, "run_id"); err != nil || !ok || v != "r1" {
		t.Errorf("GetMeta(run_id) = %q, %v, %v, want r1, true, nil", v, ok, err)
	}
}

func TestMigrate(t *testing.T) {
	ctx := context.Background()
	fsys := fstest.MapFS{
		"migrations/0001_a.sql": {Data: []byte("CREATE TABLE a (x INTEGER);\nINSERT INTO a VALUES (1);")},
		"migrations/0002_b.sql": {Data: []byte("INSERT INTO a VALUES (2);")},
	}
	path := filepath.Join(t.TempDir(), "m.db")
	db, err := sql.Open("sqlite", path+"?"+writerParams)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if err := migrate(ctx, db, fsys); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	version := func() int {
		t.Helper()
		v, err := schemaVersion(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if got := version(); got != 2 {
		t.Errorf("user_version = %d, want 2", got)
	}
	// Running the migrations again applies nothing: the rows stay two.
	if err := migrate(ctx, db, fsys); err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM a").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("rows = %d, want 2: a migration ran twice", n)
	}

	// A failing migration is reported by name and leaves the version as it was.
	fsys["migrations/0003_bad.sql"] = &fstest.MapFile{Data: []byte("INSERT INTO a VALUES (3);\nCREATE TABLE a (y);")}
	err = migrate(ctx, db, fsys)
	if err == nil || !strings.Contains(err.Error(), "migration 0003_bad.sql") {
		t.Errorf("migrate with a bad file: err = %v, want one naming 0003_bad.sql", err)
	}
	if got := version(); got != 2 {
		t.Errorf("user_version after a failed migration = %d, want 2", got)
	}
	if err := db.QueryRow("SELECT count(*) FROM a").Scan(&n); err != nil || n != 2 {
		t.Errorf("rows after a failed migration = %d, %v, want 2: not rolled back", n, err)
	}
	// A database newer than this steward's migrations is refused.
	ms, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("PRAGMA user_version = " + strconv.Itoa(len(ms)+1)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = Open(ctx, path)
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("open of a newer schema: err = %v, want one saying it is newer", err)
	}
}

func TestMigrationNames(t *testing.T) {
	for _, names := range [][]string{
		{"0002_b.sql"},
		{"0001_a.sql", "0003_c.sql"},
		{"init.sql"},
	} {
		fsys := fstest.MapFS{}
		for _, n := range names {
			fsys["migrations/"+n] = &fstest.MapFile{Data: []byte("SELECT 1;")}
		}
		if _, err := loadMigrations(fsys); err == nil {
			t.Errorf("loadMigrations(%v) succeeded, want an error", names)
		}
	}
	ms, err := loadMigrations(migrationFiles)
	if err != nil || len(ms) == 0 {
		t.Fatalf("embedded migrations: %v, %v", ms, err)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()

	notDB := filepath.Join(dir, "not.db")
	if err := os.WriteFile(notDB, []byte(strings.Repeat("this is not a database\n", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(ctx, notDB)
	if err == nil || !strings.Contains(err.Error(), "not a database") || !strings.Contains(err.Error(), notDB) {
		t.Errorf("Open(not a database): err = %v, want one naming the file and saying it is not a database", err)
	}

	aFile := filepath.Join(dir, "file")
	if err := os.WriteFile(aFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{
		"",
		filepath.Join(dir, "what?.db"),
		filepath.Join(aFile, "sub", "steward.db"), // parent is a file
		dir, // a directory
	} {
		if s, err := Open(ctx, path); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded, want an error", path)
		} else if !strings.HasPrefix(err.Error(), "open store") {
			t.Errorf("Open(%q): err = %q, want it to start with the operation", path, err)
		}
	}

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if s, err := Open(canceled, filepath.Join(dir, "c.db")); err == nil {
		s.Close()
		t.Error("Open with a canceled context succeeded")
	}
}

func TestCheckpoint(t *testing.T) {
	ctx := context.Background()
	s, path := openTest(t)
	size := func() int64 {
		t.Helper()
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	before := size()
	for range checkpointEvery {
		if err := appendEvent(ctx, s, &steward.Event{Type: steward.EventSystem}); err != nil {
			t.Fatal(err)
		}
	}
	// The checkpointer copies the WAL into the database file.
	testwait.For(t, 10*time.Second, "the database file to grow: a checkpoint", func() bool { return size() > before })
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestConfigVersions(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)

	if _, ok, err := s.LatestConfigVersion(ctx); ok || err != nil {
		t.Errorf("LatestConfigVersion of an empty store = %v, %v, want false, nil", ok, err)
	}
	if vs, err := s.ConfigVersions(ctx); err != nil || vs == nil || len(vs) != 0 {
		t.Errorf("ConfigVersions of an empty store = %#v, %v, want an empty slice", vs, err)
	}

	t1 := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	in := []ConfigVersion{
		{Time: t1, Source: "startup", File: "/etc/steward.yaml", Text: []byte("services: {}\n")},
		{Source: "sighup", File: "/etc/steward.yaml", Text: []byte("services:\n  a: {command: x}\n")},
		{Source: "api:ops", File: "/etc/steward.yaml"}, // empty text
	}
	for i := range in {
		if err := s.AddConfigVersion(ctx, &in[i]); err != nil {
			t.Fatal(err)
		}
		if in[i].N != i+1 {
			t.Errorf("N = %d, want %d", in[i].N, i+1)
		}
		sum := sha256.Sum256(in[i].Text)
		if want := hex.EncodeToString(sum[:]); in[i].Hash != want {
			t.Errorf("Hash = %s, want %s", in[i].Hash, want)
		}
		if in[i].Time.IsZero() {
			t.Errorf("version %d: Time left zero", i+1)
		}
	}

	vs, err := s.ConfigVersions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 3 {
		t.Fatalf("got %d versions, want 3", len(vs))
	}
	for i, v := range vs {
		want := in[len(in)-1-i]
		want.Text = nil
		if !v.Time.Equal(want.Time) {
			t.Errorf("version %d: Time = %v, want %v", v.N, v.Time, want.Time)
		}
		v.Time, want.Time = time.Time{}, time.Time{}
		if v.N != want.N || v.Hash != want.Hash || v.Source != want.Source || v.File != want.File || v.Text != nil {
			t.Errorf("ConfigVersions()[%d] = %+v, want %+v", i, v, want)
		}
	}

	v, err := s.ConfigVersion(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if string(v.Text) != string(in[1].Text) || v.Source != "sighup" || v.N != 2 {
		t.Errorf("ConfigVersion(2) = %+v, want %+v", v, in[1])
	}
	v, err = s.ConfigVersion(ctx, 1)
	if err != nil || !v.Time.Equal(t1) {
		t.Errorf("ConfigVersion(1).Time = %v, %v, want %v", v.Time, err, t1)
	}

	latest, ok, err := s.LatestConfigVersion(ctx)
	if err != nil || !ok || latest.N != 3 || latest.Text == nil || len(latest.Text) != 0 {
		t.Errorf("LatestConfigVersion = %+v, %v, %v, want version 3 with empty text", latest, ok, err)
	}

	for _, n := range []int{0, 4, -1} {
		_, err := s.ConfigVersion(ctx, n)
		if got := steward.ErrorCode(err); got != steward.ENOTFOUND {
			t.Errorf("ConfigVersion(%d): code = %q (err %v), want %q", n, got, err, steward.ENOTFOUND)
		}
		if want := "config version " + strconv.Itoa(n) + " not found"; steward.ErrorMessage(err) != want {
			t.Errorf("ConfigVersion(%d): message = %q, want %q", n, steward.ErrorMessage(err), want)
		}
	}
}

func TestMeta(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	if _, ok, err := s.GetMeta(ctx, "run_id"); ok || err != nil {
		t.Errorf("GetMeta of a missing key = %v, %v, want false, nil", ok, err)
	}
	for _, v := range []string{"one", "two", ""} {
		if err := s.SetMeta(ctx, "run_id", v); err != nil {
			t.Fatal(err)
		}
		if got, ok, err := s.GetMeta(ctx, "run_id"); got != v || !ok || err != nil {
			t.Errorf("GetMeta = %q, %v, %v, want %q, true, nil", got, ok, err, v)
		}
	}
	err := s.SetMeta(ctx, "", "x")
	if got := steward.ErrorCode(err); got != steward.EINVALID {
		t.Errorf("SetMeta with an empty key: code = %q (err %v), want %q", got, err, steward.EINVALID)
	}
}

func TestConcurrentUse(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)

	const writers, each = 8, 100
	var wg sync.WaitGroup
	ids := make(chan int64, writers*each)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				ev := steward.Event{Type: steward.EventState, Service: "svc", PID: w*each + i}
				if err := appendEvent(ctx, s, &ev); err != nil {
					t.Error(err)
					return
				}
				ids <- ev.ID
			}
		})
	}
	for range 2 {
		wg.Go(func() {
			for range 20 {
				if _, err := s.Events(ctx, EventFilter{Service: "svc", Limit: 50}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 10 {
			if err := s.AddConfigVersion(ctx, &ConfigVersion{Source: "test", Text: []byte{byte(i)}}); err != nil {
				t.Error(err)
				return
			}
		}
	})
	wg.Wait()
	close(ids)

	seen := map[int64]bool{}
	for id := range ids {
		if seen[id] {
			t.Errorf("ID %d given twice", id)
		}
		seen[id] = true
	}
	evs, err := s.Events(ctx, EventFilter{Limit: writers * each * 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != writers*each || len(seen) != writers*each {
		t.Errorf("stored %d events, %d distinct IDs, want %d", len(evs), len(seen), writers*each)
	}
	vs, err := s.ConfigVersions(ctx)
	if err != nil || len(vs) != 10 || vs[0].N != 10 {
		t.Errorf("config versions = %d (newest %v), %v, want 10", len(vs), vs, err)
	}
}

// TestClosed checks that every operation on a closed store fails with an
// error naming the operation.
func TestClosed(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		op  string
		err error
	}{
		{"append events", appendEvent(ctx, s, &steward.Event{Type: "x"})},
		{"list events", second(s.Events(ctx, EventFilter{}))},
		{"prune events", second(s.PruneEvents(ctx, time.Now()))},
		{"add config version", s.AddConfigVersion(ctx, &ConfigVersion{})},
		{"list config versions", second(s.ConfigVersions(ctx))},
		{"get config version", second(s.ConfigVersion(ctx, 1))},
		{"get latest config version", third(s.LatestConfigVersion(ctx))},
		{"get meta", third(s.GetMeta(ctx, "k"))},
		{"set meta", s.SetMeta(ctx, "k", "v")},
	} {
		if tt.err == nil || !strings.HasPrefix(tt.err.Error(), tt.op) {
			t.Errorf("%s on a closed store: err = %v, want one starting with %q", tt.op, tt.err, tt.op)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func third[T, U any](_ T, _ U, err error) error { return err }

func TestMigrateEdges(t *testing.T) {
	ctx := context.Background()
	s, path := openTest(t)

	// A migration another process applied meanwhile is skipped.
	if err := applyMigration(ctx, s.w, migration{version: 1, name: "0001_x.sql", sql: "CREATE TABLE events (x);"}); err != nil {
		t.Errorf("applyMigration of an applied version: %v", err)
	}

	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := migrate(ctx, db, migrationFiles); err == nil {
		t.Error("migrate on a closed database succeeded")
	}
	if err := applyMigration(ctx, db, migration{version: 2, name: "0002_x.sql"}); err == nil {
		t.Error("applyMigration on a closed database succeeded")
	}
}
