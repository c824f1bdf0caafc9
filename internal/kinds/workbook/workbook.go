// Package workbook provides the built-in kind workbook: a service hosted
// in steward's process that edits Excel workbooks without Office
// (excelize). Its sessions each hold one workbook in memory, blank or read
// from a template; a write puts a 2-D array of typed values at a cell of a
// sheet, a read returns a range, a save writes the file atomically. Every
// path is confined to the service's dir through an os.Root, sessions are
// bounded in number and in cells, and a session unused for idle_timeout
// closes. Each step is an event of type workbook. The API reaches the
// running services through Kind, which cmd/steward's registry (builtin)
// builds and the daemon hands to the api package; while a bus runs, the
// daemon hands Kind.ServeBus steward's connection, and each service takes
// the same commands as a NATS micro service (bus.go).
package workbook

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/micro"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/supervise"
)

// Reasons of the events of type workbook: the first word of the reason.
const (
	EventCreated   = "workbook_created"
	EventProcessed = "data_processed"
	EventSaved     = "workbook_saved"
	EventClosed    = "workbook_closed"
)

// Limits bound what one session may hold; the zero value of a field means
// its default.
type Limits struct {
	// MaxCells is the most cells a session's writes may add up to
	// (default 2,000,000); a write's cells are its rows × columns.
	MaxCells int
	// StreamRows is the least rows of a write to a new sheet that go
	// through excelize's stream writer (default 10,000).
	StreamRows int
	// MaxTemplate is the largest template file (default 32 MiB) and
	// MaxUnzip the most its parts may unzip to (default 256 MiB).
	MaxTemplate, MaxUnzip int64
}

func (l Limits) withDefaults() Limits {
	l.MaxCells = cmp.Or(l.MaxCells, 2_000_000)
	l.StreamRows = cmp.Or(l.StreamRows, 10_000)
	l.MaxTemplate = cmp.Or(l.MaxTemplate, 32<<20)
	l.MaxUnzip = cmp.Or(l.MaxUnzip, 256<<20)
	return l
}

// Clock is the time sessions expire by: Now, and a timer that calls f
// after d unless stopped.
type Clock interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }
func (systemClock) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}

// Recorder records events.
type Recorder interface {
	Record(ctx context.Context, ev steward.Event) (steward.Event, error)
}

// Options configure the workbook kind.
type Options struct {
	Events Recorder // nil records no events
	Logger *slog.Logger
	Clock  Clock // nil is the system's
	// Limits bound each session.
	Limits Limits
}

// Kind is the workbook kind: it makes a Runner per service and serves the
// sessions of the running ones. It is safe for concurrent use.
type Kind struct {
	o        Options
	mu       sync.Mutex
	services map[string]*service // the running ones
	bus      *busConn            // nil while no bus serves them (ServeBus)
}

var _ supervise.NewRunner = (*Kind)(nil).NewRunner

// New returns the workbook kind.
func New(o Options) *Kind {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = systemClock{}
	}
	o.Limits = o.Limits.withDefaults()
	return &Kind{o: o, services: map[string]*service{}}
}

// NewRunner makes the runner of a workbook service.
func (k *Kind) NewRunner(cfg *config.Service) (supervise.Runner, error) {
	spec, ok := cfg.Spec.(*Spec)
	if !ok {
		return nil, fmt.Errorf("service %s: not of kind workbook", cfg.Name)
	}
	return &runner{k: k, name: cfg.Name, spec: *spec}, nil
}

type runner struct {
	k    *Kind
	name string
	spec Spec
}

// Run opens the service's dir (creating it when missing) and serves its
// sessions until ctx ends; then the sessions close, unsaved.
func (r *runner) Run(ctx context.Context, ready func()) error {
	if err := os.MkdirAll(r.spec.Dir, 0o755); err != nil {
		return fmt.Errorf("workbook %s: %w", r.name, err)
	}
	root, err := os.OpenRoot(r.spec.Dir)
	if err != nil {
		return fmt.Errorf("workbook %s: %w", r.name, err)
	}
	s := &service{k: r.k, name: r.name, spec: r.spec, root: root, sessions: map[string]*session{}}
	r.k.mu.Lock()
	r.k.services[r.name] = s
	r.k.announceLocked(s)
	r.k.mu.Unlock()
	ready()
	<-ctx.Done()
	r.k.mu.Lock()
	delete(r.k.services, r.name)
	s.unannounceLocked()
	r.k.mu.Unlock()
	s.closeAll(context.WithoutCancel(ctx), r.name+" stopped")
	return root.Close()
}

// service is a running workbook service.
type service struct {
	k    *Kind
	name string
	spec Spec
	root *os.Root

	mu       sync.Mutex
	sessions map[string]*session
	micro    micro.Service // its commands on the bus; nil when not served (k.mu)
	stopped  bool
	stop     func() bool // the timer of the next expiry
	next     time.Time   // when it fires
}

// get returns the running service name.
func (k *Kind) get(name string) (*service, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	s := k.services[name]
	if s == nil {
		return nil, steward.Errorf(steward.ENOTFOUND, "no running workbook service %q", name)
	}
	return s, nil
}

// Services returns the names of the running workbook services, sorted.
func (k *Kind) Services() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []string
	for name := range k.services {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// Sessions returns the open sessions of the service, oldest first.
func (k *Kind) Sessions(service string) ([]steward.WorkbookSession, error) {
	s, err := k.get(service)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	list := make([]*session, 0, len(s.sessions))
	for _, ss := range s.sessions {
		list = append(list, ss)
	}
	s.mu.Unlock()
	out := make([]steward.WorkbookSession, 0, len(list))
	for _, ss := range list {
		ss.mu.Lock()
		if ss.wb != nil {
			out = append(out, ss.info(s.spec.IdleTimeout))
		}
		ss.mu.Unlock()
	}
	slices.SortFunc(out, func(a, b steward.WorkbookSession) int {
		return cmp.Or(a.Created.Compare(b.Created), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

// Create opens a session of the service: a blank workbook, or the
// template file under its dir.
func (k *Kind) Create(ctx context.Context, service string, req steward.WorkbookCreateRequest) (steward.WorkbookSession, error) {
	s, err := k.get(service)
	if err != nil {
		return steward.WorkbookSession{}, err
	}
	ss := &session{service: service, streamed: map[string]bool{}}
	if req.Template != "" {
		name, err := local(s.spec.Dir, req.Template)
		if err != nil {
			return steward.WorkbookSession{}, err
		}
		if ss.wb, err = openTemplate(s.root, name, k.o.Limits); err != nil {
			return steward.WorkbookSession{}, err
		}
		ss.template, ss.file = name, name
	} else {
		ss.wb = newBlank()
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	ss.id = service + "." + hex.EncodeToString(rnd[:])
	ss.created = k.o.Clock.Now()
	ss.touch(ss.created)

	s.mu.Lock()
	if n := len(s.sessions); s.stopped || n >= s.spec.MaxSessions {
		s.mu.Unlock()
		ss.wb.Close()
		if s.stopped {
			return steward.WorkbookSession{}, steward.Errorf(steward.ENOTFOUND, "no running workbook service %q", service)
		}
		return steward.WorkbookSession{}, steward.Errorf(steward.ECONFLICT, "service %s has %d sessions open, its max_sessions: close one first", service, n)
	}
	s.sessions[ss.id] = ss
	s.scheduleLocked()
	s.mu.Unlock()
	from := "blank"
	if ss.template != "" {
		from = "from template " + ss.template
	}
	k.record(ctx, service, fmt.Sprintf("%s: session %s, %s", EventCreated, ss.id, from))
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.info(s.spec.IdleTimeout), nil
}

// Close closes a session without saving it.
func (k *Kind) Close(ctx context.Context, service, id string) error {
	s, err := k.get(service)
	if err != nil {
		return err
	}
	s.mu.Lock()
	ss := s.sessions[id]
	delete(s.sessions, id)
	s.mu.Unlock()
	if ss == nil {
		return errNoSession(service, id)
	}
	s.closeSession(ctx, ss, "closed")
	return nil
}

func errNoSession(service, id string) error {
	return steward.Errorf(steward.ENOTFOUND, "no session %q in workbook service %s (closed, expired or never opened)", id, service)
}

// use returns the open session id of the service, locked and marked used;
// the caller unlocks it.
func (k *Kind) use(service, id string) (*service, *session, error) {
	s, err := k.get(service)
	if err != nil {
		return nil, nil, err
	}
	s.mu.Lock()
	ss := s.sessions[id]
	s.mu.Unlock()
	if ss == nil {
		return nil, nil, errNoSession(service, id)
	}
	ss.mu.Lock()
	if ss.wb == nil { // closed meanwhile
		ss.mu.Unlock()
		return nil, nil, errNoSession(service, id)
	}
	ss.touch(k.o.Clock.Now())
	return s, ss, nil
}

// done ends an operation on ss: it is unlocked and the next expiry of s
// reckoned from its use.
func (s *service) done(ss *session) {
	ss.mu.Unlock()
	s.mu.Lock()
	s.scheduleLocked()
	s.mu.Unlock()
}

// Write writes req.Data at req.Cell of req.Sheet of the session id.
func (k *Kind) Write(ctx context.Context, service, id string, req steward.WorkbookWriteRequest) (steward.WorkbookWritten, error) {
	s, ss, err := k.use(service, id)
	if err != nil {
		return steward.WorkbookWritten{}, err
	}
	w, err := ss.write(req, k.o.Limits)
	s.done(ss)
	if err != nil {
		return steward.WorkbookWritten{}, err
	}
	how := ""
	if w.Streamed {
		how = ", streamed"
	}
	k.record(ctx, service, fmt.Sprintf("%s: session %s, %d rows written to %s!%s%s", EventProcessed, id, w.Rows, w.Sheet, w.Range, how))
	return w, nil
}

// Read returns the values of rng of sheet of the session id.
func (k *Kind) Read(ctx context.Context, service, id, sheet, rng string) (steward.WorkbookRange, error) {
	s, ss, err := k.use(service, id)
	if err != nil {
		return steward.WorkbookRange{}, err
	}
	defer s.done(ss)
	return ss.read(sheet, rng, k.o.Limits)
}

// Save writes the session's workbook to req.As under the service's dir,
// or to the file it was opened from or last saved as.
func (k *Kind) Save(ctx context.Context, service, id string, req steward.WorkbookSaveRequest) (steward.WorkbookSaved, error) {
	s, ss, err := k.use(service, id)
	if err != nil {
		return steward.WorkbookSaved{}, err
	}
	name := ss.file
	if req.As != "" {
		if name, err = local(s.spec.Dir, req.As); err != nil {
			s.done(ss)
			return steward.WorkbookSaved{}, err
		}
	}
	if name == "" {
		s.done(ss)
		return steward.WorkbookSaved{}, steward.Errorf(steward.EINVALID, "session %s has no file yet: save it as a file under dir", id)
	}
	size, err := saveAtomic(s.root, name, ss.wb)
	if err == nil {
		ss.file = name
	}
	s.done(ss)
	if err != nil {
		return steward.WorkbookSaved{}, err
	}
	k.record(ctx, service, fmt.Sprintf("%s: session %s to %s (%d bytes)", EventSaved, id, name, size))
	return steward.WorkbookSaved{File: name, Bytes: size}, nil
}

// closeSession closes the workbook of ss, taken out of s, and records why.
func (s *service) closeSession(ctx context.Context, ss *session, why string) {
	ss.mu.Lock()
	if ss.wb != nil {
		if err := ss.wb.Close(); err != nil {
			s.k.o.Logger.Warn("workbook: close", "session", ss.id, "err", err)
		}
		ss.wb = nil
	}
	ss.mu.Unlock()
	s.k.record(ctx, s.name, fmt.Sprintf("%s: session %s %s", EventClosed, ss.id, why))
	s.mu.Lock()
	s.scheduleLocked()
	s.mu.Unlock()
}

// closeAll closes every session, as the service stops.
func (s *service) closeAll(ctx context.Context, why string) {
	s.mu.Lock()
	s.stopped = true
	list := s.sessions
	s.sessions = map[string]*session{}
	s.mu.Unlock()
	for _, ss := range list {
		s.closeSession(ctx, ss, "closed unsaved: "+why)
	}
}

// scheduleLocked sets the one timer of s for the next session to expire;
// the caller holds s.mu.
func (s *service) scheduleLocked() {
	var next time.Time
	for _, ss := range s.sessions {
		if at := ss.lastUse().Add(s.spec.IdleTimeout); next.IsZero() || at.Before(next) {
			next = at
		}
	}
	if next.Equal(s.next) && s.stop != nil {
		return
	}
	if s.stop != nil {
		s.stop()
		s.stop = nil
	}
	s.next = next
	if next.IsZero() || s.stopped {
		return
	}
	s.stop = s.k.o.Clock.AfterFunc(next.Sub(s.k.o.Clock.Now()), s.expire)
}

// expire closes the sessions unused for the idle timeout.
func (s *service) expire() {
	now := s.k.o.Clock.Now()
	var idle []*session
	s.mu.Lock()
	s.stop = nil
	for id, ss := range s.sessions {
		if !now.Before(ss.lastUse().Add(s.spec.IdleTimeout)) {
			idle = append(idle, ss)
			delete(s.sessions, id)
		}
	}
	s.scheduleLocked()
	s.mu.Unlock()
	for _, ss := range idle {
		s.closeSession(context.Background(), ss, fmt.Sprintf("unsaved: idle for %s", s.spec.IdleTimeout))
	}
}

// record records an event of type workbook about service, followed by
// who asked for it (steward.WithActor) when ctx names one.
func (k *Kind) record(ctx context.Context, service, reason string) {
	if k.o.Events == nil {
		return
	}
	if who := steward.Actor(ctx); who != "" {
		reason += ", by " + who
	}
	ev := steward.Event{Time: k.o.Clock.Now().UTC(), Type: steward.EventWorkbook, Service: service, Reason: reason}
	if _, err := k.o.Events.Record(context.WithoutCancel(ctx), ev); err != nil {
		k.o.Logger.Error("workbook: record event", "service", service, "err", err)
	}
}
