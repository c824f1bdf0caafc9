package logcap

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Compression of rotated files, the values of Options.Compress.
const (
	Gzip = "gzip" // Name.log.STAMP.gz
	Zstd = "zstd" // Name.log.STAMP.zst
)

// StampFormat is the layout of the UTC time of its rotation that ends the
// name of a rotated file, Name.log.STAMP, before the extension of its
// compression; it sorts in time order and holds no colon.
const StampFormat = "2006-01-02T15-04-05.000Z"

// day is the length of a day without a change of the clocks.
const day = 24 * time.Hour

// checkRotation checks the rotation settings of o.
func checkRotation(o Options) error {
	switch {
	case o.MaxSize <= 0:
		return fmt.Errorf("max size %d is not positive", o.MaxSize)
	case o.Keep < 0 || o.MaxAge < 0 || o.MaxTotal < 0:
		return errors.New("negative keep, max age or max total")
	case o.Compress != "" && o.Compress != Gzip && o.Compress != Zstd:
		return fmt.Errorf("unknown compression %q", o.Compress)
	}
	return checkEvery(o.Every)
}

// checkEvery checks a period of rotation by time: 0 (none), or at least a
// minute and either a whole number of days or a divisor of a day.
func checkEvery(every time.Duration) error {
	if every != 0 && (every < time.Minute || (every%day != 0 && day%every != 0)) {
		return fmt.Errorf("rotation period %v is neither whole days nor a divisor of a day of at least 1m", every)
	}
	return nil
}

// SetRotation changes the rotation settings to those of o — MaxSize, Keep,
// Every, MaxAge, MaxTotal and Compress; its other fields are ignored — as
// a reload of the service's config does. They apply from the next write: a
// file already over the new MaxSize is rotated then, and the rotated files
// the new limits do not keep are deleted at the next rotation.
func (l *Log) SetRotation(o Options) error {
	if err := checkRotation(o); err != nil {
		return fmt.Errorf("logcap: %s: %w", l.name, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	changed := o.Every != l.rot.Every
	l.rot = rotation{o.MaxSize, o.Keep, o.Every, o.MaxAge, o.MaxTotal, o.Compress}
	if changed {
		l.next = l.boundary(l.fileStart())
	}
	return nil
}

// rotation is the part of Options that says when files rotate and which of
// them are kept.
type rotation struct {
	MaxSize       int64
	Keep          int
	Every, MaxAge time.Duration
	MaxTotal      int64
	Compress      string
}

// boundary returns the first time after t at which the file rotates by
// time: local midnight plus a multiple of Every within the day, or the
// midnight Every days on. It is the zero time without rotation by time.
func (l *Log) boundary(t time.Time) time.Time {
	every := l.rot.Every
	if every == 0 {
		return time.Time{}
	}
	lt := t.In(l.loc)
	y, m, d := lt.Date()
	next := time.Date(y, m, d+max(int(every/day), 1), 0, 0, 0, 0, l.loc)
	if every >= day {
		return next
	}
	midnight := time.Date(y, m, d, 0, 0, 0, 0, l.loc)
	b := midnight.Add((lt.Sub(midnight)/every + 1) * every)
	if b.After(next) { // a day shorter than 24h ends at its midnight
		b = next
	}
	return b
}

// fileStart returns the time of the first line of the current file, or
// now when it is empty or that line cannot be read.
func (l *Log) fileStart() time.Time {
	var b [64]byte
	if l.f != nil && l.size > 0 {
		if f, ok := l.f.(*os.File); ok {
			n, _ := f.ReadAt(b[:], 0)
			ts, _, _ := strings.Cut(string(b[:n]), " ")
			if t, err := time.Parse(TimeFormat, ts); err == nil {
				return t
			}
		}
	}
	return l.now()
}

// Rotate ends the current file as if it had reached MaxSize, unless it is
// empty, and returns the path the file was renamed to, or "" when it was
// empty. Rotated files are compressed and deleted in the background.
func (l *Log) Rotate() (string, error) {
	l.mu.Lock()
	defer l.unlockReport()
	if l.closed {
		return "", fmt.Errorf("logcap: rotate %s: %w", l.name, errClosed)
	}
	err := l.flushLocked(true)
	if l.size == 0 {
		return "", err
	}
	to, rerr := l.rotateLocked()
	return to, errors.Join(err, rerr)
}

// rotateLocked renames Name.log to Name.log.STAMP, starts a new Name.log,
// and has the rotated files compressed and pruned in the background, so
// that the child never waits for them. It returns the new name.
func (l *Log) rotateLocked() (string, error) {
	var errs []error
	if l.f != nil {
		if err := l.f.Close(); err != nil {
			errs = append(errs, err)
		}
		l.f = nil
	}
	to := l.stampedName(l.now())
	if err := os.Rename(l.path, to); err != nil {
		errs = append(errs, err)
		to = ""
	}
	if err := l.openFileLocked(); err != nil {
		errs = append(errs, err)
	}
	l.next = l.boundary(l.now())
	l.tidyLocked()
	if len(errs) > 0 {
		return to, fmt.Errorf("logcap: rotate %s: %w", l.path, errors.Join(errs...))
	}
	return to, nil
}

// stampedName returns a free name for the file rotated at t: Name.log.STAMP,
// a millisecond later when that name is taken or t is not after the stamp
// of the newest rotated file, so that the names sort in the order of the
// rotations however the clock moves (pruning keeps the newest by stamp).
func (l *Log) stampedName(t time.Time) string {
	t = t.UTC().Truncate(time.Millisecond)
	if !t.After(l.stamped) {
		t = l.stamped.Add(time.Millisecond)
	}
	for {
		p := l.path + "." + t.Format(StampFormat)
		if !exists(p) && !exists(p+".gz") && !exists(p+".zst") {
			l.stamped = t
			return p
		}
		t = t.Add(time.Millisecond)
	}
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// tidyLocked has the rotated files compressed and pruned by a goroutine,
// which runs only while there is work: another pass when one is under way.
func (l *Log) tidyLocked() {
	if l.tidying {
		l.again = true
		return
	}
	l.tidying = true
	l.tidied.Go(l.tidy)
}

// tidy runs passes over the rotated files until no rotation asked for
// another, or the log is closed.
func (l *Log) tidy() {
	for {
		l.mu.Lock()
		rot := l.rot
		l.again = false
		l.mu.Unlock()
		err := l.tidyPass(rot)
		if err != nil && l.onError != nil {
			l.onError(fmt.Errorf("logcap: %s: %w", l.name, err))
		}
		l.mu.Lock()
		if !l.again || l.closed {
			l.tidying = false
			l.mu.Unlock()
			return
		}
		l.mu.Unlock()
	}
}

// rotatedFile is a rotated file of a Log.
type rotatedFile struct {
	path string
	at   time.Time // when it was rotated
	size int64
	ext  string // "", ".gz" or ".zst"
}

// tidyPass deletes the rotated files that rot does not keep, compresses the
// others, and deletes those beyond MaxTotal once compressed. Close stops a
// compression under way, which the pass after the next rotation finishes.
func (l *Log) tidyPass(rot rotation) error {
	files, leftovers, err := l.rotatedFiles()
	if err != nil {
		return err
	}
	for _, p := range leftovers {
		os.Remove(p)
	}
	if rot.Compress == "" {
		_, err := l.prune(files, rot)
		return err
	}
	first := rot
	first.MaxTotal = 0 // counted once compressed
	files, perr := l.prune(files, first)
	errs := []error{perr}
	for _, f := range slices.Backward(files) {
		if f.ext != "" {
			continue
		}
		if err := compressFile(f.path, rot.Compress, l.stop.Load); errors.Is(err, errClosed) {
			break
		} else if err != nil {
			errs = append(errs, err)
		}
	}
	if files, _, err = l.rotatedFiles(); err != nil {
		return errors.Join(append(errs, err)...)
	}
	_, perr = l.prune(files, rot)
	return errors.Join(append(errs, perr)...)
}

// rotatedFiles lists the rotated files of the log, newest first, and the
// temporary files a compression cut short left. Name.log.N files of
// earlier versions count as rotated at their modification time.
func (l *Log) rotatedFiles() (files []rotatedFile, leftovers []string, err error) {
	entries, err := os.ReadDir(l.dir)
	if err != nil {
		return nil, nil, err
	}
	prefix := l.name + ".log."
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || !e.Type().IsRegular() {
			continue
		}
		path := filepath.Join(l.dir, e.Name())
		if strings.HasSuffix(rest, ".tmp") {
			leftovers = append(leftovers, path)
			continue
		}
		f := rotatedFile{path: path}
		for _, ext := range []string{".gz", ".zst"} {
			if s, ok := strings.CutSuffix(rest, ext); ok {
				rest, f.ext = s, ext
			}
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		f.size = info.Size()
		if f.at, err = time.Parse(StampFormat, rest); err != nil {
			if n, err := strconv.Atoi(rest); err != nil || n <= 0 {
				continue
			}
			f.at = info.ModTime()
		}
		files = append(files, f)
	}
	slices.SortFunc(files, func(a, b rotatedFile) int { return b.at.Compare(a.at) })
	return files, leftovers, nil
}

// prune deletes the files, newest first, beyond Keep, older than MaxAge or
// beyond MaxTotal bytes, and returns those it keeps and the first failure
// to delete.
func (l *Log) prune(files []rotatedFile, rot rotation) ([]rotatedFile, error) {
	now := l.now()
	var kept []rotatedFile
	var total int64
	var first error
	for i, f := range files {
		total += f.size
		if i < rot.Keep && (rot.MaxAge == 0 || now.Sub(f.at) <= rot.MaxAge) && (rot.MaxTotal == 0 || total <= rot.MaxTotal) {
			kept = append(kept, f)
			continue
		}
		if err := os.Remove(f.path); err != nil && !errors.Is(err, fs.ErrNotExist) && first == nil {
			first = err
		}
	}
	return kept, first
}

// compressFile compresses path into path.gz or path.zst, which keeps the
// time path was modified, through a temporary file, then deletes path. It
// gives up with errClosed, deleting the temporary file, when stop reports
// true between two blocks.
func compressFile(path, kind string, stop func() bool) error {
	ext := ".gz"
	if kind == Zstd {
		ext = ".zst"
	}
	tmp := path + ext + ".tmp"
	if err := compressTo(tmp, path, kind, stop); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path+ext); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("compress %s: %w", path, err)
	}
	return os.Remove(path)
}

// compressTo writes path compressed to tmp and gives it path's time of
// modification.
func compressTo(tmp, path, kind string, stop func() bool) error {
	src, err := os.Open(path)
	if err != nil {
		return err
	}
	defer src.Close()
	info, err := src.Stat()
	if err != nil {
		return err
	}
	dst, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	defer dst.Close()
	var enc io.WriteCloser
	if kind == Zstd {
		if enc, err = zstd.NewWriter(dst, zstd.WithEncoderConcurrency(1)); err != nil {
			return err
		}
	} else {
		enc = gzip.NewWriter(dst)
	}
	buf := make([]byte, 256<<10)
	for {
		if stop() {
			enc.Close()
			return errClosed
		}
		n, rerr := src.Read(buf)
		if _, err := enc.Write(buf[:n]); err != nil {
			return fmt.Errorf("compress %s: %w", path, err)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return fmt.Errorf("compress %s: %w", path, rerr)
		}
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("compress %s: %w", path, err)
	}
	if err := dst.Sync(); err != nil {
		return fmt.Errorf("compress %s: %w", path, err)
	}
	if err := dst.Close(); err != nil {
		return fmt.Errorf("compress %s: %w", path, err)
	}
	return os.Chtimes(tmp, info.ModTime(), info.ModTime())
}
