package backup

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/stewardhq/steward/internal/config"
)

var t0 = time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)

// tree makes a tree of files below dir: nested directories, an empty
// file, a larger one, a symlink, and returns the source directory.
func tree(t *testing.T) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), "data")
	files := map[string]string{
		"a.txt":          "alpha\n",
		"empty":          "",
		"sub/b.log":      "bravo log\n",
		"sub/deep/c.sql": strings.Repeat("select 1;\n", 5000),
		"sub/deep/d.tmp": "scratch",
		"cache/x.bin":    "cached",
	}
	for name, body := range files {
		p := filepath.Join(src, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	if runtime.GOOS != "windows" {
		if err := os.Symlink("a.txt", filepath.Join(src, "link")); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("/etc/passwd", filepath.Join(src, "sub", "abs-link")); err != nil {
			t.Fatal(err)
		}
	}
	return src
}

// snapshot returns what is below dir: each path with its type, mode and
// content or target.
func snapshot(t *testing.T, dir string) map[string]string {
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
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			out[rel] = "symlink " + target
		case d.IsDir():
			out[rel] = "dir"
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out[rel] = info.Mode().Perm().String() + " " + string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func spec(src, to, format string) *config.JobBackup {
	return &config.JobBackup{Paths: []string{src}, To: to, Format: format}
}

func TestRoundTrip(t *testing.T) {
	for _, format := range []string{config.FormatTarZstd, config.FormatTarGzip, config.FormatZip} {
		t.Run(format, func(t *testing.T) {
			src := tree(t)
			to := filepath.Join(t.TempDir(), "backups")
			in, err := Create(context.Background(), "nightly", "nightly-1", t0, spec(src, to, format))
			if err != nil {
				t.Fatal(err)
			}
			if in.Files != 6 || in.Archive != "nightly-1."+format || in.Encrypted {
				t.Errorf("info = %+v", in)
			}
			list, err := List(to, "nightly")
			if err != nil || len(list) != 1 || list[0].ID != "nightly-1" || list[0].SHA256 != in.SHA256 {
				t.Fatalf("List = %+v, %v", list, err)
			}
			left, _ := os.ReadDir(to)
			if len(left) != 2 {
				t.Errorf("%s holds %d files, want the archive and its sidecar", to, len(left))
			}
			c, err := Verify(context.Background(), list[0], nil)
			if err != nil || !c.OK || !c.Content || c.Files != 6 {
				t.Fatalf("Verify = %+v, %v", c, err)
			}
			dst := t.TempDir()
			res, err := Restore(context.Background(), list[0], dst, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.Files != 6 {
				t.Errorf("restored %d files, want 6", res.Files)
			}
			got := snapshot(t, filepath.Join(dst, filepath.FromSlash(archiveName(src))))
			if want := snapshot(t, src); !equal(got, want) {
				t.Errorf("restored tree\n%v\nwant\n%v", got, want)
			}
			fi, err := os.Stat(filepath.Join(dst, filepath.FromSlash(archiveName(src)), "a.txt"))
			if err != nil || !fi.ModTime().Equal(mtime(t, filepath.Join(src, "a.txt"))) {
				t.Errorf("a.txt's mtime not restored: %v, %v", fi, err)
			}
		})
	}
}

func mtime(t *testing.T, p string) time.Time {
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.ModTime().Truncate(time.Second)
}

func equal(a, b map[string]string) bool {
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

func TestIncludeExclude(t *testing.T) {
	src := tree(t)
	to := t.TempDir()
	s := spec(src, to, config.FormatTarGzip)
	s.Include = []string{"*.sql", "*.log", "sub/**/*.tmp"}
	s.Exclude = []string{"cache", "**/*.log"}
	in, err := Create(context.Background(), "j", "j-1", t0, s)
	if err != nil {
		t.Fatal(err)
	}
	m := manifestOf(t, in)
	var names []string
	for _, e := range m.Entries {
		names = append(names, strings.TrimPrefix(e.Name, archiveName(src)+"/"))
	}
	if want := []string{"sub/deep/c.sql", "sub/deep/d.tmp"}; !slices.Equal(names, want) {
		t.Errorf("entries = %q, want %q", names, want)
	}
}

// manifestOf reads the manifest of in's archive.
func manifestOf(t *testing.T, in *Info) *Manifest {
	t.Helper()
	c, err := verify(context.Background(), in, nil)
	if err != nil || !c.OK {
		t.Fatalf("verify = %+v, %v", c, err)
	}
	return c.manifest
}

func TestMatch(t *testing.T) {
	for _, tt := range []struct {
		glob, rel string
		want      bool
	}{
		{"*.log", "a.log", true},
		{"*.log", "x/y/a.log", true},
		{"*.log", "a.logs", false},
		{"sub/*.log", "sub/a.log", true},
		{"sub/*.log", "sub/x/a.log", false},
		{"sub/**/*.log", "sub/a.log", true},
		{"sub/**/*.log", "sub/x/y/a.log", true},
		{"**/cache", "cache", true},
		{"**/cache", "a/b/cache", true},
		{"**", "anything/at/all", true},
		{"a/**", "a", true},
		{"a/b", "a", false},
	} {
		if got := match(tt.glob, tt.rel); got != tt.want {
			t.Errorf("match(%q, %q) = %v, want %v", tt.glob, tt.rel, got, tt.want)
		}
	}
}

func TestArchiveName(t *testing.T) {
	if runtime.GOOS == "windows" {
		if got := archiveName(`C:\srv\data`); got != "C/srv/data" {
			t.Errorf("archiveName = %q", got)
		}
		return
	}
	if got := archiveName("/srv/data"); got != "srv/data" {
		t.Errorf("archiveName = %q", got)
	}
}

func TestSpecialFilesSkipped(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no named pipes in the file system on windows")
	}
	src := tree(t)
	fifo := filepath.Join(src, "pipe")
	if err := mkfifo(fifo); err != nil {
		t.Skip("mkfifo:", err)
	}
	in, err := Create(context.Background(), "j", "j-1", t0, spec(src, t.TempDir(), config.FormatTarZstd))
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Skipped) != 1 || in.Skipped[0].Path != fifo || !strings.Contains(in.Skipped[0].Why, "named pipe") {
		t.Errorf("skipped = %+v", in.Skipped)
	}
	if m := manifestOf(t, in); len(m.Skipped) != 1 {
		t.Errorf("manifest skipped = %+v", m.Skipped)
	}
}

func TestCreateFails(t *testing.T) {
	to := t.TempDir()
	_, err := Create(context.Background(), "j", "j-1", t0, spec(filepath.Join(t.TempDir(), "missing"), to, config.FormatZip))
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("Create of a missing path: %v", err)
	}
	if left, _ := os.ReadDir(to); len(left) != 0 {
		t.Errorf("a failed backup left %d files in %s", len(left), to)
	}
	src := tree(t)
	if _, err := Create(context.Background(), "j", "j-2", t0, spec(src, to, config.FormatZip)); err != nil {
		t.Fatal(err)
	}
	if _, err := Create(context.Background(), "j", "j-2", t0, spec(src, to, config.FormatZip)); err == nil {
		t.Error("a second backup with the same id was made")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Create(ctx, "j", "j-3", t0, spec(src, to, config.FormatZip)); err == nil {
		t.Error("a cancelled backup succeeded")
	}
	if left, _ := os.ReadDir(to); len(left) != 2 {
		t.Errorf("%s holds %d files, want 2", to, len(left))
	}
}

func TestEncryptedRoundTrip(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	other, _ := age.GenerateX25519Identity()
	for _, format := range []string{config.FormatTarZstd, config.FormatZip} {
		t.Run(format, func(t *testing.T) {
			src := tree(t)
			s := spec(src, t.TempDir(), format)
			s.Recipients = []string{id.Recipient().String()}
			in, err := Create(context.Background(), "j", "j-1", t0, s)
			if err != nil {
				t.Fatal(err)
			}
			if !in.Encrypted || !strings.HasSuffix(in.Archive, ".age") {
				t.Errorf("info = %+v", in)
			}
			raw, _ := os.ReadFile(in.path())
			if !bytes.HasPrefix(raw, []byte("age-encryption.org/v1")) || bytes.Contains(raw, []byte("alpha")) {
				t.Error("the archive is not age-encrypted")
			}
			c, err := Verify(context.Background(), in, nil)
			if err != nil || !c.OK || c.Content {
				t.Errorf("Verify without identity = %+v, %v; want the digest checked only", c, err)
			}
			if _, err := Verify(context.Background(), in, []age.Identity{other}); err == nil {
				t.Error("Verify with the wrong identity succeeded")
			}
			ids, err := Identities("# key\n" + id.String() + "\n")
			if err != nil {
				t.Fatal(err)
			}
			c, err = Verify(context.Background(), in, ids)
			if err != nil || !c.OK || !c.Content || c.Files != 6 {
				t.Errorf("Verify with identity = %+v, %v", c, err)
			}
			if _, err := Restore(context.Background(), in, t.TempDir(), nil); err == nil {
				t.Error("Restore without identity succeeded")
			}
			dst := t.TempDir()
			if _, err := Restore(context.Background(), in, dst, ids); err != nil {
				t.Fatal(err)
			}
			if got, want := snapshot(t, filepath.Join(dst, archiveName(src))), snapshot(t, src); !equal(got, want) {
				t.Errorf("restored %v, want %v", got, want)
			}
		})
	}
	if _, err := Identities("AGE-SECRET-KEY-1NOPE"); err == nil {
		t.Error("a bad identity parsed")
	}
}

func TestRestoreReplaces(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symlinks need a privilege on windows")
	}
	src := tree(t)
	in, err := Create(context.Background(), "j", "j-1", t0, spec(src, t.TempDir(), config.FormatTarZstd))
	if err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	outside := filepath.Join(t.TempDir(), "outside.txt")
	if err := os.WriteFile(outside, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A symlink already in the target where the archive has a file: it
	// is replaced, not written through.
	at := filepath.Join(dst, archiveName(src))
	if err := os.MkdirAll(at, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(at, "a.txt")); err != nil {
		t.Fatal(err)
	}
	if _, err := Restore(context.Background(), in, dst, nil); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(outside); string(b) != "keep me" {
		t.Errorf("restore wrote through a symlink in the target: %q", b)
	}
	if got, want := snapshot(t, at), snapshot(t, src); !equal(got, want) {
		t.Errorf("restored %v, want %v", got, want)
	}
}
