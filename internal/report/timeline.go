package report

import (
	"strings"
	"time"

	"github.com/stewardhq/steward"
)

// category is what a moment of a service's time counts as.
type category int

const (
	catNoData    category = iota // steward did not run, or left no record
	catPlanned                   // not meant to run: stopped on purpose, finished, not started yet
	catUp                        // running, and not failing a health check
	catUnhealthy                 // running, failing its health check: down
	catDown                      // meant to run, not running: starting after a crash, backoff, failed
)

func (c category) down() bool { return c == catDown || c == catUnhealthy }

// tally is the time of one service in each category over a range, with the
// restarts and outages seen, and the up and down time per bucket.
type tally struct {
	secs     [catDown + 1]float64
	crashes  int
	manual   int
	outages  int
	up, down []float64 // per bucket
}

// service is one service's state as its events tell it.
type service struct {
	name    string
	state   steward.State
	health  steward.Health
	pid     int
	planned bool // its stop (or not having started) was asked for
	manual  bool // the last stop was asked for by someone: a start is a manual restart
	cat     category
	at      time.Time // when cat began, or the range's start
	t       tally
}

// timeline replays the history of a range into a tally per service.
type timeline struct {
	from, to time.Time
	step     time.Duration
	alive    bool      // steward was running
	last     time.Time // the last event's time
	services map[string]*service
	keep     func(name string) bool
	begun    bool
	// dead are the periods steward did not run, from the range's start;
	// deadSince is when the current one began while alive is false.
	dead      []span
	deadSince time.Time
}

type span struct{ start, end time.Time }

func newTimeline(from, to time.Time, step time.Duration, keep func(string) bool) *timeline {
	return &timeline{from: from, to: to, step: step, services: map[string]*service{}, keep: keep}
}

func (tl *timeline) buckets() int {
	return int((tl.to.Sub(tl.from) + tl.step - 1) / tl.step)
}

// service returns the service name, adding it as not started yet. One
// first seen at t within the range was not meant to run before (it was
// not in the config), or had no record where steward did not run.
func (tl *timeline) service(name string, t time.Time) *service {
	s := tl.services[name]
	if s == nil {
		n := tl.buckets()
		s = &service{name: name, state: steward.StateStopped, health: steward.HealthUnknown, planned: true,
			at: tl.from, t: tally{up: make([]float64, n), down: make([]float64, n)}}
		s.cat = s.category(tl.alive)
		tl.services[name] = s
		if tl.begun && t.After(tl.from) {
			end := minTime(t, tl.to)
			dead := tl.dead
			if !tl.alive {
				dead = append(dead, span{tl.deadSince, end})
			}
			var none float64
			for _, d := range dead {
				if e, b := minTime(d.end, end), maxTime(d.start, tl.from); e.After(b) {
					none += e.Sub(b).Seconds()
				}
			}
			s.t.secs[catNoData] += none
			s.t.secs[catPlanned] += end.Sub(tl.from).Seconds() - none
			s.at = t
		}
	}
	return s
}

// category is what s's time counts as now.
func (s *service) category(alive bool) category {
	if !alive {
		return catNoData
	}
	switch s.state {
	case steward.StateRunning:
		if s.health == steward.HealthUnhealthy {
			return catUnhealthy
		}
		return catUp
	case steward.StateExited:
		return catPlanned
	case steward.StateBackoff, steward.StateFailed:
		return catDown
	}
	if s.planned {
		return catPlanned
	}
	return catDown
}

// account adds the time from s.at to t to s's current category, within
// the range, and moves s.at to t.
func (tl *timeline) account(s *service, t time.Time) {
	start, end := maxTime(s.at, tl.from), minTime(t, tl.to)
	if end.After(start) {
		s.t.secs[s.cat] += end.Sub(start).Seconds()
		if s.cat == catUp || s.cat.down() {
			tl.spread(s, start, end)
		}
	}
	if t.After(s.at) {
		s.at = t
	}
}

// spread adds [start, end) to the up or down time of the buckets it spans.
func (tl *timeline) spread(s *service, start, end time.Time) {
	into := s.t.up
	if s.cat.down() {
		into = s.t.down
	}
	for i := int(start.Sub(tl.from) / tl.step); start.Before(end) && i < len(into); i++ {
		edge := minTime(tl.from.Add(time.Duration(i+1)*tl.step), end)
		into[i] += edge.Sub(start).Seconds()
		start = edge
	}
}

// recategorize accounts s's time up to t and takes its new category,
// counting an outage when it goes down.
func (tl *timeline) recategorize(s *service, t time.Time) {
	tl.account(s, t)
	c := s.category(tl.alive)
	if c.down() && !s.cat.down() && !t.Before(tl.from) && t.Before(tl.to) {
		s.t.outages++
	}
	s.cat = c
}

// begin sets the state at the range's start: the outages under way then
// count, and time is accounted from there.
func (tl *timeline) begin() {
	tl.begun, tl.deadSince = true, tl.from
	for _, s := range tl.services {
		s.at = tl.from
		s.cat = s.category(tl.alive)
		if s.cat.down() {
			s.t.outages++
		}
	}
}

// apply replays one event. within is false for the events before the
// range, which only set the state it begins with.
func (tl *timeline) apply(ev steward.Event, within bool) {
	if _, ok := systemStart(ev.Reason); ev.Type == steward.EventSystem && !ok {
		return // a sweep's record, at a start: no sign of life before it
	}
	t := ev.Time
	if t.Before(tl.last) {
		t = tl.last // a clock that went back: keep time moving forward
	}
	defer func() { tl.last = t }()
	switch ev.Type {
	case steward.EventSystem:
		switch start, ok := systemStart(ev.Reason); {
		case ok && start:
			tl.started(t)
		case ok:
			tl.stopped(t)
		}
	case steward.EventState:
		if !tl.keep(ev.Service) {
			return
		}
		s := tl.service(ev.Service, t)
		if within && tl.alive {
			tl.count(s, ev)
		}
		s.transition(ev)
		tl.recategorize(s, t)
	case steward.EventHealth:
		if !tl.keep(ev.Service) {
			return
		}
		s := tl.service(ev.Service, t)
		if h, ok := healthOf(ev.Reason); ok && s.state == steward.StateRunning {
			s.health = h
		}
		tl.recategorize(s, t)
	}
}

// started handles steward's start at t. When no stop came before it,
// steward ended unseen: its time from the last event on has no record.
// Every service begins stopped.
func (tl *timeline) started(t time.Time) {
	switch {
	case tl.alive:
		for _, s := range tl.services {
			tl.account(s, maxTime(tl.last, s.at))
			s.cat = catNoData
		}
		tl.dead = append(tl.dead, span{tl.last, t})
	case tl.begun:
		tl.dead = append(tl.dead, span{tl.deadSince, t})
	}
	tl.alive = true
	for _, s := range tl.services {
		s.state, s.health, s.pid, s.planned, s.manual = steward.StateStopped, steward.HealthUnknown, 0, true, false
		tl.recategorize(s, t)
	}
}

func (tl *timeline) stopped(t time.Time) {
	tl.alive, tl.deadSince = false, t
	for _, s := range tl.services {
		tl.recategorize(s, t)
	}
}

// count counts the restarts ev shows: a crash for a restart steward made
// on its own, a manual restart for a start after a stop someone asked for.
func (tl *timeline) count(s *service, ev steward.Event) {
	from, to := ev.From, ev.To
	switch {
	case to == steward.StateBackoff:
		s.t.crashes++
	case to == steward.StateFailed && from != steward.StateStopped && from != "":
		s.t.crashes++
	case (to == steward.StateRunning || to == steward.StateStarting) && ev.PID != s.pid && s.pid != 0 &&
		(from == steward.StateRunning || from == steward.StateStarting) && strings.Contains(ev.Reason, "; restarting"):
		s.t.crashes++ // respawned at once, with no backoff
	case to == steward.StateStopping && !requested(ev.Reason) && strings.HasSuffix(ev.Reason, "; restarting"):
		s.t.crashes++ // unhealthy, over a limit, a dependency restarted
	case to == steward.StateStarting && from == steward.StateStopped && s.manual:
		s.t.manual++
		s.manual = false
	}
}

// transition moves s to ev's state.
func (s *service) transition(ev steward.Event) {
	if ev.To != ev.From || ev.PID != s.pid {
		s.health = steward.HealthUnknown
	}
	switch ev.To {
	case steward.StateRunning, steward.StateBackoff, steward.StateFailed:
		s.planned, s.manual = false, false
	case steward.StateStopping:
		s.planned = requested(ev.Reason)
		s.manual = s.planned
	case steward.StateStopped:
		if ev.From != steward.StateStopping || requested(ev.Reason) {
			s.planned = s.planned || requested(ev.Reason)
			s.manual = s.manual || requested(ev.Reason)
		}
	case steward.StateExited:
		s.planned, s.manual = true, false
	}
	if ev.To != "" {
		s.state = ev.To
	}
	s.pid = ev.PID
}

// requested reports whether a stop's reason says it was asked for: by a
// caller, a reload that removed the service, or steward's own shutdown.
func requested(reason string) bool {
	return strings.HasPrefix(reason, "stop requested") || strings.HasPrefix(reason, "removed from config")
}

// healthOf reads the new health from a health event's reason, "healthy →
// unhealthy: why".
func healthOf(reason string) (steward.Health, bool) {
	_, after, ok := strings.Cut(reason, " → ")
	if !ok {
		return "", false
	}
	word, _, _ := strings.Cut(after, ":")
	switch h := steward.Health(word); h {
	case steward.HealthHealthy, steward.HealthUnhealthy, steward.HealthUnknown:
		return h, true
	}
	return "", false
}

// end accounts every service's time up to the range's end.
func (tl *timeline) end() {
	for _, s := range tl.services {
		tl.account(s, tl.to)
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
