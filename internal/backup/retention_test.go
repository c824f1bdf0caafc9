package backup

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/config"
)

// infos returns a backup at each of times, named by the time.
func infos(times ...string) []*Info {
	var out []*Info
	for _, s := range times {
		t, err := time.Parse("2006-01-02 15:04", s)
		if err != nil {
			panic(err)
		}
		out = append(out, &Info{ID: s, Time: t})
	}
	return out
}

func kept(ds []Decision) []string {
	var out []string
	for _, d := range ds {
		if d.Keep {
			out = append(out, d.Info.ID)
		}
	}
	return out
}

func TestPlan(t *testing.T) {
	// Two a day, at 03:00 and 15:00, from 2026-11-20 to 2026-12-06.
	var times []string
	for d := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC); !d.After(time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)); d = d.AddDate(0, 0, 1) {
		times = append(times, d.Add(3*time.Hour).Format("2006-01-02 15:04"), d.Add(15*time.Hour).Format("2006-01-02 15:04"))
	}
	list := infos(times...)
	for _, tt := range []struct {
		name string
		keep config.Keep
		want []string
	}{
		{"last", config.Keep{Last: 3}, []string{"2026-12-06 15:00", "2026-12-06 03:00", "2026-12-05 15:00"}},
		{"daily", config.Keep{Daily: 3}, []string{"2026-12-06 15:00", "2026-12-05 15:00", "2026-12-04 15:00"}},
		{"last and daily overlap", config.Keep{Last: 2, Daily: 2},
			[]string{"2026-12-06 15:00", "2026-12-06 03:00", "2026-12-05 15:00"}},
		// 2026-12-06 is a Sunday: ISO weeks end on it.
		{"weekly", config.Keep{Weekly: 2}, []string{"2026-12-06 15:00", "2026-11-29 15:00"}},
		{"monthly", config.Keep{Monthly: 2}, []string{"2026-12-06 15:00", "2026-11-30 15:00"}},
		// Only one year has backups: the oldest is kept as well.
		{"yearly keeps the oldest", config.Keep{Yearly: 3}, []string{"2026-12-06 15:00", "2026-11-20 03:00"}},
		{"hourly", config.Keep{Hourly: 2}, []string{"2026-12-06 15:00", "2026-12-06 03:00"}},
		{"within is after newest minus d", config.Keep{Within: 25 * time.Hour}, []string{"2026-12-06 15:00", "2026-12-06 03:00", "2026-12-05 15:00"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := kept(Plan(list, tt.keep, time.UTC)); !slices.Equal(got, tt.want) {
				t.Errorf("kept %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestPlanReasons(t *testing.T) {
	list := infos("2026-12-05 10:00", "2026-12-06 03:00", "2026-12-04 23:00", "2026-12-06 01:00")
	ds := Plan(list, config.Keep{Last: 1, Daily: 2, Monthly: 5}, time.UTC)
	var got []string
	for _, d := range ds {
		got = append(got, fmt.Sprintf("%s %v %s", d.Info.ID, d.Keep, strings.Join(d.Reasons, "; ")))
	}
	want := []string{
		"2026-12-06 03:00 true last 1 of 1; daily 2026-12-06 (1 of 2); monthly 2026-12 (1 of 5)",
		"2026-12-06 01:00 false ",
		"2026-12-05 10:00 true daily 2026-12-05 (2 of 2)",
		"2026-12-04 23:00 true monthly: the oldest, as only 1 of 5 periods have a backup",
	}
	if !slices.Equal(got, want) {
		t.Errorf("decisions\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The day of a backup is the day in the job's time zone.
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	if got := kept(Plan(list, config.Keep{Daily: 1}, tokyo)); !slices.Equal(got, []string{"2026-12-06 03:00"}) {
		t.Errorf("kept in Tokyo %q", got)
	}
	all := Plan(list, config.Keep{}, time.UTC)
	if len(kept(all)) != 4 || all[0].Reasons[0] != "no keep policy" {
		t.Errorf("the zero policy kept %v", all)
	}
}

func TestForget(t *testing.T) {
	src := tree(t)
	to := t.TempDir()
	j := &config.Job{Name: "nightly", Backup: spec(src, to, config.FormatTarZstd)}
	j.Backup.Keep = config.Keep{Last: 2}
	for i := range 4 {
		at := t0.Add(time.Duration(i) * time.Hour)
		out, err := Run(context.Background(), j, at, int64(i+1))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(out), "backup "+NewID("nightly", at, int64(i+1))) {
			t.Errorf("run output %q", out)
		}
	}
	list, _ := List(to, "nightly")
	if len(list) != 2 || list[0].ID != "nightly-20261206T060000Z-4" || list[1].ID != "nightly-20261206T050000Z-3" {
		t.Fatalf("after 4 runs with last: 2, %d backups: %+v", len(list), list)
	}
	if left, _ := os.ReadDir(to); len(left) != 4 {
		t.Errorf("%s holds %d files, want 2 archives and 2 sidecars", to, len(left))
	}
	j.Backup.Keep = config.Keep{Last: 1}
	ds, err := Forget(j, true)
	if err != nil || len(ds) != 2 || !ds[0].Keep || ds[1].Keep {
		t.Errorf("dry run = %+v, %v", ds, err)
	}
	if list, _ := List(to, "nightly"); len(list) != 2 {
		t.Error("a dry run removed a backup")
	}
	if _, err := Forget(j, false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(to, "nightly-20261206T050000Z-3.tar.zst")); !os.IsNotExist(err) {
		t.Errorf("the forgotten archive is still there: %v", err)
	}
}
