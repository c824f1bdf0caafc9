//go:build linux

package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"time"
)

// crashLoop runs a service that exits at once, restarted at once, until
// crashes crashes or crashCap (longer, up to 3 × crashCap, for a tool too
// slow to restart it even twice by then); latency is the time from a
// run's last act to the next run's first.
func (b *bench) crashLoop() error {
	dir, err := b.phaseDir("crash")
	if err != nil {
		return err
	}
	stamps := filepath.Join(dir, "crash.stamps")
	svc := service{name: "crasher", argv: []string{b.w.helper, "crash", stamps}, autostart: true, policy: crashLoop}
	d, err := b.t.launch(b.o.ctx, dir, []service{svc})
	defer b.teardown(d, dir)
	if err != nil {
		return err
	}
	began := time.Now()
	for b.o.ctx.Err() == nil {
		kinds, _, err := readStamps(stamps)
		if err != nil {
			return err
		}
		took := time.Since(began)
		if len(kinds) >= 2*b.o.crashes+1 || took > 3*b.o.crashCap || (took > b.o.crashCap && len(kinds) >= 3) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	d.kill()
	return b.crashResults(stamps, b.col)
}

// crashResults turns a stamps file into the crash measures of column col.
func (b *bench) crashResults(stamps, col string) error {
	kinds, times, err := readStamps(stamps)
	if err != nil {
		return err
	}
	var lat []float64
	var first, last int64
	starts := 0
	for i, k := range kinds {
		if k != "S" {
			continue
		}
		if starts == 0 {
			first = times[i]
		}
		last = times[i]
		starts++
		if i > 0 && kinds[i-1] == "E" {
			lat = append(lat, float64(times[i]-times[i-1])/1e6)
		}
	}
	if len(lat) == 0 {
		return fmt.Errorf("no restart in %s (%d starts)", b.o.crashCap, starts)
	}
	slices.Sort(lat)
	name := col
	b.r.add(mCrashP50, name, pct(lat, 50))
	b.r.add(mCrashP99, name, pct(lat, 99))
	b.r.cell(mCrashP50, name).Note = fmt.Sprintf("n=%d", len(lat))
	b.r.cell(mCrashP99, name).Note = fmt.Sprintf("n=%d", len(lat))
	if starts > 1 && last > first {
		b.r.add(mCrashRate, name, float64(starts-1)/(float64(last-first)/1e9))
	}
	return nil
}

// giveUp runs a service that exits at once, to be restarted at once but
// given up on after giveUpAfter restarts, and measures the time from its
// first start until the tool says it gave up.
func (b *bench) giveUp() error {
	dir, err := b.phaseDir("giveup")
	if err != nil {
		return err
	}
	stamps := filepath.Join(dir, "giveup.stamps")
	svc := service{name: "giveup", argv: []string{b.w.helper, "crash", stamps}, autostart: true, policy: giveUp, giveUpAfter: b.o.giveUpAfter}
	d, err := b.t.launch(b.o.ctx, dir, []service{svc})
	defer b.teardown(d, dir)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(b.o.giveUpCap)
	for {
		done, err := d.gaveUp(b.o.ctx, svc.name)
		if err != nil {
			return err
		}
		now := monoNow()
		if done {
			kinds, times, err := readStamps(stamps)
			if err != nil {
				return err
			}
			starts := 0
			for _, k := range kinds {
				if k == "S" {
					starts++
				}
			}
			if starts == 0 {
				return fmt.Errorf("gave up without a start")
			}
			b.r.add(mGiveUp, b.col, float64(now-times[0])/1e9)
			b.r.cell(mGiveUp, b.col).Note = fmt.Sprintf("after %d restart%s", starts-1, plural(starts-1))
			return nil
		}
		if time.Now().After(deadline) || b.o.ctx.Err() != nil {
			kinds, _, _ := readStamps(stamps)
			b.r.skip(mGiveUp, b.col, fmt.Sprintf("still restarting after %s (%d runs)", b.o.giveUpCap, len(kinds)/2))
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
}
