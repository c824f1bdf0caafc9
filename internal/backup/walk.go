package backup

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/stewardhq/steward"
)

// item is one thing a walk found to archive.
type item struct {
	path string // on disk
	info fs.FileInfo
	e    Entry
}

// filter is a backup's include and exclude globs.
type filter struct {
	include, exclude []string
}

// match reports whether glob g matches rel, the slash-separated path
// below a backup path: a glob without a slash matches rel's last part,
// one with a slash all of rel, "**" standing for any number of parts.
func match(g, rel string) bool {
	if !strings.Contains(g, "/") {
		ok, _ := path.Match(g, path.Base(rel))
		return ok
	}
	return matchParts(strings.Split(g, "/"), strings.Split(rel, "/"))
}

func matchParts(g, p []string) bool {
	for len(g) > 0 {
		if g[0] == "**" {
			for i := 0; i <= len(p); i++ {
				if matchParts(g[1:], p[i:]) {
					return true
				}
			}
			return false
		}
		if len(p) == 0 {
			return false
		}
		if ok, _ := path.Match(g[0], p[0]); !ok {
			return false
		}
		g, p = g[1:], p[1:]
	}
	return len(p) == 0
}

func (f filter) excluded(rel string) bool {
	for _, g := range f.exclude {
		if match(g, rel) {
			return true
		}
	}
	return false
}

func (f filter) included(rel string) bool {
	if len(f.include) == 0 {
		return true
	}
	for _, g := range f.include {
		if match(g, rel) {
			return true
		}
	}
	return false
}

// archiveName is the entry name of the absolute path p: slash-separated,
// without the leading separator, a Windows volume "C:" as "C".
func archiveName(p string) string {
	vol := filepath.VolumeName(p)
	rest := filepath.ToSlash(p[len(vol):])
	rest = strings.TrimLeft(rest, "/")
	vol = strings.TrimSuffix(strings.TrimLeft(filepath.ToSlash(vol), "/"), ":")
	switch {
	case vol == "":
		return rest
	case rest == "":
		return vol
	}
	return vol + "/" + rest
}

// walk calls add for each entry below the backup paths that the filter
// keeps, in a stable order, and returns the special files it skipped.
// Symlinks are entries of their own, never followed; a directory is an
// entry when there is no include glob (with one, restore creates the
// directories of the files). A path that cannot be read fails the walk.
func walk(ctx context.Context, paths []string, f filter, add func(it item) error) ([]steward.BackupSkip, error) {
	var skipped []steward.BackupSkip
	for _, root := range paths {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return fmt.Errorf("read %s: %w", p, err)
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			rel := ""
			if p != root {
				r, _ := filepath.Rel(root, p)
				rel = filepath.ToSlash(r)
				if f.excluded(rel) {
					if d.IsDir() {
						return filepath.SkipDir
					}
					return nil
				}
			}
			info, err := d.Info()
			if err != nil {
				return fmt.Errorf("stat %s: %w", p, err)
			}
			name := archiveName(p)
			if name == manifestName {
				skipped = append(skipped, steward.BackupSkip{Path: p, Why: "its name is the archive's manifest"})
				return nil
			}
			e := Entry{Name: name, Mode: uint32(info.Mode().Perm()), MTime: info.ModTime().UTC().Truncate(1e9)}
			switch m := info.Mode(); {
			case m.IsDir():
				if len(f.include) > 0 {
					return nil
				}
				e.Type = typeDir
			case m&fs.ModeSymlink != 0:
				if !f.included(rel) {
					return nil
				}
				target, err := os.Readlink(p)
				if err != nil {
					return fmt.Errorf("read symlink %s: %w", p, err)
				}
				e.Type, e.Target = typeSymlink, target
			case m.IsRegular():
				if !f.included(rel) {
					return nil
				}
				e.Type, e.Size = typeFile, info.Size()
			default:
				if f.included(rel) {
					skipped = append(skipped, steward.BackupSkip{Path: p, Why: special(m) + ": special files are not backed up"})
				}
				return nil
			}
			return add(item{path: p, info: info, e: e})
		})
		if err != nil {
			return skipped, err
		}
	}
	return skipped, nil
}

// special names the type of a file that is neither a file, a directory
// nor a symlink.
func special(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "an irregular file"
}
