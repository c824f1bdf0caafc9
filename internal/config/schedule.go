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
var scheduleParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month |
	cron.Dow | cron.Descriptor)

// Schedule is a job's parsed schedule: the times it is due. A Schedule is
// immutable and safe for concurrent use.
type Schedule struct {
	s cron.Schedule
}

// ParseSchedule parses spec, a job's schedule, in the time zone zone (an
// IANA name such as Europe/Berlin; "" is steward's local time zone, and
// @every does not depend on it). Daylight saving time is handled as ISC
// cron does: a time that a spring-forward skips runs right after the
// transition, and a time that a fall-back repeats runs once, at its first
// occurrence.
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
	return Schedule{s: s}, nil
}

// Next returns the first time the schedule is due after t, or the zero
// time when it never is again.
func (s Schedule) Next(t time.Time) time.Time {
	if s.s == nil {
		return time.Time{}
	}
	return s.s.Next(t)
}
