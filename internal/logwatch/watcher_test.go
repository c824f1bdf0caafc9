package logwatch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/logcap"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/testwait"
)

// numbered is a rule that matches the lines that writeLines writes.
var numbered = []RuleConfig{{Name: "n", Match: `^line (?P<n>\d+) `}}

var _ OffsetStore = (*store.Store)(nil)

// seen counts, by number, the numbered lines a watch reported.
type seen struct {
	events
}

func (s *seen) counts() map[int]int {
	c := map[int]int{}
	for _, ev := range s.all() {
		n, _ := strconv.Atoi(ev.Groups["n"])
		c[n]++
	}
	return c
}

// check fails unless lines from..to-1 were each seen exactly once, and no
// other.
func (s *seen) check(t *testing.T, from, to int) {
	t.Helper()
	c := s.counts()
	var missing, dup []int
	for i := from; i < to; i++ {
		switch c[i] {
		case 0:
			missing = append(missing, i)
		case 1:
		default:
			dup = append(dup, i)
		}
		delete(c, i)
	}
	if len(missing) > 0 || len(dup) > 0 || len(c) > 0 {
		t.Fatalf("lines %d..%d: missing %v, seen twice %v, unexpected %v", from, to-1, missing[:min(len(missing), 20)], dup[:min(len(dup), 20)], c)
	}
}

func (s *seen) waitFor(t *testing.T, n int) {
	t.Helper()
	testwait.For(t, 10*time.Second, fmt.Sprintf("%d lines seen", n), func() bool { return len(s.counts()) >= n })
}

func line(i int) string { return fmt.Sprintf("line %d some text to make it longer\n", i) }

// appendLines appends lines from..to-1 to path.
func appendLines(t *testing.T, path string, from, to int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := from; i < to; i++ {
		if _, err := io.WriteString(f, line(i)); err != nil {
			t.Fatal(err)
		}
	}
}

type watchEnv struct {
	t    *testing.T
	dir  string
	st   *store.Store
	seen *seen
	opts Options
	cfg  Config
	w    *Watcher
}

func newEnv(t *testing.T, files ...string) *watchEnv {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &watchEnv{t: t, dir: dir, st: st, seen: &seen{}}
	for i, f := range files {
		files[i] = filepath.Join(dir, f)
	}
	e.cfg = Config{Name: "applog", Files: files, Rules: numbered, Poll: 20 * time.Millisecond}
	e.opts = Options{Store: st, Handler: e.seen.handle, RotateGrace: 200 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)}
	return e
}

func (e *watchEnv) path(name string) string { return filepath.Join(e.dir, name) }

func (e *watchEnv) start() *Watcher {
	e.t.Helper()
	w, err := New(e.cfg, e.opts)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := w.Start(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	e.w = w
	e.t.Cleanup(func() { e.stop() })
	return w
}

// firstScanned waits for the watch's first look at its files, which
// decides where the files it finds start (StartAt): a file created after it
// is read from its beginning.
func (e *watchEnv) firstScanned() {
	e.t.Helper()
	testwait.NoError(e.t, 10*time.Second, func() error {
		_, ok, err := e.st.GetMeta(context.Background(), e.w.metaKey())
		if err == nil && !ok {
			err = errors.New("the watch has not looked at its files yet")
		}
		return err
	})
}

func (e *watchEnv) stop() {
	e.t.Helper()
	if e.w == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.w.Stop(ctx); err != nil {
		e.t.Errorf("Stop: %v", err)
	}
	e.w = nil
}

// modes runs f with file system events and with polling only.
func modes(t *testing.T, f func(t *testing.T, noEvents bool)) {
	for _, noEvents := range []bool{false, true} {
		name := "events"
		if noEvents {
			name = "polling"
		}
		t.Run(name, func(t *testing.T) { testwait.NoLeak(t); f(t, noEvents) })
	}
}

func TestStartAtEndThenFollow(t *testing.T) {
	modes(t, func(t *testing.T, noEvents bool) {
		e := newEnv(t, "app.log")
		e.opts.NoEvents = noEvents
		appendLines(t, e.path("app.log"), 0, 10)
		// A last line without its newline yet: it is reported once complete.
		f, _ := os.OpenFile(e.path("app.log"), os.O_WRONLY|os.O_APPEND, 0)
		io.WriteString(f, "line 10 half")
		e.start()
		testwait.For(t, 5*time.Second, "the file followed", func() bool { return e.w.Stats().Files == 1 })
		io.WriteString(f, " done\n")
		f.Close()
		appendLines(t, e.path("app.log"), 11, 20)
		e.seen.waitFor(t, 10)
		e.stop()
		e.seen.check(t, 10, 20)
		st := e.w
		_ = st
	})
}

func TestGlobPicksUpNewFiles(t *testing.T) {
	modes(t, func(t *testing.T, noEvents bool) {
		e := newEnv(t, "*.log")
		e.opts.NoEvents = noEvents
		e.cfg.StartAt = StartBeginning
		appendLines(t, e.path("a.log"), 0, 5)
		appendLines(t, e.path("skip.txt"), 100, 105)
		w := e.start()
		e.seen.waitFor(t, 5)
		appendLines(t, e.path("b.log"), 5, 10)
		e.seen.waitFor(t, 10)
		appendLines(t, e.path("a.log"), 10, 15)
		e.seen.waitFor(t, 15)
		if st := w.Stats(); st.Files != 2 || st.Lines != 15 || st.Rules[0].Matches != 15 || st.Bytes == 0 {
			t.Errorf("stats = %+v", st)
		}
		e.seen.check(t, 0, 15)
		for _, ev := range e.seen.all() {
			if !strings.HasSuffix(ev.Source, ".log") {
				t.Errorf("event from %s", ev.Source)
			}
		}
	})
}

// rotatingWriter writes numbered lines to path and rotates the file every
// `every` lines by rename or by copytruncate, as logrotate does.
func rotatingWriter(t *testing.T, e *watchEnv, n, every int, copyTruncate bool) {
	t.Helper()
	path := e.path("app.log")
	open := func() *os.File {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	f := open()
	defer func() { f.Close() }()
	gen := 0
	for i := 0; i < n; i++ {
		if _, err := io.WriteString(f, line(i)); err != nil {
			t.Fatal(err)
		}
		if i%100 == 99 { // let the watch read now and then
			testwait.For(t, 10*time.Second, fmt.Sprintf("line %d read", i), func() bool { return e.seen.counts()[i] > 0 })
		}
		if (i+1)%every != 0 {
			continue
		}
		gen++
		if copyTruncate {
			// The watch must have read the start of this generation, to
			// know its copy by its first bytes.
			first := i + 1 - every
			testwait.For(t, 10*time.Second, "the start of the generation read", func() bool { return e.seen.counts()[first] > 0 })
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(fmt.Sprintf("%s.%d", path, gen), b, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := f.Truncate(0); err != nil {
				t.Fatal(err)
			}
			continue
		}
		f.Close()
		if err := os.Rename(path, path+".1"); err != nil { // over the last rotation
			t.Fatal(err)
		}
		f = open()
	}
}

func TestRotationByRename(t *testing.T) {
	modes(t, func(t *testing.T, noEvents bool) {
		e := newEnv(t, "app.log")
		e.opts.NoEvents = noEvents
		e.start()
		e.firstScanned()
		rotatingWriter(t, e, 3000, 500, false)
		e.seen.waitFor(t, 3000)
		e.stop()
		e.seen.check(t, 0, 3000)
	})
}

func TestRotationByCopyTruncate(t *testing.T) {
	modes(t, func(t *testing.T, noEvents bool) {
		e := newEnv(t, "app.log")
		e.opts.NoEvents = noEvents
		e.cfg.StartAt = StartBeginning
		e.start()
		e.firstScanned()
		rotatingWriter(t, e, 3000, 500, true)
		e.seen.waitFor(t, 3000)
		e.stop()
		e.seen.check(t, 0, 3000)
	})
}

func TestTruncation(t *testing.T) {
	testwait.NoLeak(t)
	e := newEnv(t, "app.log")
	e.cfg.StartAt = StartBeginning
	appendLines(t, e.path("app.log"), 0, 50)
	e.start()
	e.seen.waitFor(t, 50)
	if err := os.Truncate(e.path("app.log"), 0); err != nil {
		t.Fatal(err)
	}
	appendLines(t, e.path("app.log"), 50, 55)
	e.seen.waitFor(t, 55)
	// Truncated and rewritten past where it was read: the first bytes tell.
	if err := os.WriteFile(e.path("app.log"), []byte(line(55)+line(56)+line(57)+line(58)+line(59)+line(60)+line(61)), 0o644); err != nil {
		t.Fatal(err)
	}
	e.seen.waitFor(t, 62)
	e.stop()
	e.seen.check(t, 0, 62)
}

// TestRestartNoDuplicatesNoGaps stops and restarts the watch in the middle
// of a file being written: every line is seen once.
func TestRestartNoDuplicatesNoGaps(t *testing.T) {
	testwait.NoLeak(t)
	e := newEnv(t, "app.log")
	path := e.path("app.log")
	var wg sync.WaitGroup
	done := make(chan struct{})
	var written atomic.Int64
	// While the watch runs, the writer stays at most 1000 lines ahead of
	// it, so that the file stays small; progress wakes it.
	var paced atomic.Bool
	paced.Store(true)
	progress := make(chan struct{}, 1)
	poke := func() {
		select {
		case progress <- struct{}{}:
		default:
		}
	}
	e.opts.Handler = func(ev Event) { e.seen.handle(ev); poke() }
	wg.Add(1)
	go func() {
		defer wg.Done()
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		for i := 0; ; i++ {
			for paced.Load() && i-e.seen.len() > 1000 {
				select {
				case <-done:
					return
				case <-progress:
				}
			}
			select {
			case <-done:
				return
			default:
			}
			io.WriteString(f, line(i))
			written.Store(int64(i + 1))
		}
	}()
	e.cfg.StartAt = StartBeginning
	e.start()
	e.seen.waitFor(t, 1000)
	paced.Store(false)
	poke()
	e.stop()
	down := written.Load()
	testwait.For(t, 10*time.Second, "lines written while the watch is down", func() bool { return written.Load() > down+500 })
	e.start()
	paced.Store(true)
	before := len(e.seen.counts())
	testwait.For(t, 10*time.Second, "more lines after the restart", func() bool { return len(e.seen.counts()) > before+1000 })
	close(done)
	wg.Wait()
	n := int(written.Load())
	e.seen.waitFor(t, n)
	e.stop()
	e.seen.check(t, 0, n)
}

// TestRotatedWhileStopped rotates a file by rename while the watch is
// stopped: the rest of the old file and all of the new one are read.
func TestRotatedWhileStopped(t *testing.T) {
	testwait.NoLeak(t)
	e := newEnv(t, "app.log")
	e.cfg.StartAt = StartBeginning
	path := e.path("app.log")
	appendLines(t, path, 0, 100)
	e.start()
	e.seen.waitFor(t, 100)
	e.stop()
	appendLines(t, path, 100, 150)
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	appendLines(t, path, 150, 200)
	e.start()
	e.seen.waitFor(t, 200)
	e.stop()
	e.seen.check(t, 0, 200)
	// The old file's position is forgotten.
	offs, err := e.st.LogOffsets(context.Background(), "applog")
	if err != nil || len(offs) != 1 || offs[0].Path != path {
		t.Errorf("offsets = %+v, %v, want the new file's only", offs, err)
	}
}

// TestCopyTruncatedWhileStopped rotates by copytruncate while the watch is
// stopped: the end of the copy and all of the new content are read.
func TestCopyTruncatedWhileStopped(t *testing.T) {
	testwait.NoLeak(t)
	e := newEnv(t, "app.log")
	e.cfg.StartAt = StartBeginning
	path := e.path("app.log")
	appendLines(t, path, 0, 100)
	e.start()
	e.seen.waitFor(t, 100)
	e.stop()
	appendLines(t, path, 100, 150)
	b, _ := os.ReadFile(path)
	os.WriteFile(path+".1", b, 0o644)
	os.Truncate(path, 0)
	appendLines(t, path, 150, 160)
	e.start()
	e.seen.waitFor(t, 160)
	e.stop()
	e.seen.check(t, 0, 160)
}

// TestReusedIdentity replaces a file's content in place while the watch is
// stopped, longer than before: the saved position is not trusted, as the
// first bytes differ.
func TestReusedIdentity(t *testing.T) {
	testwait.NoLeak(t)
	e := newEnv(t, "app.log")
	e.cfg.StartAt = StartBeginning
	path := e.path("app.log")
	appendLines(t, path, 0, 10)
	e.start()
	e.seen.waitFor(t, 10)
	e.stop()
	var b strings.Builder
	for i := 10; i < 40; i++ {
		b.WriteString(line(i))
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	e.start()
	e.seen.waitFor(t, 40)
	e.stop()
	e.seen.check(t, 0, 40)
}

func TestDeletedFileIsClosed(t *testing.T) {
	testwait.NoLeak(t)
	e := newEnv(t, "*.log")
	e.cfg.StartAt = StartBeginning
	appendLines(t, e.path("a.log"), 0, 5)
	// A last line that never gets its newline is still checked when the
	// file goes away.
	os.WriteFile(e.path("b.log"), []byte("line 5 no newline"), 0o644)
	w := e.start()
	e.seen.waitFor(t, 5)
	testwait.For(t, 5*time.Second, "two files", func() bool { return w.Stats().Files == 2 })
	os.Remove(e.path("b.log"))
	testwait.For(t, 5*time.Second, "the deleted file closed", func() bool { return w.Stats().Files == 1 })
	e.stop()
	e.seen.check(t, 0, 6)
}

func TestFollowService(t *testing.T) {
	testwait.NoLeak(t)
	var got events
	w, err := New(Config{Name: "api-errors", Services: []string{"api"}, Rules: []RuleConfig{{Match: `panic: (?P<msg>.*)`, Severity: "critical", Message: "api panicked: $msg"}}},
		Options{Handler: got.handle})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer w.Stop(context.Background())
	dir := t.TempDir()
	lg, err := logcap.Open(logcap.Options{Dir: dir, Name: "api", MaxSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	ch, cancel := lg.Subscribe()
	done := make(chan struct{})
	go func() { w.Follow(context.Background(), "api", ch); close(done) }()
	if err := lg.Capture(strings.NewReader("starting\npanic: nil map\nbye\n"), logcap.Stdout); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 5*time.Second, "the event", func() bool { return got.len() == 1 })
	ev := got.all()[0]
	if ev.Source != "service:api" || ev.Message != "api panicked: nil map" || ev.Severity != "critical" || ev.Time.IsZero() {
		t.Errorf("event = %+v", ev)
	}
	cancel()
	<-done
	lg.Close()
	// Missed lines are counted; a canceled Follow returns.
	c := make(chan logcap.Line, 2)
	c <- logcap.Line{Text: "x", Missed: 7}
	ctx, stop := context.WithCancel(context.Background())
	go func() {
		testwait.For(t, 5*time.Second, "missed counted", func() bool { return w.Stats().Missed == 7 })
		stop()
	}()
	w.Follow(ctx, "api", c)
	if st := w.Stats(); st.Lines != 4 || st.Files != 0 {
		t.Errorf("stats = %+v", st)
	}
}

func TestWithoutStore(t *testing.T) {
	testwait.NoLeak(t)
	e := newEnv(t, "app.log")
	e.opts.Store = nil
	appendLines(t, e.path("app.log"), 0, 5)
	e.start()
	testwait.For(t, 5*time.Second, "followed", func() bool { return e.w.Stats().Files == 1 })
	appendLines(t, e.path("app.log"), 5, 10)
	e.seen.waitFor(t, 5)
	e.stop()
	// Every start is a first start: old lines are not read again.
	e.start()
	testwait.For(t, 5*time.Second, "followed", func() bool { return e.w.Stats().Files == 1 })
	appendLines(t, e.path("app.log"), 10, 12)
	e.seen.waitFor(t, 7)
	e.stop()
	e.seen.check(t, 5, 12)
}

func TestLifecycleErrors(t *testing.T) {
	if _, err := New(Config{}, Options{}); err == nil {
		t.Error("New with an invalid config succeeded")
	}
	w, err := New(Config{Name: "x", Services: []string{"a"}, Rules: numbered}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Stop(context.Background()); err != nil {
		t.Errorf("Stop before Start: %v", err)
	}
	if err := w.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := w.Start(context.Background()); err == nil {
		t.Error("second Start succeeded")
	}
	if w.Matcher() == nil {
		t.Error("no Matcher")
	}
	if err := w.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	// A closed store fails Start.
	st, _ := store.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	st.Close()
	w, _ = New(Config{Name: "x", Services: []string{"a"}, Rules: numbered}, Options{Store: st})
	if err := w.Start(context.Background()); err == nil {
		t.Error("Start with a closed store succeeded")
	}
}

func TestLongLineIsCut(t *testing.T) {
	testwait.NoLeak(t)
	e := newEnv(t, "app.log")
	e.cfg.StartAt = StartBeginning
	e.cfg.Rules = []RuleConfig{{Name: "n", Match: `^line (?P<n>\d+) `}, {Name: "tail", Match: `xyz$`}}
	long := "line 0 " + strings.Repeat("a", bufSize+10) + "xyz\n"
	os.WriteFile(e.path("app.log"), []byte(long+line(1)), 0o644)
	e.start()
	testwait.For(t, 5*time.Second, "three events", func() bool { return e.seen.len() == 3 })
	e.stop()
}
