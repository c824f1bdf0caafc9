package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/testwait"
)

// backupsJSON returns the backups as `steward backups -o json` lists them.
func (e *env) backupsJSON(args ...string) []steward.Backup {
	e.t.Helper()
	code, out, stderr := e.steward(append([]string{"backups", "-o", "json"}, args...)...)
	if code != 0 {
		e.t.Fatalf("backups: exit %d: %s", code, stderr)
	}
	var list []steward.Backup
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		e.t.Fatalf("backups -o json: %v\n%s", err, out)
	}
	return list
}

// treeOf returns each path below dir with its type and content or target,
// and mode and modification time (to the second, as backups keep it).
func treeOf(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			out[rel] = "symlink " + target
		case d.IsDir():
			out[rel] = "dir " + info.Mode().Perm().String()
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out[rel] = fmt.Sprintf("%s %s sha256:%x", info.Mode().Perm(), info.ModTime().UTC().Truncate(time.Second), sha256.Sum256(b))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestBackupJobListVerifyRestore(t *testing.T) {
	backups := t.TempDir()
	e := newEnv(t, `
jobs:
  nightly:
    backup:
      paths: ["{{dir}}/src"]
      exclude: ["*.tmp"]
      to: "`+backups+`"
      format: tar.gz
      keep: {last: 2}
  broken:
    backup: {paths: ["{{dir}}/missing"], to: "`+backups+`/broken"}
`)
	src := filepath.Join(e.dir, "src")
	big := make([]byte, 512<<10)
	rand.Read(big)
	for name, body := range map[string]string{"a.txt": "alpha\n", "sub/b.log": "bravo\n", "sub/deep/big.bin": string(big), "scratch.tmp": "x"} {
		p := filepath.Join(src, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("a.txt", filepath.Join(src, "link")); err != nil {
		t.Fatal(err)
	}
	e.run()
	for range 3 {
		if code, out, stderr := e.steward("jobs", "run", "nightly", "--wait"); code != 0 || !strings.Contains(out, "succeeded") {
			t.Fatalf("jobs run nightly --wait: exit %d, %q %q", code, out, stderr)
		}
	}
	list := e.backupsJSON()
	if len(list) != 2 || list[0].Job != "nightly" || list[0].Files != 3 || list[0].Format != "tar.gz" {
		t.Fatalf("backups after 3 runs with keep last 2 = %+v; want 2 of 3 files each", list)
	}
	if got := e.backupsJSON("nightly"); len(got) != 2 || got[0].ID != list[0].ID {
		t.Errorf("backups nightly = %+v", got)
	}
	if code, out, _ := e.steward("backup", "show", list[0].ID); code != 0 || !strings.Contains(out, "sha256: "+list[0].SHA256) {
		t.Errorf("backup show: exit %d, %q", code, out)
	}
	var one steward.Backup
	if _, out, _ := e.steward("backup", "show", list[0].ID, "-o", "json"); json.Unmarshal([]byte(out), &one) != nil || one.ID != list[0].ID || one.SHA256 != list[0].SHA256 || !one.Time.Equal(list[0].Time) {
		t.Errorf("backup show -o json = %q, want %+v", out, list[0])
	}
	if code, out, _ := e.steward("backups"); code != 0 || !strings.Contains(out, list[1].ID) || !strings.Contains(out, "ARCHIVE") {
		t.Errorf("backups: exit %d, %q", code, out)
	}
	if code, out, _ := e.steward("backup", "forget", "nightly", "--dry-run"); code != 0 ||
		!strings.Contains(out, "keep "+list[0].ID+": last 1 of 2") || !strings.Contains(out, "keep "+list[1].ID+": last 2 of 2") {
		t.Errorf("backup forget --dry-run: exit %d, %q", code, out)
	}
	if code, out, stderr := e.steward("backup", "verify", list[1].ID); code != 0 || !strings.Contains(out, "ok, 3 files") {
		t.Errorf("backup verify: exit %d, %q %q", code, out, stderr)
	}

	// Restore into a fresh directory: the tree is the source's, less what
	// exclude left out; a symlink already at a file's place that points
	// outside is replaced, not written through.
	out := filepath.Join(t.TempDir(), "restored")
	rel := strings.TrimPrefix(src, "/")
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("untouched"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(out, rel), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(out, rel, "a.txt")); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := e.steward("backup", "restore", list[1].ID, "--to", out); code != 0 || !strings.Contains(stdout, "3 files") {
		t.Fatalf("backup restore: exit %d, %q %q", code, stdout, stderr)
	}
	want := treeOf(t, src)
	delete(want, "scratch.tmp")
	if got := treeOf(t, filepath.Join(out, rel)); !equalTrees(got, want) {
		t.Errorf("restored tree:\n%v\nwant:\n%v", got, want)
	}
	if b, _ := os.ReadFile(victim); string(b) != "untouched" {
		t.Errorf("the restore wrote through a symlink: %s holds %q", victim, b)
	}

	// Hostile targets are refused, nothing written.
	for _, tt := range []struct{ to, why string }{
		{filepath.Join(e.dir, "x"), "inside the data dir"},
		{filepath.Join(backups, "x"), "inside the backup directory"},
	} {
		if code, _, stderr := e.steward("backup", "restore", list[1].ID, "--to", tt.to); code != 1 || !strings.Contains(stderr, tt.why) {
			t.Errorf("backup restore --to %s: exit %d, %q; want 1 and %q", tt.to, code, stderr, tt.why)
		}
		if _, err := os.Stat(tt.to); !os.IsNotExist(err) {
			t.Errorf("a refused restore made %s: %v", tt.to, err)
		}
	}

	// One flipped byte in the archive: verify exits 1 naming the file, and
	// restore writes nothing.
	raw, err := os.ReadFile(list[0].Archive)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)/2] ^= 0x40
	if err := os.WriteFile(list[0].Archive, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, stdout, _ := e.steward("backup", "verify", list[0].ID); code != 1 || !strings.Contains(stdout, "sub/deep/big.bin") {
		t.Errorf("backup verify of a flipped byte: exit %d, %q; want 1 naming big.bin", code, stdout)
	}
	var c steward.BackupCheck
	if _, stdout, _ := e.steward("backup", "verify", list[0].ID, "-o", "json"); json.Unmarshal([]byte(stdout), &c) != nil || c.OK || len(c.Problems) == 0 {
		t.Errorf("backup verify -o json = %q", stdout)
	}
	bad := filepath.Join(t.TempDir(), "bad")
	if code, _, stderr := e.steward("backup", "restore", list[0].ID, "--to", bad); code != 1 || !strings.Contains(stderr, "does not verify") {
		t.Errorf("backup restore of a corrupt archive: exit %d, %q", code, stderr)
	}
	if _, err := os.Stat(bad); !os.IsNotExist(err) {
		t.Errorf("a refused restore made %s: %v", bad, err)
	}

	// A backup that fails exits 1 and raises the job's alert.
	if code, out, _ := e.steward("jobs", "run", "broken", "--wait"); code != 1 || !strings.Contains(out, "missing") {
		t.Errorf("jobs run broken --wait: exit %d, %q; want 1 naming the missing path", code, out)
	}
	testwait.For(t, 10*time.Second, "the job_failed alert of the failed backup", func() bool {
		for _, a := range e.alerts() {
			if a.Rule == "job_failed" && a.Subject == "broken" && a.Open() {
				return true
			}
		}
		return false
	})

	// Retention for real, and the unknown.
	if code, stdout, _ := e.steward("backup", "forget", "nightly", "-o", "json"); code != 0 || !strings.Contains(stdout, `"dry_run": false`) {
		t.Errorf("backup forget: exit %d, %q", code, stdout)
	}
	if code, _, stderr := e.steward("backup", "verify", "nope"); code != 1 || !strings.Contains(stderr, "not found") {
		t.Errorf("backup verify nope: exit %d, %q", code, stderr)
	}
	if code, _, stderr := e.steward("backups", "nope"); code != 1 || !strings.Contains(stderr, "not found") {
		t.Errorf("backups nope: exit %d, %q", code, stderr)
	}
}

func equalTrees(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
