package bus

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/clock"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/testwait"
)

// fakeClock is a clock.Clock that moves only by Advance. It is safe for
// concurrent use.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers map[*fakeTimer]bool
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), timers: map[*fakeTimer]bool{}}
}

type fakeTimer struct {
	clock *fakeClock
	at    time.Time
	c     chan time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer(d time.Duration) clock.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{clock: c, at: c.now.Add(d), c: make(chan time.Time, 1)}
	if d <= 0 {
		t.c <- c.now
		return t
	}
	c.timers[t] = true
	return t
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Stop() bool {
	t.clock.mu.Lock()
	defer t.clock.mu.Unlock()
	pending := t.clock.timers[t]
	delete(t.clock.timers, t)
	return pending
}

// Advance moves the clock by d and fires the timers that are due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	for t := range c.timers {
		if !t.at.After(c.now) {
			t.c <- c.now
			delete(c.timers, t)
		}
	}
}

// waitTimer waits until a timer is pending that fires d after the clock's
// present time.
func (c *fakeClock) waitTimer(t *testing.T, d time.Duration) {
	t.Helper()
	testwait.NoError(t, 10*time.Second, func() error {
		c.mu.Lock()
		defer c.mu.Unlock()
		var ats []time.Duration
		for tm := range c.timers {
			if tm.at.Equal(c.now.Add(d)) {
				return nil
			}
			ats = append(ats, tm.at.Sub(c.now))
		}
		return fmt.Errorf("no timer in %v; pending in %v", d, ats)
	})
}

// startStreams starts a server with the user stream FILES on files.>.
func startStreams(t *testing.T) *Server {
	t.Helper()
	cfg := config.Bus{JetStream: config.BusJetStream{MaxMemory: 8 << 20, MaxStore: 64 << 20},
		Events:      config.BusEvents{MaxAge: time.Hour},
		Streams:     map[string]*config.BusStream{"FILES": {Name: "FILES", Subjects: []string{"files.>"}}},
		StreamOrder: []string{"FILES"}}
	s, err := Start(context.Background(), Options{Config: cfg, Node: "n1", StoreDir: t.TempDir(), Credentials: NewCredentials()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// watch runs the file bridge of dir on files.in with a settle of 1s until
// the test ends.
func watch(t *testing.T, s *Server, dir string, clk clock.Clock) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- s.WatchFiles(ctx, config.BusFile{Dir: dir, Subject: "files.in", Settle: time.Second}, clk)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("WatchFiles: %v", err)
		}
	})
}

// stored returns the data of the messages in FILES.
func stored(t *testing.T, s *Server) []string {
	t.Helper()
	st, err := s.js.Stream(context.Background(), "FILES")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	info, _ := st.Info(context.Background())
	for seq := uint64(1); seq <= info.State.LastSeq; seq++ {
		m, err := st.GetMsg(context.Background(), seq)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m.Header.Get(HeaderFile)+"="+string(m.Data))
	}
	return out
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func exists(name string) bool {
	_, err := os.Lstat(name)
	return err == nil
}

// TestWatchFilesSlowWriter: a file still growing is not published; once
// its size stayed the same for settle, it is published once and moved.
func TestWatchFilesSlowWriter(t *testing.T) {
	testwait.NoLeak(t)
	s := startStreams(t)
	dir := filepath.Join(t.TempDir(), "inbox")
	clk := newFakeClock()
	watch(t, s, dir, clk)
	testwait.For(t, 10*time.Second, "done/ made", func() bool { return exists(filepath.Join(dir, DoneDir)) })
	clk.waitTimer(t, rescanEvery) // the first scan is done

	f, err := os.Create(filepath.Join(dir, "a.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString("part1,")
	clk.waitTimer(t, time.Second)
	clk.Advance(600 * time.Millisecond)
	f.WriteString("part2")
	// The size changed: settling starts again.
	clk.waitTimer(t, time.Second)
	clk.Advance(600 * time.Millisecond)
	clk.waitTimer(t, 400*time.Millisecond)
	if got := stored(t, s); len(got) != 0 || !exists(filepath.Join(dir, "a.csv")) {
		t.Fatalf("published before the file settled: %q", got)
	}
	clk.Advance(400 * time.Millisecond)
	testwait.For(t, 10*time.Second, "a.csv in done/", func() bool { return exists(filepath.Join(dir, DoneDir, "a.csv")) })
	if got := readFile(t, filepath.Join(dir, DoneDir, "a.csv")); got != "part1,part2" {
		t.Errorf("done/a.csv = %q", got)
	}
	if got := stored(t, s); len(got) != 1 || got[0] != "a.csv=part1,part2" {
		t.Errorf("stored %q, want the whole file once", got)
	}
}

// place puts a file of the given content into dir at once, as a producer
// should: written under a dot name the bridge ignores, then renamed. A file
// written in place changes size while the bridge watches, which starts its
// settling again at a time the test cannot know.
func place(t *testing.T, dir, name string, data []byte) {
	t.Helper()
	tmp := filepath.Join(dir, ".tmp-"+name)
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

// TestWatchFilesOnce: a file published again (steward crashed before it
// moved it) is stored once; a second file of the same name is moved next
// to the first; dot files and directories are left alone.
func TestWatchFilesOnce(t *testing.T) {
	s := startStreams(t)
	dir := t.TempDir()
	clk := newFakeClock()
	watch(t, s, dir, clk)
	clk.waitTimer(t, rescanEvery)
	os.WriteFile(filepath.Join(dir, ".partial"), []byte("x"), 0o600)
	os.Mkdir(filepath.Join(dir, "sub"), 0o700)
	for i, data := range []string{"one", "one", "two"} {
		place(t, dir, "f.txt", []byte(data))
		clk.waitTimer(t, time.Second)
		clk.Advance(time.Second)
		moved := filepath.Join(dir, DoneDir, "f.txt")
		if i > 0 {
			moved += fmt.Sprintf(".%d", i)
		}
		testwait.For(t, 10*time.Second, moved, func() bool { return exists(moved) })
	}
	if got, want := stored(t, s), []string{"f.txt=one", "f.txt=two"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("stored %q, want %q", got, want)
	}
	if !exists(filepath.Join(dir, ".partial")) || !exists(filepath.Join(dir, "sub")) {
		t.Error("a dot file or a directory was moved")
	}
}

// TestWatchFilesFailed: a file the bus refuses goes to failed/ with a
// reason.
func TestWatchFilesFailed(t *testing.T) {
	s := startStreams(t)
	dir := t.TempDir()
	clk := newFakeClock()
	watch(t, s, dir, clk)
	clk.waitTimer(t, rescanEvery)
	big := bytes.Repeat([]byte("x"), int(s.nc.MaxPayload())+1)
	place(t, dir, "big.bin", big)
	clk.waitTimer(t, time.Second)
	clk.Advance(time.Second)
	reason := filepath.Join(dir, FailedDir, "big.bin.reason")
	testwait.For(t, 10*time.Second, "big.bin.reason", func() bool { return exists(reason) })
	if got := readFile(t, reason); !strings.Contains(got, "the bus takes at most") {
		t.Errorf("reason = %q", got)
	}
	if !exists(filepath.Join(dir, FailedDir, "big.bin")) {
		t.Error("big.bin not in failed/")
	}
	if got := stored(t, s); len(got) != 0 {
		t.Errorf("stored %q", got)
	}
}

// TestWatchFilesNoDir: a directory that cannot be made is an error.
func TestWatchFilesNoDir(t *testing.T) {
	s := startStreams(t)
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	err := s.WatchFiles(context.Background(), config.BusFile{Dir: filepath.Join(file, "in"), Subject: "files.in", Settle: time.Second}, clock.System{})
	if err == nil {
		t.Error("WatchFiles under a file: no error")
	}
}

// TestSinkFiles: a sink writes each message after it was made to its own
// file, atomically, and after a restart goes on where it stopped.
func TestSinkFiles(t *testing.T) {
	testwait.NoLeak(t)
	s := startStreams(t)
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "out")
	k := config.BusSink{Subject: "files.out.*", Dir: dir}
	if _, err := s.Publish(ctx, Message{Subject: "files.out.a", Data: []byte("before")}); err != nil {
		t.Fatal(err)
	}
	run := func() (stop func()) {
		sctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- s.SinkFiles(sctx, k) }()
		testwait.NoError(t, 10*time.Second, func() error {
			_, err := s.js.Consumer(ctx, "FILES", SinkName(k))
			return err
		})
		return func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("SinkFiles: %v", err)
			}
		}
	}
	os.MkdirAll(dir, 0o700)
	os.WriteFile(filepath.Join(dir, tmpPrefix+"left"), []byte("half"), 0o600)
	stop := run()
	testwait.For(t, 10*time.Second, "the temporary file removed", func() bool { return !exists(filepath.Join(dir, tmpPrefix+"left")) })
	s.Publish(ctx, Message{Subject: "files.out.a", ID: "id-1", Data: []byte("one")})
	s.Publish(ctx, Message{Subject: "files.other", ID: "id-x", Data: []byte("not mine")})
	first := filepath.Join(dir, SinkFileName("FILES", 2, "id-1"))
	testwait.For(t, 10*time.Second, first, func() bool { return exists(first) })
	stop()
	s.Publish(ctx, Message{Subject: "files.out.b", ID: "bad/id", Data: []byte("two")})
	stop = run()
	defer stop()
	second := filepath.Join(dir, SinkFileName("FILES", 4, ""))
	testwait.For(t, 10*time.Second, second, func() bool { return exists(second) })
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"FILES-000000000002-id-1", "FILES-000000000004"}; strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("files %q, want %q", names, want)
	}
	if got := readFile(t, first) + readFile(t, second); got != "onetwo" {
		t.Errorf("contents %q", got)
	}
	c, _ := s.js.Consumer(ctx, "FILES", SinkName(k))
	testwait.NoError(t, 10*time.Second, func() error {
		info, err := c.Info(ctx)
		if err != nil || info.NumAckPending != 0 || info.NumPending != 0 {
			return fmt.Errorf("consumer %+v %v: want everything acknowledged", info, err)
		}
		return nil
	})
}

func TestSinkFileName(t *testing.T) {
	for _, tt := range []struct {
		id, want string
	}{
		{"abc.1_2-3", "S-000000000007-abc.1_2-3"},
		{"", "S-000000000007"},
		{"../x", "S-000000000007"},
		{"a b", "S-000000000007"},
		{strings.Repeat("a", maxID+1), "S-000000000007"},
	} {
		if got := SinkFileName("S", 7, tt.id); got != tt.want {
			t.Errorf("SinkFileName(%q) = %q, want %q", tt.id, got, tt.want)
		}
	}
}

// TestSinkNoStream: a sink of a subject no stream holds is an error.
func TestSinkNoStream(t *testing.T) {
	s := startStreams(t)
	err := s.SinkFiles(context.Background(), config.BusSink{Subject: "nowhere.x", Dir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "the stream of nowhere.x") {
		t.Errorf("SinkFiles: %v", err)
	}
}
