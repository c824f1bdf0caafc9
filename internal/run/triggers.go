package run

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
)

// Bus is the bus as workflows use it: publish steps and subject triggers.
type Bus interface {
	Publish(ctx context.Context, subject string, data []byte) error
	// Subscribe calls fn with each message on subject (wildcards allowed)
	// until ctx ends; ready is called once the subscription is in place.
	Subscribe(ctx context.Context, subject string, ready func(), fn func(subject string, data []byte)) error
}

// Events are steward's events, for event triggers.
type Events interface {
	// Subscribe returns the events from now on, and a func that ends the
	// subscription. The channel is closed when the subscriber falls
	// behind.
	Subscribe() (<-chan steward.Event, func())
}

// AlertLookup is what an Alerter may also do: return an alert, for the
// severity an event trigger asks for.
type AlertLookup interface {
	Alert(ctx context.Context, id int64) (steward.Alert, error)
}

// retryWait is how long a subject trigger waits before it subscribes
// again, while the bus starts or after it failed.
const retryWait = time.Second

// watch starts the goroutines of the triggers of workflow w that wait for
// something besides the time: files, bus subjects, events. They end with
// ctx. seed names files that runs in flight were started for: they do not
// fire again as they are.
func (e *Engine) watch(ctx context.Context, name string, w *config.Workflow, seed map[string]bool) {
	for _, t := range w.On {
		switch {
		case t.File != nil:
			ft := *t.File
			e.wg.Go(func() { e.watchFiles(ctx, name, ft, seed) })
		case t.Subject != "":
			subject := t.Subject
			e.wg.Go(func() { e.watchSubject(ctx, name, subject) })
		case t.Event != nil:
			et := *t.Event
			e.wg.Go(func() { e.watchEvents(ctx, name, et) })
		}
	}
}

// fireTrigger starts a run of workflow name for a trigger.
func (e *Engine) fireTrigger(name, trigger string, data map[string]any) {
	if _, err := e.StartWorkflow(e.ctx, name, trigger, data, nil); err != nil && e.ctx.Err() == nil {
		e.log.Warn("start a workflow run", "workflow", name, "trigger", trigger, "err", err)
	}
}

// fileID tells two versions of a file apart.
type fileID struct {
	size int64
	mod  time.Time
}

// settler decides when files have settled: their size and time stayed
// the same for settle. Each version of a file fires once.
type settler struct {
	settle time.Duration
	seen   map[string]seenFile
	fired  map[string]fileID
	seed   map[string]bool
}

type seenFile struct {
	id    fileID
	since time.Time
}

func newSettler(settle time.Duration, seed map[string]bool) *settler {
	return &settler{settle: settle, seen: map[string]seenFile{}, fired: map[string]fileID{}, seed: seed}
}

// scan takes the files found at now and returns those that settled since
// the last scan, sorted as files is.
func (s *settler) scan(now time.Time, paths []string, files map[string]fileID) []string {
	var out []string
	for _, p := range paths {
		id := files[p]
		if s.seed[p] {
			delete(s.seed, p)
			s.fired[p] = id
		}
		old, ok := s.seen[p]
		if !ok || old.id != id {
			s.seen[p] = seenFile{id, now}
			continue
		}
		if now.Sub(old.since) >= s.settle {
			if f, ok := s.fired[p]; !ok || f != id {
				s.fired[p] = id
				out = append(out, p)
			}
		}
	}
	for p := range s.seen {
		if _, ok := files[p]; !ok {
			delete(s.seen, p)
			delete(s.fired, p)
		}
	}
	return out
}

// pollEvery is how often a file trigger looks at its glob.
func pollEvery(settle time.Duration) time.Duration {
	return min(max(settle/4, 50*time.Millisecond), time.Second)
}

// globFiles returns the regular files matching glob and their versions.
func globFiles(glob string) ([]string, map[string]fileID) {
	paths, _ := filepath.Glob(glob) // the pattern was checked by config
	files := make(map[string]fileID, len(paths))
	out := paths[:0]
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		files[p] = fileID{fi.Size(), fi.ModTime()}
		out = append(out, p)
	}
	return out, files
}

func (e *Engine) watchFiles(ctx context.Context, name string, ft config.FileTrigger, seed map[string]bool) {
	s := newSettler(ft.Settle, seed)
	for {
		paths, files := globFiles(ft.Glob)
		for _, p := range s.scan(e.clock.Now(), paths, files) {
			e.fireTrigger(name, steward.TriggerFile, map[string]any{"file": p, "name": filepath.Base(p), "size": files[p].size})
		}
		t := e.clock.NewTimer(pollEvery(ft.Settle))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C():
		}
	}
}

func (e *Engine) watchSubject(ctx context.Context, name, subject string) {
	if e.o.Bus == nil {
		e.log.Warn("a subject trigger without a bus", "workflow", name, "subject", subject)
		return
	}
	for ctx.Err() == nil {
		err := e.o.Bus.Subscribe(ctx, subject, func() {}, func(subj string, data []byte) {
			d := map[string]any{"subject": subj, "data": string(data)}
			var v any
			if json.Unmarshal(data, &v) == nil {
				d["json"] = v
			}
			e.fireTrigger(name, steward.TriggerSubject, d)
		})
		if ctx.Err() != nil {
			return
		}
		e.log.Debug("subscribe for a workflow trigger", "workflow", name, "subject", subject, "err", err)
		t := e.clock.NewTimer(retryWait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C():
		}
	}
}

func (e *Engine) watchEvents(ctx context.Context, name string, et config.EventTrigger) {
	if e.o.Events == nil {
		return
	}
	for ctx.Err() == nil {
		ch, cancel := e.o.Events.Subscribe()
		e.takeEvents(ctx, name, et, ch)
		cancel()
	}
}

// takeEvents fires name for each event of ch that et matches, until ctx
// ends or ch is closed.
func (e *Engine) takeEvents(ctx context.Context, name string, et config.EventTrigger, ch <-chan steward.Event) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-ch:
			if !ok {
				return
			}
			if d := e.matchEvent(ctx, et, ev); d != nil {
				e.fireTrigger(name, steward.TriggerEvent, d)
			}
		}
	}
}

// matchEvent returns what an event trigger tells of ev, or nil when et
// does not match it.
func (e *Engine) matchEvent(ctx context.Context, et config.EventTrigger, ev steward.Event) map[string]any {
	switch {
	case et.State != "" && ev.Type == steward.EventState && string(ev.To) == et.State &&
		(et.Service == "*" || ev.Service == et.Service):
		return map[string]any{"event": ev.Type, "service": ev.Service, "state": string(ev.To), "reason": ev.Reason,
			"time": ev.Time.UTC().Format(time.RFC3339Nano)}
	case et.Alert != "" && ev.Type == steward.EventAlert && ev.To == steward.State(steward.AlertFiring):
		var id int64
		if _, err := fmt.Sscanf(ev.Reason, "alert %d", &id); err != nil {
			return nil
		}
		d := map[string]any{"event": ev.Type, "alert": id, "service": ev.Service, "reason": ev.Reason,
			"time": ev.Time.UTC().Format(time.RFC3339Nano)}
		if l, ok := e.o.Alerts.(AlertLookup); ok {
			a, err := l.Alert(ctx, id)
			if err != nil {
				return nil
			}
			d["severity"], d["rule"], d["subject"] = a.Severity, a.Rule, a.Subject
		}
		if sev, _ := d["severity"].(string); et.Alert != "*" && sev != et.Alert {
			return nil
		}
		return d
	}
	return nil
}
