package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"filippo.io/age"

	"github.com/stewardhq/steward"
)

// maxProblems bounds the problems one verify reports.
const maxProblems = 100

// check is the result of reading an archive through.
type check struct {
	steward.BackupCheck
	manifest *Manifest
}

func (c *check) problem(format string, args ...any) {
	if len(c.Problems) < maxProblems {
		c.Problems = append(c.Problems, fmt.Sprintf(format, args...))
	}
}

// Identities parses an age identity file's text (AGE-SECRET-KEY-1…
// lines, # comments); "" is none.
func Identities(text string) ([]age.Identity, error) {
	if strings.TrimSpace(text) == "" {
		return nil, nil
	}
	ids, err := age.ParseIdentities(strings.NewReader(text))
	if err != nil {
		return nil, steward.Errorf(steward.EINVALID, "identity: %v", err)
	}
	return ids, nil
}

// Verify reads in's archive through: it checks the SHA-256 of every file
// against the manifest, that the entries are those the manifest lists,
// that each has a name restore accepts, and the archive's SHA-256 against
// the sidecar. An encrypted archive's entries are read only with ids.
// Each problem names the entry it is about.
func Verify(ctx context.Context, in *Info, ids []age.Identity) (steward.BackupCheck, error) {
	c, err := verify(ctx, in, ids)
	if err != nil {
		return steward.BackupCheck{}, err
	}
	return c.BackupCheck, nil
}

func verify(ctx context.Context, in *Info, ids []age.Identity) (*check, error) {
	c := &check{BackupCheck: steward.BackupCheck{ID: in.ID}}
	rd, err := open(in, ids)
	if err != nil {
		var noMatch *age.NoIdentityMatchError
		if errors.As(err, &noMatch) {
			return nil, steward.Errorf(steward.EINVALID, "backup %s: no identity given decrypts it", in.ID)
		}
		c.problem("%v", err)
		c.digest(in, nil)
		return c, nil
	}
	defer rd.close()
	c.Content = rd.content
	if rd.content {
		c.entries(ctx, rd)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	c.digest(in, rd)
	c.OK = len(c.Problems) == 0
	return c, nil
}

// digest compares the archive file's SHA-256 with the sidecar's.
func (c *check) digest(in *Info, rd *reading) {
	var sum string
	var err error
	if rd == nil {
		sum, err = fileDigest(in.path())
	} else {
		sum, err = rd.digest()
	}
	switch {
	case err != nil:
		c.problem("read the archive file: %v", err)
	case sum != in.SHA256:
		c.problem("the archive file's SHA-256 is %s, the sidecar says %s: the file changed after it was written", sum, in.SHA256)
	}
}

func fileDigest(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// entries reads the entries of rd, hashing each file, then compares
// them with the manifest, the last entry.
func (c *check) entries(ctx context.Context, rd *reading) {
	seen := map[string]Entry{}
	var order []string
	symlinks := map[string]bool{}
	last := ""
	for ctx.Err() == nil {
		e, r, err := rd.src.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if last == "" {
				c.problem("read the archive: %v", err)
			} else {
				c.problem("read the archive after %s: %v", last, err)
			}
			break
		}
		if c.manifest != nil {
			c.problem("%s: an entry after the manifest", e.Name)
		}
		if e.Name == manifestName && e.Type == typeFile {
			data, err := io.ReadAll(io.LimitReader(r, maxManifest))
			if err != nil {
				c.problem("%s: read: %v", manifestName, err)
				return
			}
			if c.manifest, err = parseManifest(data); err != nil {
				c.problem("%v", err)
				return
			}
			continue
		}
		last = e.Name
		if err := checkName(e.Name); err != nil {
			c.problem("entry %s", err)
			continue
		}
		if p := throughSymlink(e.Name, symlinks); p != "" {
			c.problem("%s: below the symlink %s: it could be written outside the target directory", e.Name, p)
		}
		if _, dup := seen[e.Name]; dup {
			c.problem("%s: in the archive twice", e.Name)
		}
		switch e.Type {
		case typeFile:
			h := sha256.New()
			n, err := io.Copy(h, r)
			if err != nil {
				c.problem("%s: read: %v", e.Name, err)
			}
			e.Size, e.SHA256 = n, hex.EncodeToString(h.Sum(nil))
			c.Files++
			c.Bytes += n
		case typeSymlink:
			symlinks[e.Name] = true
		case typeDir:
		default:
			c.problem("%s: a %s entry, which restore does not write", e.Name, e.Type)
		}
		seen[e.Name] = e
		order = append(order, e.Name)
	}
	if c.manifest == nil {
		c.problem("the archive has no manifest (%s)", manifestName)
		return
	}
	listed := map[string]bool{}
	for _, want := range c.manifest.Entries {
		listed[want.Name] = true
		got, ok := seen[want.Name]
		switch {
		case !ok:
			c.problem("%s: in the manifest, not in the archive", want.Name)
		case got.Type != want.Type:
			c.problem("%s: a %s in the archive, a %s in the manifest", want.Name, got.Type, want.Type)
		case want.Type == typeFile && (got.SHA256 != want.SHA256 || got.Size != want.Size):
			c.problem("%s: SHA-256 %s (%d bytes), the manifest says %s (%d bytes): its content is corrupt",
				want.Name, got.SHA256, got.Size, want.SHA256, want.Size)
		case want.Type == typeSymlink && got.Target != want.Target:
			c.problem("%s: links to %q, the manifest says %q", want.Name, got.Target, want.Target)
		}
	}
	for _, name := range order {
		if !listed[name] {
			c.problem("%s: in the archive, not in the manifest", name)
		}
	}
}

// throughSymlink returns the symlink among symlinks that name is below,
// or "".
func throughSymlink(name string, symlinks map[string]bool) string {
	for d := path.Dir(name); d != "." && d != "/"; d = path.Dir(d) {
		if symlinks[d] {
			return d
		}
	}
	return ""
}
