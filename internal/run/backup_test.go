package run

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/backup"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/testwait"
)

// TestBackupAlerts runs a backup job for real on a fake clock: a backup
// that fails raises the job's one alert, the next that succeeds resolves
// it, and a backup gone stale for dead_man raises that alert.
func TestBackupAlerts(t *testing.T) {
	testwait.NoLeak(t)
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, filepath.Join(dir, "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	al, clk := &alerts{}, &fakeClock{now: t0}
	e := New(Options{Store: st, Alerts: al, Clock: clk})
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.Run(ctx)
	}()
	t.Cleanup(func() {
		e.Close()
		<-done
		st.Close()
	})
	src, to := filepath.Join(dir, "src"), filepath.Join(dir, "backups")
	cfg, err := config.Parse("", []byte("data_dir: "+dir+"\njobs:\n  nightly:\n    dead_man: 26h\n    backup: {paths: ["+src+"], to: "+to+", keep: {last: 3}}\n"), config.Registry{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Apply(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	run := func() steward.Run {
		t.Helper()
		r, err := e.Trigger(ctx, "nightly")
		if err != nil {
			t.Fatal(err)
		}
		if r, err = e.Wait(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
		return r
	}

	// src does not exist yet: the backup fails, and says why.
	if r := run(); r.Status != steward.RunFailed || !strings.Contains(r.Error, src) {
		t.Fatalf("backup of a missing path: %s %q, want failed naming %s", r.Status, r.Error, src)
	}
	if n := al.count(RuleJobFailed, "nightly", true); n != 1 {
		t.Fatalf("a failed backup raised the job alert %d times, want 1", n)
	}
	if list, _ := backup.List(to, ""); len(list) != 0 {
		t.Errorf("a failed backup left %d backups", len(list))
	}

	if err := os.MkdirAll(src, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "f"), []byte("data"), 0o600); err != nil {
		t.Fatal(err)
	}
	ok := run()
	if ok.Status != steward.RunSucceeded {
		t.Fatalf("backup: %s %q, want succeeded", ok.Status, ok.Error)
	}
	if n := al.count(RuleJobFailed, "nightly", false); n == 0 {
		t.Error("the successful backup did not resolve the job alert")
	}
	if list, _ := backup.List(to, "nightly"); len(list) != 1 || list[0].ID != backup.NewID("nightly", ok.Started, ok.ID) {
		t.Errorf("backups = %+v, want the one of run %d", list, ok.ID)
	}

	// No backup for 26h: stale.
	clk.Advance(26*time.Hour - time.Minute)
	if n := al.count(RuleDeadMan, "nightly", true); n != 0 {
		t.Fatal("dead man raised before 26h")
	}
	clk.Advance(time.Minute)
	testwait.For(t, 5*time.Second, "dead-man alert of a stale backup", func() bool { return al.count(RuleDeadMan, "nightly", true) == 1 })
	if r := run(); r.Status != steward.RunSucceeded {
		t.Fatalf("backup: %s %q", r.Status, r.Error)
	}
	if n := al.count(RuleDeadMan, "nightly", false); n != 1 {
		t.Errorf("a fresh backup resolved the dead man %d times, want 1", n)
	}
}
