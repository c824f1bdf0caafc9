package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
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
	} {
		if got := pragma(t, s, tt.pragma); got != tt.want {
			t.Errorf("PRAGMA %s = %q, want %q", tt.pragma, got, tt.want)
		}
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

func TestEvents(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)

	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	var all []steward.Event
	for i := range 10 {
		svc := "a"
		if i%2 == 1 {
			svc = "b"
		}
		ev := steward.Event{
			Time: t0.Add(time.Duration(i) * time.Second), Type: steward.EventState, Service: svc,
			From: steward.StateStarting, To: steward.StateRunning, PID: 100 + i, Reason: "r",
		}
		if err := appendEvent(ctx, s, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.ID != int64(i+1) {
			t.Fatalf("ID = %d, want %d", ev.ID, i+1)
		}
		all = append(all, ev)
	}

	ids := func(evs []steward.Event) []int64 {
		out := []int64{}
		for _, ev := range evs {
			out = append(out, ev.ID)
		}
		return out
	}
	for _, tt := range []struct {
		name string
		f    EventFilter
		want []int64
	}{
		{"all", EventFilter{}, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
		{"newest 3", EventFilter{Limit: 3}, []int64{8, 9, 10}},
		{"after 4, first 3", EventFilter{AfterID: 4, Limit: 3}, []int64{5, 6, 7}},
		{"after 8", EventFilter{AfterID: 8}, []int64{9, 10}},
		{"after the last", EventFilter{AfterID: 10}, []int64{}},
		{"since", EventFilter{Since: t0.Add(7 * time.Second)}, []int64{8, 9, 10}},
		{"since, first 2", EventFilter{Since: t0.Add(2 * time.Second), Limit: 2}, []int64{3, 4}},
		{"since, other zone", EventFilter{Since: t0.Add(8 * time.Second).In(time.FixedZone("x", 3600))}, []int64{9, 10}},
		{"since far past", EventFilter{Since: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC), Limit: 1}, []int64{1}},
		{"since far future", EventFilter{Since: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)}, []int64{}},
		{"service", EventFilter{Service: "b"}, []int64{2, 4, 6, 8, 10}},
		{"service, newest 2", EventFilter{Service: "a", Limit: 2}, []int64{7, 9}},
		{"service after", EventFilter{Service: "a", AfterID: 5}, []int64{7, 9}},
		{"service, since, after", EventFilter{Service: "b", AfterID: 2, Since: t0.Add(5 * time.Second)}, []int64{6, 8, 10}},
		{"unknown service", EventFilter{Service: "zz"}, []int64{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			evs, err := s.Events(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(evs); !slices.Equal(got, tt.want) {
				t.Errorf("IDs = %v, want %v", got, tt.want)
			}
		})
	}

	evs, err := s.Events(ctx, EventFilter{AfterID: 2, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := all[2]
	if got := evs[0]; got != want {
		t.Errorf("event round trip: got %+v, want %+v", got, want)
	}

	_, err = s.Events(ctx, EventFilter{Limit: -1})
	if got := steward.ErrorCode(err); got != steward.EINVALID {
		t.Errorf("negative limit: code = %q (err %v), want %q", got, err, steward.EINVALID)
	}
}

func TestEventsDefaultLimit(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	for range DefaultEventLimit + 5 {
		if err := appendEvent(ctx, s, &steward.Event{Type: steward.EventSystem}); err != nil {
			t.Fatal(err)
		}
	}
	evs, err := s.Events(ctx, EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != DefaultEventLimit || evs[0].ID != 6 || evs[len(evs)-1].ID != DefaultEventLimit+5 {
		t.Errorf("got %d events from %d to %d, want %d from 6 to %d",
			len(evs), evs[0].ID, evs[len(evs)-1].ID, DefaultEventLimit, DefaultEventLimit+5)
	}
}

func TestAppendEventTime(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)

	before := time.Now()
	ev := steward.Event{Type: steward.EventSystem}
	if err := appendEvent(ctx, s, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Time.Before(before.Add(-time.Second)) || ev.Time.After(time.Now()) || ev.Time.Location() != time.UTC {
		t.Errorf("zero Time set to %v, want now in UTC", ev.Time)
	}

	given := time.Date(2024, 1, 2, 3, 4, 5, 6, time.FixedZone("x", -7200))
	ev = steward.Event{Type: steward.EventSystem, Time: given}
	if err := appendEvent(ctx, s, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Time != given {
		t.Errorf("Time changed to %v, want %v kept", ev.Time, given)
	}
	evs, err := s.Events(ctx, EventFilter{AfterID: ev.ID - 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := evs[0].Time; !got.Equal(given) || got.Location() != time.UTC {
		t.Errorf("stored Time = %v, want %v in UTC", got, given)
	}

	err = appendEvent(ctx, s, &steward.Event{})
	if got := steward.ErrorCode(err); got != steward.EINVALID {
		t.Errorf("empty type: code = %q (err %v), want %q", got, err, steward.EINVALID)
	}
}

func TestPruneEvents(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)

	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	s.pruneBatch = 7
	n := 3*s.pruneBatch + 2 // more than one batch
	tx, err := s.w.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := tx.Exec(appendEventSQL, t0.Add(time.Duration(i)*time.Millisecond).UnixNano(), "state", "", "", "", 0, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}

	got, err := s.PruneEvents(ctx, t0.Add(time.Duration(n-3)*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if got != int64(n-3) {
		t.Errorf("pruned %d, want %d", got, n-3)
	}
	evs, err := s.Events(ctx, EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 3 || evs[0].ID != int64(n-2) {
		t.Errorf("left %d events from ID %d, want 3 from %d", len(evs), evs[0].ID, n-2)
	}

	// Pruning everything keeps the newest event, so IDs do not start again.
	if got, err := s.PruneEvents(ctx, time.Now()); err != nil || got != 2 {
		t.Errorf("PruneEvents(now) = %d, %v, want 2, nil", got, err)
	}
	evs, err = s.Events(ctx, EventFilter{})
	if err != nil || len(evs) != 1 || evs[0].ID != int64(n) {
		t.Errorf("after PruneEvents(now): %+v, %v, want event %d alone", evs, err, n)
	}
	ev := steward.Event{Type: steward.EventSystem}
	if err := appendEvent(ctx, s, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.ID != int64(n+1) {
		t.Errorf("ID after pruning = %d, want %d", ev.ID, n+1)
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

// BenchmarkAppendEvent measures the store's part of the crash → restart
// path: one event written, as the supervisor writes it. It reports the
// median and 99th percentile of single calls beside the mean.
func BenchmarkAppendEvent(b *testing.B) {
	ctx := context.Background()
	s, _ := openTest(b)
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		ev := steward.Event{
			Type: steward.EventState, Service: "api", From: steward.StateRunning,
			To: steward.StateBackoff, PID: 4242, Reason: "exited with status 1",
		}
		start := time.Now()
		if err := appendEvent(ctx, s, &ev); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	reportPercentiles(b, lat)
}

// BenchmarkAppendEventWhileListing measures appends while another goroutine
// keeps listing the newest 1000 events, as a dashboard replaying history.
func BenchmarkAppendEventWhileListing(b *testing.B) {
	ctx := context.Background()
	s, _ := openTest(b)
	for range DefaultEventLimit {
		if err := appendEvent(ctx, s, &steward.Event{Type: steward.EventState, Reason: "seed"}); err != nil {
			b.Fatal(err)
		}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			if _, err := s.Events(ctx, EventFilter{}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for b.Loop() {
		ev := steward.Event{Type: steward.EventState, Service: "api", Reason: "exited with status 1"}
		start := time.Now()
		if err := appendEvent(ctx, s, &ev); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	close(done)
	wg.Wait()
	reportPercentiles(b, lat)
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	b.Helper()
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}

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

// appendEvent stores one event with AppendEvents and sets its ID and Time.
func appendEvent(ctx context.Context, s *Store, ev *steward.Event) error {
	evs := []steward.Event{*ev}
	if err := s.AppendEvents(ctx, evs); err != nil {
		return err
	}
	*ev = evs[0]
	return nil
}

// TestAppendEventsBatch: a batch is stored in order with increasing IDs,
// or not at all.
func TestAppendEventsBatch(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	evs := []steward.Event{{Type: "a"}, {Type: "b"}, {Type: "c"}}
	if err := s.AppendEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	for i, ev := range evs {
		if ev.ID != int64(i+1) || ev.Time.IsZero() {
			t.Errorf("event %d: ID %d, Time %v; want ID %d and a Time", i, ev.ID, ev.Time, i+1)
		}
	}
	bad := []steward.Event{{Type: "d"}, {}}
	if err := s.AppendEvents(ctx, bad); steward.ErrorCode(err) != steward.EINVALID {
		t.Errorf("batch with an empty type: err %v, want code %q", err, steward.EINVALID)
	}
	got, err := s.Events(ctx, EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[2].Type != "c" {
		t.Errorf("stored %+v, want the first batch only", got)
	}
}

// TestIsBusy: a write that meets another connection's write lock fails
// with an error IsBusy recognizes; other errors are not busy.
func TestIsBusy(t *testing.T) {
	ctx := context.Background()
	s, path := openTest(t)
	holder, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	lock, err := holder.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if _, err := lock.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	impatient, err := sql.Open("sqlite", path+"?_busy_timeout=0")
	if err != nil {
		t.Fatal(err)
	}
	defer impatient.Close()
	_, err = impatient.ExecContext(ctx, "INSERT INTO meta (key, value) VALUES ('k', 'v')")
	if !IsBusy(err) {
		t.Errorf("write under another connection's lock: IsBusy(%v) = false, want true", err)
	}
	if IsBusy(fmt.Errorf("wrapped: %w", err)) != IsBusy(err) {
		t.Error("IsBusy does not see through wrapping")
	}
	if _, err := lock.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddNotification(ctx, &Notification{Key: "k", Notifier: "n"}); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{nil, errors.New("other"), s.AddNotification(ctx, &Notification{Key: "k", Notifier: "n"})} {
		if IsBusy(err) {
			t.Errorf("IsBusy(%v) = true, want false", err)
		}
	}
}
