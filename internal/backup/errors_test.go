package backup

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/config"
)

func TestSpecial(t *testing.T) {
	for _, tt := range []struct {
		m    fs.FileMode
		want string
	}{
		{fs.ModeNamedPipe, "a named pipe"},
		{fs.ModeSocket, "a socket"},
		{fs.ModeDevice | fs.ModeCharDevice, "a character device"},
		{fs.ModeDevice, "a device"},
		{fs.ModeIrregular, "an irregular file"},
	} {
		if got := special(tt.m); got != tt.want {
			t.Errorf("special(%v) = %q, want %q", tt.m, got, tt.want)
		}
	}
}

// aFile returns a path that is a regular file: nothing can be made below
// it.
func aFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCreateBadSpecs(t *testing.T) {
	src := tree(t)
	ctx := context.Background()
	to := t.TempDir()
	for _, tt := range []struct {
		name string
		spec *config.JobBackup
		want string
	}{
		{"to below a file", spec(src, filepath.Join(aFile(t), "b"), config.FormatTarZstd), "not a directory"},
		{"bad recipient", &config.JobBackup{Paths: []string{src}, To: to, Format: config.FormatZip, Recipients: []string{"age1nope"}}, "recipient"},
		{"unknown format", spec(src, to, "rar"), "rar"},
	} {
		if _, err := Create(ctx, "j", "j-1", t0, tt.spec); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Create = %v, want an error with %q", tt.name, err, tt.want)
		}
	}
	if left, _ := os.ReadDir(to); len(left) != 0 {
		t.Errorf("failed backups left %d files in %s", len(left), to)
	}
	j := &config.Job{Name: "j", Backup: spec(src, filepath.Join(aFile(t), "b"), config.FormatTarZstd)}
	if _, err := Run(ctx, j, t0, 1); err == nil {
		t.Error("Run into a to: below a file succeeded")
	}
	if _, err := Forget(j, true); err == nil {
		t.Error("Forget over a to: below a file succeeded")
	}
}

func TestForgetInTimezone(t *testing.T) {
	src := tree(t)
	j := &config.Job{Name: "j", Timezone: "America/New_York", Backup: spec(src, t.TempDir(), config.FormatTarGzip)}
	j.Backup.Keep = config.Keep{Daily: 2}
	// 03:00 and 06:00 UTC are the evening of the 5th and the night of the
	// 6th in New York: both are kept as the last of their day there (in
	// UTC, one day, only the newer would be).
	for i, at := range []time.Time{t0, t0.Add(3 * time.Hour)} {
		if _, err := Create(context.Background(), j.Name, NewID(j.Name, at, int64(i)), at, j.Backup); err != nil {
			t.Fatal(err)
		}
	}
	ds, err := Forget(j, true)
	if err != nil || len(ds) != 2 || !ds[0].Keep || !ds[1].Keep || ds[1].Reasons[0] != "daily 2026-12-05 (2 of 2)" {
		t.Errorf("Forget in New York = %+v, %v; want both kept, the older for the 5th", ds, err)
	}
}

func TestVerifyGarbage(t *testing.T) {
	for format, want := range map[string]string{config.FormatTarGzip: "gzip: invalid header", config.FormatZip: "zip: not a valid zip file"} {
		in, err := Create(context.Background(), "j", "j-1", t0, spec(tree(t), t.TempDir(), format))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(in.path(), []byte("not an archive at all"), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Verify(context.Background(), in, nil)
		all := strings.Join(c.Problems, "\n")
		if err != nil || c.OK || !strings.Contains(all, want+"\n") || strings.Contains(all, "zip: zip") || !strings.Contains(all, "the file changed after it was written") {
			t.Errorf("%s: Verify of garbage = %+v, %v; want the decoder's problem and the digest's", format, c, err)
		}
	}
	in, err := Create(context.Background(), "j", "j-1", t0, spec(tree(t), t.TempDir(), config.FormatTarZstd))
	if err != nil {
		t.Fatal(err)
	}
	other := *in
	other.Format = "rar"
	if c, err := Verify(context.Background(), &other, nil); err != nil || c.OK || !strings.Contains(strings.Join(c.Problems, "\n"), `unknown archive format "rar"`) {
		t.Errorf("Verify of a sidecar with an unknown format = %+v, %v", c, err)
	}
}

func TestCancelled(t *testing.T) {
	in, err := Create(context.Background(), "j", "j-1", t0, spec(tree(t), t.TempDir(), config.FormatTarZstd))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Verify(ctx, in, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Verify after cancel = %v", err)
	}
	dst := t.TempDir()
	if _, err := Restore(ctx, in, dst, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Restore after cancel = %v", err)
	}
	if left, _ := os.ReadDir(dst); len(left) != 0 {
		t.Errorf("a cancelled restore wrote %d entries", len(left))
	}
	if _, err := Create(ctx, "j", "j-2", t0, spec(tree(t), in.Dir, config.FormatTarZstd)); !errors.Is(err, context.Canceled) {
		t.Errorf("Create after cancel = %v", err)
	}
}

func TestRestoreInTheWay(t *testing.T) {
	src := tree(t)
	in, err := Create(context.Background(), "j", "j-1", t0, spec(src, t.TempDir(), config.FormatZip))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Restore(context.Background(), in, filepath.Join(aFile(t), "x"), nil); err == nil {
		t.Error("Restore below a file succeeded")
	}
	dst := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dst, archiveName(src), "a.txt"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := Restore(context.Background(), in, dst, nil); err == nil || !strings.Contains(err.Error(), "a directory is in the way") {
		t.Errorf("Restore onto a directory at a file's place = %v", err)
	}
}

func TestSortNewestTies(t *testing.T) {
	list := []*Info{{ID: "a", Time: t0}, {ID: "c", Time: t0}, {ID: "b", Time: t0}, {ID: "b", Time: t0}}
	sortNewest(list)
	var got []string
	for _, in := range list {
		got = append(got, in.ID)
	}
	if strings.Join(got, ",") != "c,b,b,a" {
		t.Errorf("sortNewest of equal times = %v, want by ID, descending", got)
	}
}

func TestParseInfoAndManifest(t *testing.T) {
	digest := strings.Repeat("0", 64)
	for _, body := range []string{
		`{"version":1,"id":"x","archive":"../x","sha256":"` + digest + `"}`,
		`{"version":1,"id":"x","archive":"x.zip","sha256":"nope"}`,
	} {
		if in, err := parseInfo([]byte(body)); err == nil {
			t.Errorf("parseInfo(%s) = %+v, want an error", body, in)
		}
	}
	if m, err := parseManifest([]byte(`{"version":1,"entries":[{"name":"a","type":"symlink"}]}`)); err == nil || !strings.Contains(err.Error(), "no target") {
		t.Errorf("parseManifest of a symlink without a target = %+v, %v", m, err)
	}
}
