package backup

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/stewardhq/steward/internal/config"
)

// Decision is what a keep policy does with one backup.
type Decision struct {
	Info    *Info
	Keep    bool
	Reasons []string // why it is kept
}

// bucket is one rule of a keep policy: it keeps the newest backup of
// each of the count newest periods that have one.
type bucket struct {
	name  string
	count int
	label func(t time.Time, nr int) string
	last  string
	used  int
}

// Plan applies keep to list with restic's forget semantics (restic 0.17),
// the times of the backups in loc, and returns a decision for each backup,
// newest first:
//   - last n keeps the n newest backups;
//   - hourly, daily, weekly (ISO weeks), monthly and yearly n each keep
//     the newest backup of each of the n newest hours, days … that have
//     one; when fewer periods than n have one, the oldest backup is kept
//     too, for the longest history;
//   - within d keeps every backup made within d of the newest one.
//
// A backup is kept when any rule keeps it. The zero keep keeps everything.
func Plan(list []*Info, keep config.Keep, loc *time.Location) []Decision {
	list = slices.Clone(list)
	sortNewest(list)
	out := make([]Decision, len(list))
	if keep.IsZero() {
		for i, in := range list {
			out[i] = Decision{Info: in, Keep: true, Reasons: []string{"no keep policy"}}
		}
		return out
	}
	buckets := []*bucket{
		{name: "last", count: keep.Last, label: func(_ time.Time, nr int) string { return strconv.Itoa(nr) }},
		{name: "hourly", count: keep.Hourly, label: func(t time.Time, _ int) string { return t.Format("2006-01-02 15:00") }},
		{name: "daily", count: keep.Daily, label: func(t time.Time, _ int) string { return t.Format("2006-01-02") }},
		{name: "weekly", count: keep.Weekly, label: func(t time.Time, _ int) string {
			y, w := t.ISOWeek()
			return fmt.Sprintf("%04d-W%02d", y, w)
		}},
		{name: "monthly", count: keep.Monthly, label: func(t time.Time, _ int) string { return t.Format("2006-01") }},
		{name: "yearly", count: keep.Yearly, label: func(t time.Time, _ int) string { return t.Format("2006") }},
	}
	var newest time.Time
	if len(list) > 0 {
		newest = list[0].Time
	}
	for nr, in := range list {
		d := Decision{Info: in}
		if keep.Within > 0 && in.Time.After(newest.Add(-keep.Within)) {
			d.Keep = true
			d.Reasons = append(d.Reasons, fmt.Sprintf("within %s of the newest", keep.Within))
		}
		t := in.Time.In(loc)
		for _, b := range buckets {
			if b.used >= b.count {
				continue
			}
			v := b.label(t, nr)
			oldest := nr == len(list)-1 && b.name != "last"
			if v == b.last && !oldest {
				continue
			}
			b.used++
			d.Keep = true
			switch {
			case b.name == "last":
				d.Reasons = append(d.Reasons, fmt.Sprintf("last %d of %d", b.used, b.count))
			case v == b.last:
				d.Reasons = append(d.Reasons, fmt.Sprintf("%s: the oldest, as only %d of %d periods have a backup", b.name, b.used-1, b.count))
			default:
				d.Reasons = append(d.Reasons, fmt.Sprintf("%s %s (%d of %d)", b.name, v, b.used, b.count))
			}
			b.last = v
		}
		out[nr] = d
	}
	return out
}

// sortNewest sorts list newest first, by ID among equal times.
func sortNewest(list []*Info) {
	slices.SortStableFunc(list, func(a, b *Info) int {
		if c := b.Time.Compare(a.Time); c != 0 {
			return c
		}
		switch {
		case a.ID > b.ID:
			return -1
		case a.ID < b.ID:
			return 1
		}
		return 0
	})
}
