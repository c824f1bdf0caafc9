package backup

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
)

// catalog returns a catalog over a config with backup jobs a and b (b in
// a directory of its own) and a command job c, a made twice and b once.
func catalog(t *testing.T) (*Catalog, *config.Config, string) {
	t.Helper()
	src := tree(t)
	dirA, dirB := t.TempDir(), t.TempDir()
	cfg := &config.Config{
		DataDir: t.TempDir(),
		Jobs: map[string]*config.Job{
			"a": {Name: "a", Backup: spec(src, dirA, config.FormatTarZstd)},
			"b": {Name: "b", Backup: spec(src, dirB, config.FormatZip)},
			"c": {Name: "c", Command: &config.JobCommand{Command: []string{"true"}}},
		},
		JobOrder: []string{"a", "b", "c"},
	}
	ctx := context.Background()
	for i, name := range []string{"a", "b", "a"} {
		at := t0.Add(time.Duration(i) * time.Hour)
		if _, err := Run(ctx, cfg.Jobs[name], at, int64(i+1)); err != nil {
			t.Fatal(err)
		}
	}
	// A backup of a job that is no longer configured is not served, even
	// in the directory of one that is.
	gone := &config.Job{Name: "gone", Backup: spec(src, dirA, config.FormatTarGzip)}
	if _, err := Run(ctx, gone, t0, 9); err != nil {
		t.Fatal(err)
	}
	return &Catalog{Config: func() *config.Config { return cfg }}, cfg, src
}

func ids(list []steward.Backup) []string {
	var out []string
	for _, b := range list {
		out = append(out, b.ID)
	}
	return out
}

func TestCatalogList(t *testing.T) {
	c, _, _ := catalog(t)
	ctx := context.Background()
	all, err := c.List(ctx, "")
	if got, want := ids(all), []string{"a-20261206T050000Z-3", "b-20261206T040000Z-2", "a-20261206T030000Z-1"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("List() = %v, %v; want %v", got, err, want)
	}
	a, err := c.List(ctx, "a")
	if got, want := ids(a), []string{"a-20261206T050000Z-3", "a-20261206T030000Z-1"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("List(a) = %v, %v; want %v", got, err, want)
	}
	if b := all[1]; b.Job != "b" || b.Format != config.FormatZip || b.Files != 6 || b.Size == 0 || len(b.SHA256) != 64 || filepath.Base(b.Archive) != b.ID+".zip" {
		t.Errorf("backup b = %+v", b)
	}
	for _, tt := range []struct{ job, code string }{{"nope", steward.ENOTFOUND}, {"c", steward.EINVALID}, {"gone", steward.ENOTFOUND}} {
		if _, err := c.List(ctx, tt.job); steward.ErrorCode(err) != tt.code {
			t.Errorf("List(%s) = %v, want %s", tt.job, err, tt.code)
		}
	}
	if b, err := c.Get(ctx, "b-20261206T040000Z-2"); err != nil || b.Job != "b" {
		t.Errorf("Get = %+v, %v", b, err)
	}
	for _, id := range []string{"nope", "gone-20261206T030000Z-9"} {
		if _, err := c.Get(ctx, id); steward.ErrorCode(err) != steward.ENOTFOUND {
			t.Errorf("Get(%s) = %v, want ENOTFOUND", id, err)
		}
	}
}

func TestCatalogUnreadableDir(t *testing.T) {
	c, cfg, _ := catalog(t)
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.Jobs["b"].Backup.To = file
	ctx := context.Background()
	if _, err := c.List(ctx, ""); err == nil {
		t.Error("List() over a to: that is a file succeeded")
	}
	if _, err := c.List(ctx, "b"); err == nil {
		t.Error("List(b) over a to: that is a file succeeded")
	}
	if _, err := c.Get(ctx, "nope"); err == nil || steward.ErrorCode(err) == steward.ENOTFOUND {
		t.Errorf("Get over a to: that is a file = %v, want the read error", err)
	}
}

func TestCatalogVerifyRestore(t *testing.T) {
	c, cfg, src := catalog(t)
	ctx := context.Background()
	const id = "a-20261206T050000Z-3"
	if v, err := c.Verify(ctx, id, ""); err != nil || !v.OK || !v.Content || v.Files != 6 {
		t.Errorf("Verify = %+v, %v", v, err)
	}
	if _, err := c.Verify(ctx, id, "AGE-SECRET-KEY-1NOPE"); steward.ErrorCode(err) != steward.EINVALID {
		t.Errorf("Verify with a bad identity = %v, want EINVALID", err)
	}
	if _, err := c.Verify(ctx, "nope", ""); steward.ErrorCode(err) != steward.ENOTFOUND {
		t.Errorf("Verify(nope) = %v, want ENOTFOUND", err)
	}

	dst := filepath.Join(t.TempDir(), "restored")
	for _, tt := range []struct {
		name string
		req  steward.BackupRestoreRequest
		id   string
		code string
	}{
		{"no target", steward.BackupRestoreRequest{}, id, steward.EINVALID},
		{"relative target", steward.BackupRestoreRequest{To: "restored"}, id, steward.EINVALID},
		{"inside the data dir", steward.BackupRestoreRequest{To: filepath.Join(cfg.DataDir, "x")}, id, steward.EINVALID},
		{"the data dir", steward.BackupRestoreRequest{To: cfg.DataDir + string(filepath.Separator)}, id, steward.EINVALID},
		{"inside a backup dir", steward.BackupRestoreRequest{To: filepath.Join(cfg.Jobs["b"].Backup.To, "x", "..", "y")}, id, steward.EINVALID},
		{"bad identity", steward.BackupRestoreRequest{To: dst, Identity: "AGE-SECRET-KEY-1NOPE"}, id, steward.EINVALID},
		{"unknown backup", steward.BackupRestoreRequest{To: dst}, "nope", steward.ENOTFOUND},
	} {
		if _, err := c.Restore(ctx, tt.id, tt.req); steward.ErrorCode(err) != tt.code {
			t.Errorf("%s: Restore = %v, want %s", tt.name, err, tt.code)
		}
	}
	if _, err := os.Stat(dst); !os.IsNotExist(err) {
		t.Errorf("a refused restore made %s: %v", dst, err)
	}
	if left, _ := os.ReadDir(cfg.DataDir); len(left) != 0 {
		t.Errorf("a refused restore wrote into the data dir: %v", left)
	}
	res, err := c.Restore(ctx, id, steward.BackupRestoreRequest{To: dst + string(filepath.Separator)})
	if err != nil || res.ID != id || res.To != dst || res.Files != 6 {
		t.Fatalf("Restore = %+v, %v", res, err)
	}
	if got, want := snapshot(t, filepath.Join(dst, archiveName(src))), snapshot(t, src); !equal(got, want) {
		t.Errorf("restored %v, want %v", got, want)
	}
}

func TestCatalogForget(t *testing.T) {
	c, cfg, _ := catalog(t)
	ctx := context.Background()
	cfg.Jobs["a"].Backup.Keep = config.Keep{Last: 1}
	f, err := c.Forget(ctx, "a", true)
	if err != nil || f.Job != "a" || !f.DryRun || len(f.Decisions) != 2 || !f.Decisions[0].Keep || f.Decisions[1].Keep {
		t.Errorf("dry run = %+v, %v", f, err)
	}
	if list, _ := c.List(ctx, "a"); len(list) != 2 {
		t.Errorf("a dry run left %d backups, want 2", len(list))
	}
	if f, err = c.Forget(ctx, "a", false); err != nil || f.DryRun || len(f.Decisions) != 2 {
		t.Errorf("forget = %+v, %v", f, err)
	}
	if list, _ := c.List(ctx, "a"); len(list) != 1 || list[0].ID != "a-20261206T050000Z-3" {
		t.Errorf("after forget: %v", ids(list))
	}
	if _, err := c.Forget(ctx, "c", true); steward.ErrorCode(err) != steward.EINVALID {
		t.Errorf("Forget(c) = %v, want EINVALID", err)
	}
	cfg.Jobs["b"].Backup.To = t.TempDir()
	if f, err := c.Forget(ctx, "b", true); err != nil || f.Decisions == nil || len(f.Decisions) != 0 {
		t.Errorf("Forget of a job without backups = %#v, %v; want no decisions, not null", f, err)
	}
}
