package backup

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"

	"github.com/stewardhq/steward/internal/config"
)

// TestFlippedByte flips one byte inside a file's data in the archive:
// verify names that file, and restore writes nothing.
func TestFlippedByte(t *testing.T) {
	for _, format := range []string{config.FormatTarZstd, config.FormatTarGzip, config.FormatZip} {
		t.Run(format, func(t *testing.T) {
			src := t.TempDir()
			// Random bytes do not compress: the archive holds them as they
			// are, so the flipped byte is inside this file's data.
			big := make([]byte, 1<<20)
			rand.Read(big)
			if err := os.WriteFile(filepath.Join(src, "big.bin"), big, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(src, "small.txt"), []byte("hi"), 0o600); err != nil {
				t.Fatal(err)
			}
			in, err := Create(context.Background(), "j", "j-1", t0, spec(src, t.TempDir(), format))
			if err != nil {
				t.Fatal(err)
			}
			if c, err := Verify(context.Background(), in, nil); err != nil || !c.OK {
				t.Fatalf("Verify before the flip = %+v, %v", c, err)
			}
			raw, err := os.ReadFile(in.path())
			if err != nil {
				t.Fatal(err)
			}
			raw[len(raw)/2] ^= 0x40
			if err := os.WriteFile(in.path(), raw, 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := Verify(context.Background(), in, nil)
			if err != nil {
				t.Fatal(err)
			}
			all := strings.Join(c.Problems, "\n")
			if c.OK || !strings.Contains(all, archiveName(filepath.Join(src, "big.bin"))) || !strings.Contains(all, "SHA-256") {
				t.Errorf("Verify after a flipped byte = %+v; want a problem naming big.bin", c)
			}
			dst := t.TempDir()
			if _, err := Restore(context.Background(), in, dst, nil); err == nil {
				t.Error("Restore of a corrupt archive succeeded")
			}
			if left, _ := os.ReadDir(dst); len(left) != 0 {
				t.Errorf("a refused restore wrote %d entries", len(left))
			}
		})
	}
}

func TestVerifyProblems(t *testing.T) {
	src := tree(t)
	in, err := Create(context.Background(), "j", "j-1", t0, spec(src, t.TempDir(), config.FormatTarZstd))
	if err != nil {
		t.Fatal(err)
	}
	// A truncated archive.
	raw, _ := os.ReadFile(in.path())
	if err := os.WriteFile(in.path(), raw[:len(raw)/3], 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Verify(context.Background(), in, nil)
	if err != nil || c.OK || len(c.Problems) < 2 {
		t.Errorf("Verify of a truncated archive = %+v, %v", c, err)
	}
	// A missing archive.
	os.Remove(in.path())
	if c, err := Verify(context.Background(), in, nil); err != nil || c.OK {
		t.Errorf("Verify of a missing archive = %+v, %v", c, err)
	}
}

// craft writes an archive with entries (and a manifest listing files'
// digests unless noManifest) and its sidecar, and returns the sidecar.
type crafted struct {
	name, body, link string
	dir              bool
}

func craft(t *testing.T, format string, entries []crafted, manifest *Manifest) *Info {
	t.Helper()
	var buf bytes.Buffer
	if manifest != nil {
		data, _ := json.Marshal(manifest)
		entries = append(entries, crafted{name: manifestName, body: string(data)})
	}
	if format == config.FormatZip {
		zw := zip.NewWriter(&buf)
		for _, e := range entries {
			h := &zip.FileHeader{Name: e.name}
			switch {
			case e.link != "":
				h.SetMode(0o777 | os.ModeSymlink)
				e.body = e.link
			case e.dir:
				h.SetMode(0o755 | os.ModeDir)
			default:
				h.SetMode(0o644)
			}
			w, err := zw.CreateHeader(h)
			if err != nil {
				t.Fatal(err)
			}
			w.Write([]byte(e.body))
		}
		zw.Close()
	} else {
		gw := gzip.NewWriter(&buf)
		tw := tar.NewWriter(gw)
		for _, e := range entries {
			h := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: tar.TypeReg}
			switch {
			case e.link != "":
				h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, e.link, 0
			case e.dir:
				h.Typeflag, h.Size = tar.TypeDir, 0
			}
			if err := tw.WriteHeader(h); err != nil {
				t.Fatal(err)
			}
			tw.Write([]byte(e.body))
		}
		tw.Close()
		gw.Close()
	}
	dir := t.TempDir()
	sum := sha256.Sum256(buf.Bytes())
	in := &Info{Version: manifestVersion, ID: "evil-1", Job: "j", Time: t0, Format: format, Archive: "evil-1." + format,
		Dir: dir, Size: int64(buf.Len()), SHA256: hex.EncodeToString(sum[:])}
	if err := os.WriteFile(in.path(), buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := writeSidecar(in); err != nil {
		t.Fatal(err)
	}
	return in
}

func fileEntry(name, body string) Entry {
	sum := sha256.Sum256([]byte(body))
	return Entry{Name: name, Type: typeFile, Size: int64(len(body)), SHA256: hex.EncodeToString(sum[:])}
}

// TestHostileArchives restores archives whose entries try to leave the
// target directory: each is refused, and nothing is written anywhere.
func TestHostileArchives(t *testing.T) {
	for _, format := range []string{config.FormatTarGzip, config.FormatZip} {
		for _, tt := range []struct {
			name    string
			entries []crafted
			want    string
		}{
			{"dot-dot", []crafted{{name: "ok.txt", body: "x"}, {name: "../escape.txt", body: "pwned"}}, `".." part`},
			{"nested dot-dot", []crafted{{name: "a/../../escape.txt", body: "pwned"}}, `".." part`},
			{"absolute", []crafted{{name: "/tmp/escape.txt", body: "pwned"}}, "absolute"},
			{"backslash", []crafted{{name: `..\escape.txt`, body: "pwned"}}, "backslash"},
			{"symlink then file", []crafted{{name: "out", link: "/tmp"}, {name: "out/escape.txt", body: "pwned"}}, "below the symlink out"},
			{"relative symlink then file", []crafted{{name: "d", dir: true}, {name: "d/up", link: "../.."}, {name: "d/up/escape.txt", body: "pwned"}}, "below the symlink d/up"},
			{"no manifest", []crafted{{name: "a.txt", body: "x"}}, "no manifest"},
		} {
			t.Run(format+"/"+tt.name, func(t *testing.T) {
				var m *Manifest
				if tt.name != "no manifest" {
					m = &Manifest{Version: manifestVersion}
					for _, e := range tt.entries {
						if e.link == "" && !e.dir && checkName(e.name) == nil {
							m.Entries = append(m.Entries, fileEntry(e.name, e.body))
						}
					}
				}
				in := craft(t, format, tt.entries, m)
				c, err := Verify(context.Background(), in, nil)
				if err != nil || c.OK || !strings.Contains(strings.Join(c.Problems, "\n"), tt.want) {
					t.Errorf("Verify = %+v, %v; want a problem with %q", c, err, tt.want)
				}
				base := t.TempDir()
				dst := filepath.Join(base, "a", "b", "target")
				_, err = Restore(context.Background(), in, dst, nil)
				if err == nil || !strings.Contains(err.Error(), "nothing was restored") {
					t.Errorf("Restore = %v", err)
				}
				if left, _ := os.ReadDir(base); len(left) != 0 {
					t.Errorf("a refused restore wrote into %s", base)
				}
				if _, err := os.Stat("/tmp/escape.txt"); err == nil {
					t.Error("an entry escaped to /tmp")
				}
			})
		}
	}
}

// TestRestoreEntryConfined writes entries straight through restoreEntry,
// past verify's checks: os.Root still keeps them inside the target.
func TestRestoreEntryConfined(t *testing.T) {
	dst := t.TempDir()
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(dst, "esc")); err != nil {
		t.Skip("symlink:", err)
	}
	root, err := os.OpenRoot(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	for _, e := range []Entry{
		{Name: "esc/x.txt", Type: typeFile},
		{Name: "esc/sub/x.txt", Type: typeFile},
		{Name: "../x.txt", Type: typeFile},
		{Name: "/x.txt", Type: typeFile},
		{Name: "esc/l", Type: typeSymlink, Target: "/"},
	} {
		if err := restoreEntry(root, e, strings.NewReader(""), map[string]string{}); err == nil {
			t.Errorf("restoreEntry(%q) succeeded", e.Name)
		}
	}
	if left, _ := os.ReadDir(outside); len(left) != 0 {
		t.Errorf("restoreEntry wrote %d entries outside the target", len(left))
	}
}

func TestBadSidecars(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"a.backup.json":      "{",
		"b.backup.json":      `{"version":1,"id":"other","archive":"x","sha256":"` + strings.Repeat("0", 64) + `"}`,
		"c.backup.json":      `{"version":2}`,
		".tmp-x.backup.json": "{}",
	} {
		os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600)
	}
	if list, err := List(dir, ""); err != nil || len(list) != 0 {
		t.Errorf("List = %+v, %v; want none", list, err)
	}
	if list, err := List(filepath.Join(dir, "missing"), ""); err != nil || len(list) != 0 {
		t.Errorf("List of a missing dir = %+v, %v", list, err)
	}
}
