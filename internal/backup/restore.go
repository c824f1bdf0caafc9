package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"filippo.io/age"

	"github.com/stewardhq/steward"
)

// Restore writes the entries of in's archive below dir, which it creates
// when missing. It reads the archive through first, as Verify does, and
// writes nothing when it finds a problem: a corrupt entry, a name with
// "..", absolute, or below a symlink of the archive. Every write goes
// through an os.Root of dir, so no entry can reach outside it even
// through a symlink that was in dir before. An existing file or symlink
// at an entry's name is replaced; modes and modification times are
// restored, owners are not.
func Restore(ctx context.Context, in *Info, dir string, ids []age.Identity) (steward.BackupRestore, error) {
	res := steward.BackupRestore{ID: in.ID, To: dir}
	c, err := verify(ctx, in, ids)
	switch {
	case err != nil:
		return res, err
	case !c.Content:
		return res, steward.Errorf(steward.EINVALID, "backup %s is encrypted: restore needs its identity", in.ID)
	case !c.OK:
		return res, steward.Errorf(steward.EINVALID, "backup %s does not verify, nothing was restored: %s",
			in.ID, strings.Join(c.Problems, "; "))
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return res, fmt.Errorf("restore: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return res, fmt.Errorf("restore: %w", err)
	}
	defer root.Close()
	rd, err := open(in, ids)
	if err != nil {
		return res, fmt.Errorf("restore: %w", err)
	}
	defer rd.close()
	digests := make(map[string]string, len(c.manifest.Entries))
	for _, e := range c.manifest.Entries {
		digests[e.Name] = e.SHA256
	}
	var dirs []Entry
	for ctx.Err() == nil {
		e, r, err := rd.src.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return res, fmt.Errorf("restore: read the archive: %w", err)
		}
		if e.Name == manifestName {
			continue
		}
		if err := restoreEntry(root, e, r, digests); err != nil {
			return res, fmt.Errorf("restore %s: %w", e.Name, err)
		}
		switch e.Type {
		case typeDir:
			dirs = append(dirs, e)
		case typeFile:
			res.Files++
			res.Bytes += e.Size
		}
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	// Directories last, deepest first: writing their entries changed their
	// times, and a read-only one could not have been written into.
	slices.Reverse(dirs)
	for _, e := range dirs {
		name := filepath.FromSlash(e.Name)
		if err := root.Chmod(name, fs.FileMode(e.Mode)); err != nil {
			return res, fmt.Errorf("restore %s: %w", e.Name, err)
		}
		if err := root.Chtimes(name, e.MTime, e.MTime); err != nil {
			return res, fmt.Errorf("restore %s: %w", e.Name, err)
		}
	}
	return res, nil
}

// restoreEntry writes e below root, its content r checked against the
// digest the manifest lists.
func restoreEntry(root *os.Root, e Entry, r io.Reader, digests map[string]string) error {
	if err := checkName(e.Name); err != nil {
		return err
	}
	name := filepath.FromSlash(e.Name)
	if d := path.Dir(e.Name); d != "." {
		if err := root.MkdirAll(filepath.FromSlash(d), 0o700); err != nil {
			return err
		}
	}
	if e.Type == typeDir {
		return root.MkdirAll(name, 0o700)
	}
	if fi, err := root.Lstat(name); err == nil {
		if fi.IsDir() {
			return errors.New("a directory is in the way")
		}
		if err := root.Remove(name); err != nil {
			return err
		}
	}
	if e.Type == typeSymlink {
		return root.Symlink(e.Target, name)
	}
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(f, h), r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if want := digests[e.Name]; hex.EncodeToString(h.Sum(nil)) != want {
		return errors.New("its content changed since the archive was verified")
	}
	if err := root.Chmod(name, fs.FileMode(e.Mode)); err != nil {
		return err
	}
	return root.Chtimes(name, e.MTime, e.MTime)
}
