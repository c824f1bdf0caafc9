package logwatch

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime"
	"slices"
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
