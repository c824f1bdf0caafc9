package logwatch

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/stewardhq/steward/internal/logcap"
	"github.com/stewardhq/steward/internal/store"
)

// Tunables.
const (
	// headMax is how many first bytes of a file its head hash covers.
	headMax = 1024
	// bufSize is the read buffer; a line longer than it is cut there.
	bufSize = 1 << 20
	// saveEvery is how often read positions are saved while lines without
	// events are read; a batch of lines that raised events is saved at once.
	saveEvery = time.Second
	// DefaultRotateGrace is how long a file that was renamed away or
	// deleted is still read after it last grew, for a writer that has not
	// reopened its log yet.
	DefaultRotateGrace = 5 * time.Second
)

// OffsetStore keeps where each watch stopped reading each file, and
// whether it ever ran: *store.Store.
type OffsetStore interface {
	LogOffsets(ctx context.Context, watch string) ([]store.LogOffset, error)
	SaveLogOffsets(ctx context.Context, watch string, offs []store.LogOffset, forget []string) error
	GetMeta(ctx context.Context, key string) (string, bool, error)
	SetMeta(ctx context.Context, key, value string) error
}

// Options configure a Watcher.
type Options struct {
	// Store keeps the read positions; nil keeps none, so that every start
	// is a first start.
	Store   OffsetStore
	Handler Handler          // receives the Events; nil drops them
	Logger  *slog.Logger     // nil means slog.Default()
	Now     func() time.Time // clock; nil means time.Now
	// NoEvents makes the Watcher poll only, even where file system events
	// are available.
	NoEvents bool
	// RotateGrace is how long a rotated file is still read after it last
	// grew; 0 means DefaultRotateGrace.
	RotateGrace time.Duration
}

// Stats are a Watcher's counters since it was made.
type Stats struct {
	Files  int         `json:"files"`  // files being read now
	Lines  uint64      `json:"lines"`  // lines read from files and services
	Bytes  uint64      `json:"bytes"`  // bytes read from files
	Missed uint64      `json:"missed"` // service lines dropped because the watch fell behind
	Rules  []RuleStats `json:"rules"`
}

// Watcher follows a log watch's files and checks their lines with its
// rules. Construct it with New, then Start it; Stop saves where it stopped.
type Watcher struct {
	cfg   Config
	opts  Options
	m     *Matcher
	log   *slog.Logger
	now   func() time.Time
	poll  time.Duration
	grace time.Duration

	// Owned by the loop goroutine.
	files    map[string]*file // by identity
	stored   map[string]store.LogOffset
	forget   []string // identities whose offsets are to be deleted
	firstRun bool
	lastSave time.Time
	dirty    bool
	buf      []byte
	fsw      *fsnotify.Watcher
	dirs     map[string]bool // directories watched for events
	ctx      context.Context // the loop's: done at Stop

	sawEvent      atomic.Bool
	lines, nbytes atomic.Uint64
	missed        atomic.Uint64
	nfiles        atomic.Int64

	mu      sync.Mutex
	cancel  context.CancelFunc
	done    chan struct{}
	started bool
	runErr  error
}

// file is a followed file.
type file struct {
	id       string
	path     string
	f        *os.File
	offset   int64  // where the next whole line starts
	pending  []byte // bytes read past offset: a line still without its newline
	headLen  int
	headHash string
	size     int64
	rotated  bool      // its path no longer names it
	lastGrow time.Time // when it last grew, or was found rotated
}

func (fl *file) readPos() int64 { return fl.offset + int64(len(fl.pending)) }

// New validates c and returns its Watcher. It has no side effects.
func New(c Config, opts Options) (*Watcher, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	w := &Watcher{
		cfg:   c,
		opts:  opts,
		log:   cmp.Or(opts.Logger, slog.Default()),
		now:   opts.Now,
		grace: cmp.Or(opts.RotateGrace, DefaultRotateGrace),
		files: map[string]*file{},
	}
	if opts.Now == nil {
		w.now = time.Now
	}
	h := opts.Handler
	m, err := NewMatcher(c.Name, c.Rules, func(ev Event) {
		w.sawEvent.Store(true)
		if h != nil {
			h(ev)
		}
	}, w.now)
	if err != nil {
		return nil, err
	}
	w.m = m
	w.poll = c.Poll
	switch {
	case w.poll > 0:
	case !w.eventsWanted():
		w.poll = DefaultPollNoEvents
	case runtime.GOOS == "windows":
		w.poll = DefaultPollWindows
	default:
		w.poll = DefaultPoll
	}
	return w, nil
}

// eventsWanted reports whether the Watcher uses file system events: on
// Linux and Windows, unless Options.NoEvents.
func (w *Watcher) eventsWanted() bool {
	return !w.opts.NoEvents && (runtime.GOOS == "linux" || runtime.GOOS == "windows")
}

// Matcher returns the Watcher's Matcher.
func (w *Watcher) Matcher() *Matcher { return w.m }

// Stats returns the Watcher's counters.
func (w *Watcher) Stats() Stats {
	return Stats{
		Files:  int(w.nfiles.Load()),
		Lines:  w.lines.Load(),
		Bytes:  w.nbytes.Load(),
		Missed: w.missed.Load(),
		Rules:  w.m.Stats(),
	}
}

// Start loads the saved read positions and starts following the files.
// It returns once the positions are loaded; the first look at the files
// happens in the background.
func (w *Watcher) Start(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.started {
		return errors.New("logwatch: already started")
	}
	w.started = true
	w.stored = map[string]store.LogOffset{}
	w.firstRun = true
	if st := w.opts.Store; st != nil {
		offs, err := st.LogOffsets(ctx, w.cfg.Name)
		if err != nil {
			return fmt.Errorf("logwatch %s: %w", w.cfg.Name, err)
		}
		for _, o := range offs {
			w.stored[o.Identity] = o
		}
		_, seen, err := st.GetMeta(ctx, w.metaKey())
		if err != nil {
			return fmt.Errorf("logwatch %s: %w", w.cfg.Name, err)
		}
		w.firstRun = !seen && len(offs) == 0
	}
	w.buf = make([]byte, bufSize)
	if len(w.cfg.Files) > 0 && w.eventsWanted() {
		fsw, err := fsnotify.NewWatcher()
		if err != nil {
			w.log.Warn("logwatch: no file system events, polling only", "watch", w.cfg.Name, "err", err)
		} else {
			w.fsw = fsw
			w.dirs = map[string]bool{}
		}
	}
	ctx, w.cancel = context.WithCancel(context.WithoutCancel(ctx))
	w.ctx = ctx
	w.done = make(chan struct{})
	go w.loop(ctx)
	return nil
}

func (w *Watcher) metaKey() string { return "logwatch/" + w.cfg.Name + "/started" }

// Stop stops following, saves where each file was read to, and closes the
// files. It waits for the loop until ctx is done. It is safe to call
// without Start and more than once.
func (w *Watcher) Stop(ctx context.Context) error {
	w.mu.Lock()
	cancel, done := w.cancel, w.done
	w.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	select {
	case <-done:
	case <-ctx.Done():
		return fmt.Errorf("logwatch %s: stop: %w", w.cfg.Name, ctx.Err())
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.runErr
}

// Follow checks the lines of a supervised service's output, as a
// logcap.Log's Subscribe gives them, until lines is closed or ctx is done.
// Events from them have the Source "service:NAME".
func (w *Watcher) Follow(ctx context.Context, service string, lines <-chan logcap.Line) {
	source := "service:" + service
	for {
		select {
		case <-ctx.Done():
			return
		case ln, ok := <-lines:
			if !ok {
				return
			}
			if ln.Missed > 0 {
				w.missed.Add(uint64(ln.Missed))
			}
			w.lines.Add(1)
			t := ln.Time
			if t.IsZero() {
				t = w.now()
			}
			w.m.Scan(source, []byte(ln.Text), t)
		}
	}
}

func (w *Watcher) loop(ctx context.Context) {
	defer close(w.done)
	defer w.shutdown()
	if len(w.cfg.Files) > 0 {
		w.scan(ctx, true)
	}
	tick := time.NewTicker(w.poll)
	defer tick.Stop()
	conds := time.NewTicker(min(w.poll, tickEvery))
	defer conds.Stop()
	var events <-chan fsnotify.Event
	var errs <-chan error
	if w.fsw != nil {
		events, errs = w.fsw.Events, w.fsw.Errors
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if len(w.cfg.Files) > 0 {
				w.scan(ctx, false)
			}
		case <-conds.C:
			w.m.Tick(w.now())
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			full, touched := w.classify(ev, nil)
			// Take every event already queued: one pass serves them all.
		drain:
			for {
				select {
				case ev, ok := <-events:
					if !ok {
						events = nil
						break drain
					}
					var f bool
					f, touched = w.classify(ev, touched)
					full = full || f
				default:
					break drain
				}
			}
			if full {
				w.scan(ctx, false)
			} else {
				for _, fl := range touched {
					w.read(fl)
				}
				w.maybeSave(ctx, false)
			}
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			// An overflow of the event queue: a full scan catches up.
			w.log.Warn("logwatch: file system events", "watch", w.cfg.Name, "err", err)
			w.scan(ctx, false)
		}
	}
}

// classify returns whether ev needs a full scan, and adds to touched the
// followed file it is a write to.
func (w *Watcher) classify(ev fsnotify.Event, touched []*file) (bool, []*file) {
	if !ev.Has(fsnotify.Create) && !ev.Has(fsnotify.Remove) && !ev.Has(fsnotify.Rename) {
		for _, fl := range w.files {
			if fl.path == ev.Name && !fl.rotated {
				if !slices.Contains(touched, fl) {
					touched = append(touched, fl)
				}
				return false, touched
			}
		}
		if !ev.Has(fsnotify.Write) {
			return false, touched
		}
	}
	return w.matches(ev.Name), touched
}

// matches reports whether path matches one of the watch's files.
func (w *Watcher) matches(path string) bool {
	for _, pat := range w.cfg.Files {
		if ok, _ := filepath.Match(pat, path); ok {
			return true
		}
	}
	return false
}

// scan looks for the files the watch's globs match now, follows new ones,
// notices rotated ones and reads everything new.
func (w *Watcher) scan(ctx context.Context, initial bool) {
	w.watchDirs()
	seen := map[string]bool{}
	var fresh []*file
	for _, pat := range w.cfg.Files {
		paths, _ := filepath.Glob(pat) // the pattern was validated
		for _, path := range paths {
			id, fi, err := pathIdentity(path)
			if err != nil || !fi.Mode().IsRegular() || seen[id] {
				continue
			}
			seen[id] = true
			if fl := w.files[id]; fl != nil {
				fl.path, fl.rotated = path, false
				continue
			}
			fl, err := w.open(path, id, initial)
			if err != nil {
				w.log.Warn("logwatch: open", "watch", w.cfg.Name, "path", path, "err", err)
				continue
			}
			fresh = append(fresh, fl)
		}
	}
	now := w.now()
	// Files whose path no longer names them were rotated or deleted: they
	// are read to their end first, as their lines came first.
	var order []*file
	for id, fl := range w.files {
		if !seen[id] {
			if !fl.rotated {
				fl.rotated, fl.lastGrow = true, now
			}
			order = append(order, fl)
		}
	}
	for id, fl := range w.files {
		if seen[id] && !slices.Contains(fresh, fl) {
			order = append(order, fl)
		}
	}
	order = append(order, fresh...)
	for _, fl := range order {
		w.read(fl)
		if fl.rotated && now.Sub(fl.lastGrow) >= w.grace {
			w.close(fl)
		}
	}
	if initial {
		w.finishStored()
		if st := w.opts.Store; st != nil {
			if err := st.SetMeta(ctx, w.metaKey(), "1"); err != nil && ctx.Err() == nil {
				w.log.Error("logwatch: save state", "watch", w.cfg.Name, "err", err)
			}
		}
	}
	w.nfiles.Store(int64(len(w.files)))
	w.maybeSave(ctx, initial)
}

// watchDirs adds the directories of the watch's globs to the file system
// watcher, those that exist; a later scan adds those created since.
func (w *Watcher) watchDirs() {
	if w.fsw == nil {
		return
	}
	for _, pat := range w.cfg.Files {
		dir := filepath.Dir(pat)
		if w.dirs[dir] {
			continue
		}
		if err := w.fsw.Add(dir); err == nil {
			w.dirs[dir] = true
		}
	}
}

// open starts following the file at path, whose identity is id, from
// where the saved position, or the rules for new files, say.
func (w *Watcher) open(path, id string, initial bool) (*file, error) {
	f, err := openFile(path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil {
		// The file may have been replaced between the look and the open.
		var got string
		if got, err = identity(fi, f); err == nil && got != id {
			err = fmt.Errorf("replaced while opening")
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	fl := &file{id: id, path: path, f: f, lastGrow: w.now()}
	w.files[id] = fl
	size := fi.Size()
	if saved, ok := w.stored[id]; ok {
		delete(w.stored, id)
		if w.sameHead(f, saved.HeadLen, saved.HeadHash) && saved.Offset <= size {
			fl.offset, fl.headLen, fl.headHash = saved.Offset, saved.HeadLen, saved.HeadHash
			return fl, nil
		}
		// Truncated, or rewritten, while steward was down.
		w.recoverCopy(&file{id: id, path: path, offset: saved.Offset, headLen: saved.HeadLen, headHash: saved.HeadHash})
		w.log.Info("logwatch: file truncated while stopped, reading it from its start", "watch", w.cfg.Name, "path", path)
		return fl, nil
	}
	if initial && w.firstRun && w.cfg.StartAt != StartBeginning {
		fl.offset = lineStartBefore(f, size)
	}
	w.updateHead(fl)
	return fl, nil
}

// lineStartBefore returns where the line that holds the end of a file of
// size bytes starts: just after its last newline, found in its last 64 KiB.
func lineStartBefore(f *os.File, size int64) int64 {
	const tail = 64 << 10
	from := max(size-tail, 0)
	b := make([]byte, size-from)
	n, _ := f.ReadAt(b, from)
	if i := bytes.LastIndexByte(b[:n], '\n'); i >= 0 {
		return from + int64(i) + 1
	}
	if from == 0 {
		return 0
	}
	return size
}

// read reads fl from where it was to its end and checks its whole lines.
func (w *Watcher) read(fl *file) {
	fi, err := fl.f.Stat()
	if err != nil {
		return
	}
	size := fi.Size()
	if size < fl.readPos() || (fl.headLen > 0 && size != fl.size && !w.sameHead(fl.f, fl.headLen, fl.headHash)) {
		w.truncated(fl)
	}
	fl.size = size
	grew := w.readFrom(fl, fl.f)
	if grew {
		fl.lastGrow = w.now()
		w.updateHead(fl)
	}
}

// readFrom reads r, which holds fl's content, from fl's read position to
// its end, checking whole lines, and reports whether it read anything.
func (w *Watcher) readFrom(fl *file, r io.ReaderAt) bool {
	grew := false
	for w.ctx.Err() == nil { // a big file must not hold up Stop
		n0 := copy(w.buf, fl.pending)
		n, err := r.ReadAt(w.buf[n0:], fl.readPos())
		if n > 0 {
			grew = true
			w.nbytes.Add(uint64(n))
			data := w.buf[:n0+n]
			end := bytes.LastIndexByte(data, '\n') + 1
			if end == 0 && len(data) == len(w.buf) {
				end = len(data) // a line longer than the buffer: cut it
			}
			if end > 0 {
				w.lines.Add(uint64(bytes.Count(data[:end], []byte{'\n'})))
				w.m.Scan(fl.path, data[:end], w.now())
				fl.offset += int64(end)
				w.dirty = true
			}
			fl.pending = append(fl.pending[:0], data[end:]...)
		}
		if err != nil || n == 0 {
			return grew
		}
	}
	return grew
}

// truncated handles a file that was truncated, or truncated and
// rewritten: what was written after the read position but before the
// truncation is read from a copy of the file, if there is one (a
// copytruncate rotation), then the file is read from its start.
func (w *Watcher) truncated(fl *file) {
	w.log.Info("logwatch: file truncated, reading it from its start", "watch", w.cfg.Name, "path", fl.path)
	w.recoverCopy(fl)
	w.flushPending(fl)
	fl.offset, fl.pending, fl.headLen, fl.headHash = 0, fl.pending[:0], 0, ""
	w.dirty = true
}

// recoverCopy reads, from a copy of fl made before it was truncated, what
// fl held past its read position. The copy is a file in fl's directory
// whose name starts with fl's and whose first bytes are fl's.
func (w *Watcher) recoverCopy(fl *file) {
	if fl.headLen == 0 {
		return
	}
	dir, base := filepath.Split(fl.path)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	var (
		best    *os.File
		bestMod time.Time
	)
	for _, e := range entries {
		name := e.Name()
		if name == base || !strings.HasPrefix(name, base) {
			continue
		}
		path := filepath.Join(dir, name)
		id, fi, err := pathIdentity(path)
		if err != nil || id == fl.id || w.files[id] != nil || !fi.Mode().IsRegular() || fi.Size() < fl.readPos() {
			continue
		}
		f, err := openFile(path)
		if err != nil {
			continue
		}
		if !w.sameHead(f, fl.headLen, fl.headHash) || (best != nil && !fi.ModTime().After(bestMod)) {
			f.Close()
			continue
		}
		if best != nil {
			best.Close()
		}
		best, bestMod = f, fi.ModTime()
	}
	if best == nil {
		return
	}
	defer best.Close()
	w.log.Info("logwatch: reading the end of a truncated file from its copy", "watch", w.cfg.Name,
		"path", fl.path, "copy", best.Name())
	path := fl.path
	fl.path = best.Name()
	w.readFrom(fl, best)
	w.flushPending(fl)
	fl.path = path
}

// finishStored reads the rest of files that had a saved position but that
// the globs no longer match: renamed by a rotation while steward was down.
// It looks for each in the directory where it was last seen.
func (w *Watcher) finishStored() {
	for id, saved := range w.stored {
		delete(w.stored, id)
		w.forget = append(w.forget, id)
		dir := filepath.Dir(saved.Path)
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			path := filepath.Join(dir, e.Name())
			got, fi, err := pathIdentity(path)
			if err != nil || got != id || !fi.Mode().IsRegular() {
				continue
			}
			f, err := openFile(path)
			if err != nil {
				break
			}
			if w.sameHead(f, saved.HeadLen, saved.HeadHash) && fi.Size() >= saved.Offset {
				w.log.Info("logwatch: reading the rest of a file rotated while stopped", "watch", w.cfg.Name, "path", path)
				fl := &file{id: id, path: path, offset: saved.Offset}
				w.readFrom(fl, f)
				w.flushPending(fl)
			}
			f.Close()
			break
		}
	}
}

// flushPending checks fl's last line, which will never get its newline.
func (w *Watcher) flushPending(fl *file) {
	if len(fl.pending) == 0 {
		return
	}
	w.lines.Add(1)
	w.m.Scan(fl.path, fl.pending, w.now())
	fl.offset += int64(len(fl.pending))
	fl.pending = fl.pending[:0]
	w.dirty = true
}

// close stops following fl, checking its last line.
func (w *Watcher) close(fl *file) {
	w.flushPending(fl)
	fl.f.Close()
	delete(w.files, fl.id)
	w.forget = append(w.forget, fl.id)
	w.dirty = true
}

// sameHead reports whether f begins with the headLen bytes whose hash is
// hash; a file without a head to compare is the same.
func (w *Watcher) sameHead(f *os.File, headLen int, hash string) bool {
	if headLen == 0 {
		return true
	}
	b := make([]byte, headLen)
	if n, _ := f.ReadAt(b, 0); n < headLen {
		return false
	}
	return hashHead(b) == hash
}

// updateHead extends fl's head hash to cover up to headMax bytes it has
// read.
func (w *Watcher) updateHead(fl *file) {
	want := int(min(fl.offset, headMax))
	if want <= fl.headLen {
		return
	}
	b := make([]byte, want)
	if n, _ := fl.f.ReadAt(b, 0); n < want {
		return
	}
	fl.headLen, fl.headHash = want, hashHead(b)
	w.dirty = true
}

func hashHead(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// maybeSave saves the read positions when lines raised events since the
// last save, when saveEvery has passed, or when force is set.
func (w *Watcher) maybeSave(ctx context.Context, force bool) {
	st := w.opts.Store
	if st == nil || (!w.dirty && len(w.forget) == 0) {
		return
	}
	now := w.now()
	if !force && !w.sawEvent.Load() && now.Sub(w.lastSave) < saveEvery {
		return
	}
	offs := make([]store.LogOffset, 0, len(w.files))
	for _, fl := range w.files {
		offs = append(offs, store.LogOffset{Watch: w.cfg.Name, Identity: fl.id, Path: fl.path,
			Offset: fl.offset, HeadLen: fl.headLen, HeadHash: fl.headHash, Updated: now.UTC()})
	}
	if err := st.SaveLogOffsets(ctx, w.cfg.Name, offs, w.forget); err != nil {
		if ctx.Err() == nil {
			w.log.Error("logwatch: save read positions", "watch", w.cfg.Name, "err", err)
		}
		return
	}
	w.sawEvent.Store(false)
	w.forget, w.dirty, w.lastSave = nil, false, now
}

// shutdown saves the read positions and closes everything.
func (w *Watcher) shutdown() {
	var err error
	if st := w.opts.Store; st != nil && (w.dirty || len(w.forget) > 0) {
		offs := make([]store.LogOffset, 0, len(w.files))
		for _, fl := range w.files {
			offs = append(offs, store.LogOffset{Watch: w.cfg.Name, Identity: fl.id, Path: fl.path,
				Offset: fl.offset, HeadLen: fl.headLen, HeadHash: fl.headHash})
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = st.SaveLogOffsets(ctx, w.cfg.Name, offs, w.forget)
		cancel()
	}
	for _, fl := range w.files {
		fl.f.Close()
	}
	w.files = map[string]*file{}
	w.nfiles.Store(0)
	if w.fsw != nil {
		w.fsw.Close()
	}
	if err != nil {
		err = fmt.Errorf("logwatch %s: save read positions: %w", w.cfg.Name, err)
	}
	w.mu.Lock()
	w.runErr = err
	w.mu.Unlock()
}
