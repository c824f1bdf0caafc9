// Package apitest provides small in-memory implementations of the
// interfaces the api package drives, and a helper that serves an api.Server
// on a real Unix socket, for the tests of the api, client and CLI packages.
// Only tests import it.
package apitest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/ipc"
	"github.com/stewardhq/steward/internal/kinds/builtin"
	"github.com/stewardhq/steward/internal/logcap"
	"github.com/stewardhq/steward/internal/store"
)

// Services is an in-memory api.Services: actions change the state of the
// listed services. It is safe for concurrent use.
type Services struct {
	mu   sync.Mutex
	list []steward.ServiceStatus
	logs map[string]*Log
	// Err, when set, is returned by Start, Stop and Restart without acting.
	Err error
	// Now stamps the Since of a changed service; nil means time.Now.
	Now func() time.Time
}

var _ api.Services = (*Services)(nil)

// NewServices returns Services holding list, each with an empty Log.
func NewServices(list ...steward.ServiceStatus) *Services {
	s := &Services{list: list, logs: map[string]*Log{}}
	for _, st := range list {
		s.logs[st.Name] = &Log{}
	}
	return s
}

// List returns every service.
func (s *Services) List() []steward.ServiceStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.list)
}

// Get returns the service name, or ENOTFOUND.
func (s *Services) Get(name string) (steward.ServiceStatus, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, err := s.find(name)
	if err != nil {
		return steward.ServiceStatus{}, err
	}
	return s.list[i], nil
}

func (s *Services) find(name string) (int, error) {
	i := slices.IndexFunc(s.list, func(st steward.ServiceStatus) bool { return st.Name == name })
	if i < 0 {
		return -1, steward.Errorf(steward.ENOTFOUND, "no service %q", name)
	}
	return i, nil
}

// Start sets the named services (all when none) running.
func (s *Services) Start(ctx context.Context, names []string) error {
	return s.set(names, steward.StateRunning, 4242)
}

// Stop sets the named services (all when none) stopped.
func (s *Services) Stop(ctx context.Context, names []string) error {
	return s.set(names, steward.StateStopped, 0)
}

// Restart sets the named services (all when none) running, one restart more.
func (s *Services) Restart(ctx context.Context, names []string) error {
	return s.set(names, steward.StateRunning, 4343)
}

func (s *Services) set(names []string, state steward.State, pid int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return s.Err
	}
	var idx []int
	for _, n := range names {
		i, err := s.find(n)
		if err != nil {
			return err
		}
		idx = append(idx, i)
	}
	if names == nil {
		for i := range s.list {
			idx = append(idx, i)
		}
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	for _, i := range idx {
		st := &s.list[i]
		if st.State == steward.StateRunning && state == steward.StateRunning {
			st.Restarts++
		}
		st.State, st.PID, st.Since = state, pid, now()
	}
	return nil
}

// Log returns the named service's Log, or ENOTFOUND.
func (s *Services) Log(name string) (api.LogSource, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.logs[name]
	if !ok {
		return nil, steward.Errorf(steward.ENOTFOUND, "no service %q", name)
	}
	return l, nil
}

// LogOf returns the Log of the service name.
func (s *Services) LogOf(name string) *Log {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logs[name]
}

// Log is an in-memory api.LogSource. It is safe for concurrent use.
type Log struct {
	mu    sync.Mutex
	lines []logcap.Line
	subs  []chan logcap.Line
	// OnSubscribe, when set, runs after each Subscribe, before it returns.
	OnSubscribe func()

	rotations  int
	rotateFile string
	rotateErr  error
}

// SetRotate sets what Rotate returns.
func (l *Log) SetRotate(file string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rotateFile, l.rotateErr = file, err
}

// Rotate counts a rotation and returns what SetRotate set.
func (l *Log) Rotate() (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rotations++
	return l.rotateFile, l.rotateErr
}

// Rotations returns how many times Rotate was called.
func (l *Log) Rotations() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rotations
}

// Add captures lines: it keeps them and sends them to every subscriber.
func (l *Log) Add(lines ...logcap.Line) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, ln := range lines {
		l.lines = append(l.lines, ln)
		for _, ch := range l.subs {
			ch <- ln
		}
	}
}

// CloseSubscribers ends every subscription, as when a service is removed.
func (l *Log) CloseSubscribers() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, ch := range l.subs {
		close(ch)
	}
	l.subs = nil
}

// Subscribers returns how many subscriptions are open.
func (l *Log) Subscribers() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.subs)
}

// Tail returns the last n lines.
func (l *Log) Tail(n int) []logcap.Line {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.lines[max(0, len(l.lines)-n):])
}

// Subscribe returns the lines added from now on.
func (l *Log) Subscribe() (<-chan logcap.Line, func()) {
	ch := make(chan logcap.Line, 1024)
	l.mu.Lock()
	l.subs = append(l.subs, ch)
	l.mu.Unlock()
	if l.OnSubscribe != nil {
		l.OnSubscribe()
	}
	return ch, func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if i := slices.Index(l.subs, ch); i >= 0 {
			l.subs = slices.Delete(l.subs, i, i+1)
			close(ch)
		}
	}
}

// Events is an in-memory api.Events with the store's filter semantics. It
// is safe for concurrent use.
type Events struct {
	mu   sync.Mutex
	evs  []steward.Event
	subs []chan steward.Event
	// Err, when set, is returned by List.
	Err error
}

var _ api.Events = (*Events)(nil)

// Record stores ev with the next ID and publishes it.
func (e *Events) Record(ev steward.Event) steward.Event {
	ev = e.Store(ev)
	e.Publish(ev)
	return ev
}

// Store stores ev with the next ID without publishing it.
func (e *Events) Store(ev steward.Event) steward.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	ev.ID = int64(len(e.evs) + 1)
	if ev.Time.IsZero() {
		ev.Time = time.Now().UTC()
	}
	e.evs = append(e.evs, ev)
	return ev
}

// Publish sends ev to every subscriber.
func (e *Events) Publish(ev steward.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ch := range e.subs {
		ch <- ev
	}
}

// Subscribers returns how many subscriptions are open.
func (e *Events) Subscribers() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.subs)
}

// CloseSubscribers ends every subscription, as at shutdown.
func (e *Events) CloseSubscribers() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ch := range e.subs {
		close(ch)
	}
	e.subs = nil
}

// List returns the events f selects, as store.Store.Events does.
func (e *Events) List(ctx context.Context, f store.EventFilter) ([]steward.Event, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.Err != nil {
		return nil, e.Err
	}
	limit := f.Limit
	if limit == 0 {
		limit = store.DefaultEventLimit
	}
	var out []steward.Event
	for _, ev := range e.evs {
		if ev.ID > f.AfterID && !ev.Time.Before(f.Since) && (f.Service == "" || f.Service == ev.Service) {
			out = append(out, ev)
		}
	}
	if f.AfterID <= 0 && f.Since.IsZero() {
		out = out[max(0, len(out)-limit):]
	} else {
		out = out[:min(len(out), limit)]
	}
	return append([]steward.Event{}, out...), nil
}

// Subscribe returns the events published from now on.
func (e *Events) Subscribe() (<-chan steward.Event, func()) {
	ch := make(chan steward.Event, 1024)
	e.mu.Lock()
	e.subs = append(e.subs, ch)
	e.mu.Unlock()
	return ch, func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if i := slices.Index(e.subs, ch); i >= 0 {
			e.subs = slices.Delete(e.subs, i, i+1)
			close(ch)
		}
	}
}

// Configs is an in-memory api.Configs over the real config parser. It is
// safe for concurrent use.
type Configs struct {
	mu       sync.Mutex
	cur      *config.Config
	versions []store.ConfigVersion
	// Who lists the callers of Apply, Reload and Rollback.
	Who []string
	// Err, when set, is returned by Versions.
	Err error
}

var _ api.Configs = (*Configs)(nil)

// NewConfigs returns Configs whose first version is text, read from file.
func NewConfigs(file string, text []byte) (*Configs, error) {
	c := &Configs{}
	cfg, err := config.Parse(file, text, builtin.Config())
	if err != nil {
		return nil, err
	}
	c.add(cfg, "startup")
	return c, nil
}

func (c *Configs) add(cfg *config.Config, who string) int {
	n := len(c.versions) + 1
	c.versions = append(c.versions, store.ConfigVersion{
		N: n, Time: time.Date(2025, 1, n, 12, 0, 0, 0, time.UTC), Hash: fmt.Sprintf("hash%d", n),
		Source: who, File: cfg.File, Text: cfg.Source,
	})
	c.cur = cfg
	return n
}

// Current returns the applied configuration.
func (c *Configs) Current() *config.Config {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cur
}

// Validate parses text.
func (c *Configs) Validate(ctx context.Context, text []byte) error {
	_, err := config.Parse(c.Current().File, text, builtin.Config())
	return err
}

// Apply parses text and makes it the current configuration.
func (c *Configs) Apply(ctx context.Context, text []byte, who string) (api.Applied, error) {
	cfg, err := config.Parse(c.Current().File, text, builtin.Config())
	if err != nil {
		return api.Applied{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Who = append(c.Who, who)
	old := c.cur
	n := c.add(cfg, who)
	return api.Applied{Version: n, Diff: config.Compare(old, cfg)}, nil
}

// Reload applies the config file again.
func (c *Configs) Reload(ctx context.Context, who string) (api.Applied, error) {
	text, err := os.ReadFile(c.Current().File)
	if err != nil {
		return api.Applied{}, steward.Wrap("", err, "reload")
	}
	return c.Apply(ctx, text, who)
}

// Versions returns every version, newest first, without text.
func (c *Configs) Versions(ctx context.Context) ([]store.ConfigVersion, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.Err != nil {
		return nil, c.Err
	}
	var out []store.ConfigVersion
	for _, v := range slices.Backward(c.versions) {
		v.Text = nil
		out = append(out, v)
	}
	return out, nil
}

// Version returns version n, or ENOTFOUND.
func (c *Configs) Version(ctx context.Context, n int) (store.ConfigVersion, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n < 1 || n > len(c.versions) {
		return store.ConfigVersion{}, steward.Errorf(steward.ENOTFOUND, "config version %d not found", n)
	}
	return c.versions[n-1], nil
}

// Rollback applies version n again.
func (c *Configs) Rollback(ctx context.Context, n int, who string) (api.Applied, error) {
	v, err := c.Version(ctx, n)
	if err != nil {
		return api.Applied{}, err
	}
	return c.Apply(ctx, v.Text, who)
}

// Serve serves h on a new Unix socket in a short temporary directory, with
// the peer-credential hook, until the test ends, and returns the socket's
// path.
func Serve(t testing.TB, h http.Handler) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "stw")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "run", "steward.sock")
	l, err := ipc.ListenUnix(path, "")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ConnContext: api.ConnContext}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return path
}
