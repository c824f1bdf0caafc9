package check

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/stewardhq/steward/internal/config"
)

// State is the last outcome of one configured check.
type State struct {
	Name  string        `json:"name"`
	Check *config.Check `json:"check"`
	Last  *Result       `json:"last,omitempty"` // nil before its first run
}

// Runner runs the configured checks, each every its interval, and hands
// each result to a report function. It is safe for concurrent use.
type Runner struct {
	report func(ctx context.Context, c *config.Check, r Result)
	now    func() time.Time
	tag    string

	mu      sync.Mutex
	ctx     context.Context
	running map[string]*running
	wg      sync.WaitGroup
}

type running struct {
	cfg    *config.Check
	cancel context.CancelFunc
	last   *Result
}

// NewRunner returns a Runner that reports through report, until ctx ends;
// now is the clock of file checks (nil: time.Now). The process tree of an
// exec check carries the tag TAG.check.NAME.<unique> (see proc.Command), so
// give tag the prefix of the services' tags.
func NewRunner(ctx context.Context, tag string, report func(ctx context.Context, c *config.Check, r Result), now func() time.Time) *Runner {
	if now == nil {
		now = time.Now
	}
	return &Runner{report: report, now: now, tag: tag, ctx: ctx, running: map[string]*running{}}
}

// Apply makes the runner run checks: new and changed checks start (and
// run at once), removed ones stop and report a last OK so that their
// alerts resolve.
func (rn *Runner) Apply(checks map[string]*config.Check) {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	for name, r := range rn.running {
		if c, ok := checks[name]; ok && reflect.DeepEqual(c, r.cfg) {
			continue
		}
		r.cancel()
		delete(rn.running, name)
		if _, ok := checks[name]; !ok {
			rn.report(rn.ctx, r.cfg, Result{Status: OK, Message: "check removed", Time: rn.now()})
		}
	}
	for name, c := range checks {
		if _, ok := rn.running[name]; ok {
			continue
		}
		ctx, cancel := context.WithCancel(rn.ctx)
		r := &running{cfg: c, cancel: cancel}
		rn.running[name] = r
		rn.wg.Go(func() { rn.loop(ctx, r) })
	}
}

func (rn *Runner) loop(ctx context.Context, r *running) {
	p := FromCheck(r.cfg, rn.now, rn.tag+".check."+r.cfg.Name)
	t := time.NewTicker(r.cfg.Interval)
	defer t.Stop()
	for {
		res := Run(ctx, p, r.cfg.Timeout, rn.now)
		if ctx.Err() != nil {
			return
		}
		rn.mu.Lock()
		r.last = &res
		rn.mu.Unlock()
		rn.report(ctx, r.cfg, res)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// States returns the state of every check, by name.
func (rn *Runner) States() []State {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	out := make([]State, 0, len(rn.running))
	for name, r := range rn.running {
		st := State{Name: name, Check: r.cfg}
		if r.last != nil {
			l := *r.last
			st.Last = &l
		}
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b State) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Close stops every check and waits for them.
func (rn *Runner) Close() {
	rn.mu.Lock()
	for _, r := range rn.running {
		r.cancel()
	}
	rn.running = map[string]*running{}
	rn.mu.Unlock()
	rn.wg.Wait()
}
