package api_test

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/api/apitest"
	"github.com/stewardhq/steward/internal/backup"
	"github.com/stewardhq/steward/internal/client"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/ipc"
)

func TestBackupsAPI(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "f.txt"), []byte("payload\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	to := filepath.Join(dir, "backups")
	job := &config.Job{Name: "nightly", Backup: &config.JobBackup{Paths: []string{src}, To: to, Format: config.FormatTarGzip, Keep: config.Keep{Last: 1}}}
	cfg := &config.Config{DataDir: filepath.Join(dir, "data"), Jobs: map[string]*config.Job{"nightly": job,
		"empty": {Name: "empty", Backup: &config.JobBackup{Paths: []string{src}, To: filepath.Join(dir, "none"), Format: config.FormatZip}}},
		JobOrder: []string{"nightly", "empty"}}
	t0 := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	for i := range 2 {
		if _, err := backup.Run(ctx, &config.Job{Name: job.Name, Backup: &config.JobBackup{Paths: job.Backup.Paths, To: to, Format: job.Backup.Format}},
			t0.Add(time.Duration(i)*time.Hour), int64(i+1)); err != nil {
			t.Fatal(err)
		}
	}
	configs, err := apitest.NewConfigs(filepath.Join(dir, "s.yaml"), []byte(configText))
	if err != nil {
		t.Fatal(err)
	}
	sock := apitest.Serve(t, api.New(api.Options{
		Services: apitest.NewServices(), Events: &apitest.Events{}, Configs: configs,
		Backups: &backup.Catalog{Config: func() *config.Config { return cfg }},
	}).Handler())
	c := client.New(sock)
	t.Cleanup(c.Close)

	list, err := c.Backups(ctx, "")
	if err != nil || len(list) != 2 || list[0].ID != "nightly-20261206T040000Z-2" || list[0].Files != 1 {
		t.Fatalf("backups = %+v, %v", list, err)
	}
	if l, err := c.Backups(ctx, "nightly"); err != nil || len(l) != 2 {
		t.Errorf("backups of nightly = %+v, %v", l, err)
	}
	if l, err := c.Backups(ctx, "empty"); err != nil || l == nil || len(l) != 0 {
		t.Errorf("backups of a job without any = %#v, %v; want [], not null", l, err)
	}
	id := list[1].ID
	if b, err := c.Backup(ctx, id); err != nil || b.ID != id || b.Job != "nightly" {
		t.Errorf("backup %s = %+v, %v", id, b, err)
	}
	if v, err := c.VerifyBackup(ctx, id, steward.BackupIdentity{}); err != nil || !v.OK || !v.Content || v.Files != 1 {
		t.Errorf("verify = %+v, %v", v, err)
	}
	dst := filepath.Join(dir, "restored")
	if r, err := c.RestoreBackup(ctx, id, steward.BackupRestoreRequest{To: dst}); err != nil || r.Files != 1 || r.To != dst {
		t.Errorf("restore = %+v, %v", r, err)
	}
	if b, err := os.ReadFile(filepath.Join(dst, filepath.ToSlash(src)[1:], "f.txt")); err != nil || string(b) != "payload\n" {
		t.Errorf("restored file = %q, %v", b, err)
	}
	f, err := c.ForgetBackups(ctx, "nightly", true)
	if err != nil || !f.DryRun || len(f.Decisions) != 2 || !f.Decisions[0].Keep || f.Decisions[1].Keep {
		t.Errorf("forget --dry-run = %+v, %v", f, err)
	}
	if l, _ := c.Backups(ctx, ""); len(l) != 2 {
		t.Errorf("%d backups after a dry run, want 2", len(l))
	}
	if f, err := c.ForgetBackups(ctx, "nightly", false); err != nil || f.DryRun {
		t.Errorf("forget = %+v, %v", f, err)
	}
	if l, _ := c.Backups(ctx, ""); len(l) != 1 || l[0].ID != list[0].ID {
		t.Errorf("backups after forget = %+v", l)
	}

	for _, tt := range []struct {
		name string
		err  error
		code string
	}{
		{"unknown job", func() error { _, err := c.Backups(ctx, "nope"); return err }(), steward.ENOTFOUND},
		{"unknown backup", func() error { _, err := c.Backup(ctx, "nope"); return err }(), steward.ENOTFOUND},
		{"verify an unknown backup", func() error { _, err := c.VerifyBackup(ctx, "nope", steward.BackupIdentity{}); return err }(), steward.ENOTFOUND},
		{"relative restore target", func() error {
			_, err := c.RestoreBackup(ctx, list[0].ID, steward.BackupRestoreRequest{To: "x"})
			return err
		}(), steward.EINVALID},
		{"restore into the data dir", func() error {
			_, err := c.RestoreBackup(ctx, list[0].ID, steward.BackupRestoreRequest{To: cfg.DataDir})
			return err
		}(), steward.EINVALID},
		{"forget an unknown job", func() error { _, err := c.ForgetBackups(ctx, "nope", true); return err }(), steward.ENOTFOUND},
	} {
		if got := steward.ErrorCode(tt.err); got != tt.code {
			t.Errorf("%s: %v, want %s", tt.name, tt.err, tt.code)
		}
	}
	for _, rq := range []string{"POST /v1/backups/forget?job=nightly&dry_run=maybe", "POST /v1/backups/forget?dry_run=1",
		"POST /v1/backups/" + list[0].ID + "/restore"} {
		if got := rawStatus(t, sock, rq); got != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", rq, got)
		}
	}
	big := strings.Repeat("x", 1<<20+1)
	for _, rq := range []struct{ path, body string }{
		{"/v1/backups/" + list[0].ID + "/verify", `{"identity": 1}`},
		{"/v1/backups/" + list[0].ID + "/restore", `{"to": "` + filepath.ToSlash(filepath.Join(dir, "r2")) + `", "x": 1}`},
		{"/v1/backups/" + list[0].ID + "/restore", big},
	} {
		if got := postStatus(t, sock, rq.path, rq.body); got != http.StatusBadRequest && got != http.StatusRequestEntityTooLarge {
			t.Errorf("POST %s %.20s: status %d, want 400 or 413", rq.path, rq.body, got)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "r2")); !os.IsNotExist(err) {
		t.Errorf("a restore with a bad body wrote: %v", err)
	}
	if l, _ := c.Backups(ctx, ""); len(l) != 1 {
		t.Errorf("%d backups after the bad requests, want 1", len(l))
	}
}

// postStatus posts body to path on the API at sock and returns the
// response's status.
func postStatus(t *testing.T, sock, path, body string) int {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return ipc.Dial(ctx, sock)
	}}}
	defer hc.CloseIdleConnections()
	resp, err := hc.Post("http://steward"+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestBackupsUnavailable(t *testing.T) {
	configs, err := apitest.NewConfigs(filepath.Join(t.TempDir(), "s.yaml"), []byte(configText))
	if err != nil {
		t.Fatal(err)
	}
	sock := apitest.Serve(t, api.New(api.Options{Services: apitest.NewServices(), Events: &apitest.Events{}, Configs: configs}).Handler())
	for _, rq := range []string{"GET /v1/backups", "GET /v1/backups/x", "POST /v1/backups/x/verify", "POST /v1/backups/x/restore", "POST /v1/backups/forget?job=x"} {
		if got := rawStatus(t, sock, rq); got != http.StatusServiceUnavailable {
			t.Errorf("%s: status %d, want 503", rq, got)
		}
	}
}
