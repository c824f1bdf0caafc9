package config

import (
	"errors"
	"fmt"
	"strings"
	"time"

	cron "github.com/netresearch/go-cron"
)

// scheduleParser reads 5-field cron (minute first), 6-field cron (seconds
// first) and the descriptors @every D, @hourly, @daily (@midnight),
// @weekly, @monthly and @yearly (@annually).
var scheduleParser = cron.MustNewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month |
	cron.Dow | cron.Descriptor)

// Schedule is a job's parsed schedule: the times it is due. A Schedule is
// immutable and safe for concurrent use.
type Schedule struct {
	s cron.Schedule
	// fixed is a cron schedule whose minute and hour fields do not start
	// with '*': ISC cron's "fixed-time job", which daylight saving time
	// moves rather than repeats or drops.
	fixed bool
}

// ParseSchedule parses spec, a job's schedule, in the time zone zone (an
// IANA name such as Europe/Berlin; "" is steward's local time zone, and
// @every does not depend on it). Daylight saving time is handled as ISC
// cron handles it: a fixed-time job (minute and hour not starting with '*';
// @daily, @weekly, @monthly, @yearly) whose time a spring-forward skips
// runs once, at the transition, and one whose time a fall-back repeats
// runs once, at the first occurrence; a wildcard job (*/15 * * * *,
// @hourly) runs by the clock as it is, through both.
func ParseSchedule(spec, zone string) (Schedule, error) {
	spec = strings.TrimSpace(spec)
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		return Schedule{}, errors.New("set the time zone with timezone:, not in the schedule")
	}
	switch spec {
	case "@manual", "@triggered", "@none":
		return Schedule{}, fmt.Errorf("schedule %q: leave schedule out for a job that runs only when asked", spec)
	}
	if zone != "" {
		if _, err := time.LoadLocation(zone); err != nil || zone == "Local" || strings.ContainsAny(zone, " \t") {
			return Schedule{}, fmt.Errorf("unknown time zone %q", zone)
		}
		spec = "CRON_TZ=" + zone + " " + spec
	}
	s, err := scheduleParser.Parse(spec)
	if err != nil {
		return Schedule{}, fmt.Errorf("invalid schedule: %w", err)
	}
	_, isSpec := s.(*cron.SpecSchedule)
	return Schedule{s: s, fixed: isSpec && fixedTime(spec)}, nil
}

// fixedTime reports whether the cron spec (with any CRON_TZ= prefix) is of
// a fixed-time job.
func fixedTime(spec string) bool {
	f := strings.Fields(spec)
	if len(f) > 0 && strings.HasPrefix(f[0], "CRON_TZ=") {
		f = f[1:]
	}
	switch {
	case len(f) == 1:
		return f[0] != "@hourly"
	case len(f) == 6:
		f = f[1:] // seconds first
	case len(f) != 5:
		return false
	}
	return !strings.HasPrefix(f[0], "*") && !strings.HasPrefix(f[1], "*")
}

// Next returns the first time the schedule is due after t, or the zero
// time when it never is again.
func (s Schedule) Next(t time.Time) time.Time {
	if s.s == nil {
		return time.Time{}
	}
	next := s.s.Next(t)
	for s.fixed && !next.IsZero() {
		start, _ := next.ZoneBounds()
		_, before := start.Add(-time.Nanosecond).Zone()
		_, after := start.Zone()
		switch shift := time.Duration(before-after) * time.Second; {
		case shift < 0 && !s.matches(next):
			// Spring forward: the wall-clock time did not exist, and the
			// library moved it past the gap; ISC cron runs it at the
			// transition, once.
			if start.After(t) {
				return start
			}
			next = s.s.Next(next)
			continue
		case shift > 0 && next.Sub(start) < shift:
			// Fall back: the wall-clock time happened already, an hour
			// (shift) earlier; a fixed-time job ran then.
			next = s.s.Next(next)
			continue
		}
		return next
	}
	return next
}

// matches reports whether the wall-clock minute and hour of t are those of
// the cron schedule.
func (s Schedule) matches(t time.Time) bool {
	spec, ok := s.s.(*cron.SpecSchedule)
	if !ok {
		return true
	}
	t = t.In(spec.Location)
	return spec.Hour&(1<<uint(t.Hour())) != 0 && spec.Minute&(1<<uint(t.Minute())) != 0
}
