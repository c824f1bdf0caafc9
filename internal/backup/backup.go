// Package backup provides the backup action of the run engine: tar.zst,
// tar.gz and zip archives of a job's paths with a manifest of SHA-256
// digests, written to a temporary file, synced and renamed into place,
// optionally encrypted to age recipients; retention with restic's forget
// semantics; verify; and restore confined to a target directory. The
// archives and their sidecar manifests on disk are its only state. The run
// engine and the daemon import it; it imports config and the root package.
package backup

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
)

// sidecarSuffix ends the name of an archive's sidecar.
const sidecarSuffix = ".backup.json"

// path is the archive's path.
func (in *Info) path() string { return filepath.Join(in.Dir, in.Archive) }

// sidecar is the sidecar's path.
func (in *Info) sidecar() string { return filepath.Join(in.Dir, in.ID+sidecarSuffix) }

// NewID returns the ID of the backup that run runID of job makes at t.
func NewID(job string, t time.Time, runID int64) string {
	return fmt.Sprintf("%s-%s-%d", job, t.UTC().Format("20060102T150405Z"), runID)
}

// Create archives spec's paths as backup id of job, made at t, into
// spec.To, and returns its sidecar. Nothing is left in spec.To when it
// fails.
func Create(ctx context.Context, job, id string, t time.Time, spec *config.JobBackup) (*Info, error) {
	if err := os.MkdirAll(spec.To, 0o700); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	var recipients []age.Recipient
	for _, s := range spec.Recipients {
		r, err := age.ParseX25519Recipient(s)
		if err != nil {
			return nil, fmt.Errorf("backup: recipient %q: %w", s, err)
		}
		recipients = append(recipients, r)
	}
	in := &Info{Version: manifestVersion, ID: id, Job: job, Time: t.UTC(), Format: spec.Format,
		Encrypted: len(recipients) > 0, Dir: spec.To}
	in.Archive = id + "." + spec.Format
	if in.Encrypted {
		in.Archive += ".age"
	}
	if _, err := os.Lstat(in.sidecar()); err == nil {
		return nil, steward.Errorf(steward.ECONFLICT, "backup %s exists already", id)
	}
	f, err := os.CreateTemp(spec.To, "."+id+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	m, err := write(ctx, f, in, spec, recipients)
	if err != nil {
		return nil, fmt.Errorf("backup %s: %w", id, err)
	}
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("backup %s: sync: %w", id, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("backup %s: %w", id, err)
	}
	if err := os.Rename(tmp, in.path()); err != nil {
		return nil, fmt.Errorf("backup %s: %w", id, err)
	}
	ok = true
	in.Skipped = m.Skipped
	if err := writeSidecar(in); err != nil {
		os.Remove(in.path())
		return nil, fmt.Errorf("backup %s: %w", id, err)
	}
	return in, nil
}

// write writes the archive of spec's paths to f and fills in's size,
// digest and counts; it returns the archive's manifest.
func write(ctx context.Context, f *os.File, in *Info, spec *config.JobBackup, recipients []age.Recipient) (*Manifest, error) {
	st, err := newStack(f, spec.Format, recipients)
	if err != nil {
		return nil, err
	}
	m := &Manifest{Version: manifestVersion, ID: in.ID, Job: in.Job, Time: in.Time, Paths: spec.Paths, Entries: []Entry{}}
	skipped, err := walk(ctx, spec.Paths, filter{spec.Include, spec.Exclude}, func(it item) error {
		e, err := addItem(st.sink, it)
		if err != nil {
			return err
		}
		m.Entries = append(m.Entries, e)
		if e.Type == typeFile {
			in.Files++
			in.Bytes += e.Size
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	m.Skipped = skipped
	data, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	me := Entry{Name: manifestName, Type: typeFile, Mode: 0o600, MTime: in.Time.Truncate(time.Second), Size: int64(len(data))}
	if err := st.sink.add(me, bytes.NewReader(data)); err != nil {
		return nil, err
	}
	if in.SHA256, err = st.close(); err != nil {
		return nil, err
	}
	in.Size = st.size
	return m, nil
}

// addItem writes it to s and returns its entry with its digest. A file
// that changed size while it was read, or that is no longer the file the
// walk found, fails the backup.
func addItem(s sink, it item) (Entry, error) {
	e := it.e
	if e.Type != typeFile {
		return e, s.add(e, nil)
	}
	f, err := os.Open(it.path)
	if err != nil {
		return e, fmt.Errorf("read %s: %w", it.path, err)
	}
	defer f.Close()
	if now, err := f.Stat(); err != nil || !os.SameFile(now, it.info) {
		return e, fmt.Errorf("read %s: it was replaced while the backup ran", it.path)
	}
	h := sha256.New()
	c := &counter{r: io.TeeReader(io.LimitReader(f, e.Size), h)}
	if err := s.add(e, c); err != nil {
		return e, fmt.Errorf("archive %s: %w", it.path, err)
	}
	if c.n != e.Size {
		return e, fmt.Errorf("read %s: it shrank from %d to %d bytes while the backup ran", it.path, e.Size, c.n)
	}
	e.SHA256 = hex.EncodeToString(h.Sum(nil))
	return e, nil
}

type counter struct {
	r io.Reader
	n int64
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// writeSidecar writes in's sidecar: to a temporary file, synced, renamed,
// and the directory synced.
func writeSidecar(in *Info) error {
	data, err := json.MarshalIndent(in, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(in.Dir, "."+in.ID+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(append(data, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, in.sidecar())
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(in.Dir)
}

// Run is the backup action of run runID of job j at t: it makes the
// backup, then removes the archives of the job that its keep policy does
// not keep. It returns what it did, for the run's output.
func Run(ctx context.Context, j *config.Job, t time.Time, runID int64) ([]byte, error) {
	var out bytes.Buffer
	in, err := Create(ctx, j.Name, NewID(j.Name, t, runID), t, j.Backup)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(&out, "backup %s: %d files, %d bytes, archive %s (%d bytes, %s)\n",
		in.ID, in.Files, in.Bytes, in.path(), in.Size, in.Format)
	for _, s := range in.Skipped {
		fmt.Fprintf(&out, "skipped %s: %s\n", s.Path, s.Why)
	}
	decisions, err := Forget(j, false)
	for _, d := range decisions {
		if d.Keep {
			fmt.Fprintf(&out, "keep %s: %s\n", d.ID, strings.Join(d.Reasons, ", "))
		} else {
			fmt.Fprintf(&out, "removed %s\n", d.ID)
		}
	}
	if err != nil {
		return out.Bytes(), fmt.Errorf("forget: %w", err)
	}
	return out.Bytes(), nil
}

// Forget applies j's keep policy to its archives, newest first: it
// removes those it does not keep, unless dryRun, and says why it keeps
// the others.
func Forget(j *config.Job, dryRun bool) ([]steward.BackupDecision, error) {
	list, err := List(j.Backup.To, j.Name)
	if err != nil {
		return nil, err
	}
	loc := time.Local
	if j.Timezone != "" {
		if l, err := time.LoadLocation(j.Timezone); err == nil {
			loc = l
		}
	}
	plan := Plan(list, j.Backup.Keep, loc)
	var errs []error
	for _, d := range plan {
		if d.Keep || dryRun {
			continue
		}
		errs = append(errs, remove(d.Info))
	}
	out := make([]steward.BackupDecision, len(plan))
	for i, d := range plan {
		out[i] = steward.BackupDecision{ID: d.Info.ID, Time: d.Info.Time, Keep: d.Keep, Reasons: d.Reasons}
	}
	return out, errors.Join(errs...)
}

// remove deletes a backup: its sidecar first, so that it is no longer
// listed, then its archive.
func remove(in *Info) error {
	if err := os.Remove(in.sidecar()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove backup %s: %w", in.ID, err)
	}
	if err := os.Remove(in.path()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove backup %s: %w", in.ID, err)
	}
	return nil
}

// List returns the backups of job (every job's for "") in dir, newest
// first. A directory that does not exist has none; a sidecar that cannot
// be parsed is left out.
func List(dir, job string) ([]*Info, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list backups: %w", err)
	}
	var out []*Info
	for _, de := range ents {
		name := de.Name()
		if !de.Type().IsRegular() || !strings.HasSuffix(name, sidecarSuffix) || strings.HasPrefix(name, ".") {
			continue
		}
		in, err := readSidecar(filepath.Join(dir, name))
		if err != nil || in.ID+sidecarSuffix != name || (job != "" && in.Job != job) {
			continue
		}
		out = append(out, in)
	}
	sortNewest(out)
	return out, nil
}

func readSidecar(p string) (*Info, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxManifest))
	if err != nil {
		return nil, err
	}
	in, err := parseInfo(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	in.Dir = filepath.Dir(p)
	return in, nil
}
