package workbook

import (
	"archive/zip"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/stewardhq/steward"
)

// extensions are the files a workbook service reads and writes.
var extensions = []string{".xlsx", ".xlsm", ".xltx", ".xltm"}

// local returns name as a path under dir, for the service's os.Root: a
// relative name that stays inside dir once cleaned, or an absolute one
// under dir. Symbolic links are resolved by the os.Root, which refuses
// those that lead out of dir.
func local(dir, name string) (string, error) {
	if name == "" {
		return "", steward.Errorf(steward.EINVALID, "no file name given")
	}
	rel := filepath.FromSlash(name)
	if filepath.IsAbs(rel) || filepath.VolumeName(rel) != "" {
		r, err := filepath.Rel(dir, rel)
		if err != nil {
			return "", steward.Errorf(steward.EINVALID, "file %q is outside the service's dir %s", name, dir)
		}
		rel = r
	}
	if !filepath.IsLocal(rel) {
		return "", steward.Errorf(steward.EINVALID, "file %q is outside the service's dir %s", name, dir)
	}
	if !slices.Contains(extensions, strings.ToLower(filepath.Ext(rel))) {
		return "", steward.Errorf(steward.EINVALID, "file %q: want a workbook file (%s)", name, strings.Join(extensions, ", "))
	}
	return filepath.Clean(rel), nil
}

// confined turns an os.Root's refusal of a path into an EINVALID error
// that says so, and any other error into one with the file's name.
func confined(name string, err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) && strings.Contains(pe.Err.Error(), "escapes") {
		return steward.Wrap(steward.EINVALID, err, "file %q is outside the service's dir (a link leads out of it)", name)
	}
	if errors.Is(err, os.ErrNotExist) {
		return steward.Wrap(steward.ENOTFOUND, err, "file %q", name)
	}
	return steward.Wrap("", err, "file %q", name)
}

// openTemplate reads the workbook name under root, refusing a file larger
// than l.MaxTemplate and one whose parts unzip to more than l.MaxUnzip: a
// zip bomb is refused before excelize inflates it.
func openTemplate(root *os.Root, name string, l Limits) (*excelize.File, error) {
	f, err := root.Open(name)
	if err != nil {
		return nil, confined(name, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	switch {
	case err != nil:
		return nil, confined(name, err)
	case !fi.Mode().IsRegular():
		return nil, steward.Errorf(steward.EINVALID, "template %q is not a regular file", name)
	case fi.Size() > l.MaxTemplate:
		return nil, steward.Errorf(steward.ETOOLARGE, "template %q is %d bytes, more than the %d a template may have", name, fi.Size(), l.MaxTemplate)
	}
	b, err := io.ReadAll(io.LimitReader(f, l.MaxTemplate+1))
	if err != nil {
		return nil, confined(name, err)
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, steward.Wrap(steward.EINVALID, err, "template %q is not a workbook", name)
	}
	var total uint64
	for _, zf := range zr.File {
		total += zf.UncompressedSize64
		if total > uint64(l.MaxUnzip) {
			return nil, steward.Errorf(steward.ETOOLARGE, "template %q unzips to more than %d bytes", name, l.MaxUnzip)
		}
	}
	// The archive's sizes were checked; excelize checks the same bounds as
	// it inflates, and archive/zip that no part inflates past its size.
	wb, err := excelize.OpenReader(bytes.NewReader(b), excelize.Options{UnzipSizeLimit: l.MaxUnzip, UnzipXMLSizeLimit: min(l.MaxUnzip, 16<<20)})
	if err != nil {
		return nil, steward.Wrap(steward.EINVALID, err, "template %q is not a workbook", name)
	}
	if len(wb.GetSheetList()) == 0 {
		wb.Close()
		return nil, steward.Errorf(steward.EINVALID, "template %q is not a workbook: it has no sheet", name)
	}
	return wb, nil
}

// saveAtomic writes wb to name under root: into a new file beside it,
// synced, then renamed over name, and the directory synced, so that name
// holds either its old content or the whole new one. A symbolic link is
// not replaced.
func saveAtomic(root *os.Root, name string, wb *excelize.File) (size int64, err error) {
	if fi, err := root.Lstat(name); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		return 0, steward.Errorf(steward.EINVALID, "file %q is a symbolic link: a save replaces files, not links", name)
	}
	dir, base := filepath.Dir(name), filepath.Base(name)
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	tmp := filepath.Join(dir, "."+base+"."+hex.EncodeToString(rnd[:])+".tmp")
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return 0, confined(name, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			root.Remove(tmp)
		}
	}()
	wb.Path = base // the content type follows the extension
	if size, err = wb.WriteTo(f); err != nil {
		return 0, fmt.Errorf("write %s: %w", name, err)
	}
	if err = f.Sync(); err != nil {
		return 0, fmt.Errorf("sync %s: %w", tmp, err)
	}
	if err = f.Close(); err != nil {
		return 0, fmt.Errorf("close %s: %w", tmp, err)
	}
	if err = root.Rename(tmp, name); err != nil {
		return 0, confined(name, err)
	}
	return size, syncDir(root, dir)
}
