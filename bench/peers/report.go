//go:build linux

package main

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// report is one run's results and what they were measured on.
type report struct {
	Began    time.Time            `json:"began"`
	Took     time.Duration        `json:"took"`
	Command  string               `json:"command"`
	Dir      string               `json:"dir"` // the run's directory, the token of its processes
	Smoke    bool                 `json:"smoke"`
	Machine  string               `json:"machine"`
	Versions map[string]string    `json:"versions"`
	Missing  []string             `json:"missing,omitempty"`
	Load     map[string][3]string `json:"load"` // column, "start", "end" → load average before, after; peak and pid rate
	Columns  []string             `json:"columns"`
	Results  results              `json:"results"`
	Options  options              `json:"-"`
}

// row is one line of the table.
type row struct {
	id, label, unit string
	higherBetter    bool
	noRatio         bool
}

func (rep *report) rows() []row {
	o := rep.Options
	return []row{
		{id: mRSS0, label: "daemon RSS, idle, no services", unit: "MB"},
		{id: mRSSSmall, label: fmt.Sprintf("daemon RSS, idle, %d `sleep` services", o.small), unit: "MB"},
		{id: mRSSLarge, label: fmt.Sprintf("daemon RSS, idle, %s `sleep` services", thousands(o.large)), unit: "MB"},
		{id: mCPU, label: fmt.Sprintf("daemon CPU over %s idle, %d services", o.idle, o.small), unit: "% of a core"},
		{id: mStartWarm, label: fmt.Sprintf("start %d services → all running: start command, daemon up", o.small), unit: "ms"},
		{id: mStartCold, label: fmt.Sprintf("start %d services → all running: daemon launch, autostart", o.small), unit: "ms"},
		{id: mStartWarmL, label: fmt.Sprintf("start %s services → all running: start command, daemon up", thousands(o.large)), unit: "ms"},
		{id: mStartColdL, label: fmt.Sprintf("start %s services → all running: daemon launch, autostart", thousands(o.large)), unit: "ms"},
		{id: mCrashP50, label: "crash → restarted, p50 (exit of run k → start of run k+1)", unit: "ms"},
		{id: mCrashP99, label: "crash → restarted, p99", unit: "ms"},
		{id: mCrashRate, label: "restarts per second in a crash loop (higher is better)", unit: "/s", higherBetter: true},
		{id: mGiveUp, label: fmt.Sprintf("gives up on a crash loop (%d restarts allowed): first start → gave up", o.giveUpAfter), unit: "s", noRatio: true},
		{id: mStatus, label: fmt.Sprintf("status command, %d services, wall", o.small), unit: "ms"},
		{id: mStatusL, label: fmt.Sprintf("status command, %s services, wall", thousands(o.large)), unit: "ms"},
		{id: mLog, label: fmt.Sprintf("log capture: %s of stdout lines → in the log file, wall", size(o.logBytes)), unit: "s"},
		{id: mLogCPU, label: "log capture: daemon CPU over that time (limit: cat's)", unit: "s"},
		{id: mLogLoss, label: fmt.Sprintf("log capture: output missing from the log file when the program exits right after writing %s", size(o.logBytes)), unit: "MB", noRatio: true},
		{id: mOrphans, label: fmt.Sprintf("kill -9 of the daemon: processes of %d service trees (main, child, setsid daemon) still running %s later (of %d)", o.small, o.orphanWait, treeProcs*o.small), unit: "", noRatio: true},
	}
}

// median and spread of a cell's samples.
func stats(s []float64) (med, lo, hi float64) {
	s = slices.Clone(s)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		med = s[n/2]
	} else {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return med, s[0], s[n-1]
}

// num formats v with about three significant digits.
func num(v float64) string {
	a := math.Abs(v)
	switch {
	case v == math.Trunc(v) && a < 1e5:
		return thousands(int(v))
	case a >= 1000:
		return thousands(int(math.Round(v)))
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func size(b int64) string {
	if b >= 1<<20 {
		return fmt.Sprintf("%d MB", b>>20)
	}
	return fmt.Sprintf("%d KB", b>>10)
}

// value is the text of a cell.
func (r row) value(c *cell) string {
	switch {
	case c == nil:
		return "—"
	case len(c.Samples) == 0 && strings.HasPrefix(c.Skip, ">"):
		return c.Skip // a measurement that ran out of time
	case len(c.Samples) == 0:
		return "—"
	}
	med, lo, hi := stats(c.Samples)
	s := num(med)
	if r.unit != "" {
		s += " " + r.unit
	}
	var extra []string
	if len(c.Samples) > 1 {
		extra = append(extra, fmt.Sprintf("%s–%s, n=%d", num(lo), num(hi), len(c.Samples)))
	}
	if c.Note != "" {
		extra = append(extra, c.Note)
	}
	if len(extra) > 0 {
		s += " (" + strings.Join(extra, ", ") + ")"
	}
	return s
}

func (rep *report) median(m, col string) (float64, bool) {
	c := rep.Results[m][col]
	if c == nil || len(c.Samples) == 0 || c.Partial {
		return 0, false
	}
	med, _, _ := stats(c.Samples)
	return med, true
}

// ratio is steward's median over another, as "0.42×".
func ratio(steward, other float64) string {
	if other == 0 {
		return "—"
	}
	return num(steward/other) + "×"
}

func (rep *report) markdown() string {
	var b strings.Builder
	title := "steward against its peers"
	if rep.Smoke {
		title += " (smoke run: small sizes, one run each — not figures to quote)"
	}
	fmt.Fprintf(&b, "# %s\n\n", title)
	fmt.Fprintf(&b, "- Date: %s (took %s)\n", rep.Began.Format("2006-01-02 15:04 MST"), rep.Took)
	fmt.Fprintf(&b, "- Machine: %s\n", rep.Machine)
	var vers []string
	for _, c := range rep.Columns {
		if v, ok := rep.Versions[c]; ok {
			vers = append(vers, c+" "+v)
		}
	}
	fmt.Fprintf(&b, "- Versions: %s\n", strings.Join(vers, "; "))
	fmt.Fprintf(&b, "- Command: `%s`\n", rep.Command)
	fmt.Fprintf(&b, "- Load average (1, 5, 15 min) at the start: %s; at the end: %s\n", rep.Load["start"][0], rep.Load["end"][0])
	for _, m := range rep.Missing {
		fmt.Fprintf(&b, "- Not measured: %s\n", m)
	}
	b.WriteString("\nEach value is the median, with (min–max, n=runs) when there were several runs; " +
		"ratios are of medians, below 1× is better for steward except where higher is better.\n\n")

	b.WriteString("| measure |")
	for _, c := range rep.Columns {
		fmt.Fprintf(&b, " %s |", c)
	}
	b.WriteString(" steward ÷ best peer | steward ÷ limit |\n|---|")
	for range rep.Columns {
		b.WriteString("---|")
	}
	b.WriteString("---|---|\n")
	for _, r := range rep.rows() {
		fmt.Fprintf(&b, "| %s |", r.label)
		for _, c := range rep.Columns {
			fmt.Fprintf(&b, " %s |", r.value(rep.Results[r.id][c]))
		}
		bestPeer, limit := "—", "—"
		if sv, ok := rep.median(r.id, "steward"); ok && !r.noRatio {
			best, found := 0.0, false
			for _, c := range rep.Columns {
				if c == "steward" || c == limitCol {
					continue
				}
				if v, ok := rep.median(r.id, c); ok && (!found || (r.higherBetter && v > best) || (!r.higherBetter && v < best)) {
					best, found = v, true
				}
			}
			if found {
				bestPeer = ratio(sv, best)
			}
			if lv, ok := rep.median(r.id, limitCol); ok {
				limit = ratio(sv, lv)
			}
		}
		fmt.Fprintf(&b, " %s | %s |\n", bestPeer, limit)
	}

	b.WriteString("\n## What could not be measured\n\n")
	any := false
	for _, c := range rep.Columns {
		for _, r := range rep.rows() {
			if cl := rep.Results[r.id][c]; cl != nil && len(cl.Samples) == 0 && cl.Skip != "" {
				fmt.Fprintf(&b, "- %s, %s: %s\n", c, r.label, cl.Skip)
				any = true
			}
		}
	}
	if !any {
		b.WriteString("Everything was measured.\n")
	}
	b.WriteString("\n## Load during the run\n\nLoad average (1, 5, 15 min) before and after each column's measures; the highest 1-minute\n" +
		"load seen meanwhile (sampled every 2 s) and the rate at which the whole machine used new pids\n" +
		"(the tools' own starts and restarts included: a rate far above what the column's work needs is\n" +
		"someone else's).\n\n| column | before | after | peak 1-min load; new pids/s |\n|---|---|---|---|\n")
	for _, c := range rep.Columns {
		if l, ok := rep.Load[c]; ok {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", c, l[0], l[1], l[2])
		}
	}
	b.WriteString(methods)
	return b.String()
}

// methods says how each figure was taken; it follows the table.
const methods = `
## How

Every tool runs by hand in its own temporary directory with its own config, control socket (Unix
sockets only) and logs, never as a system service; a fresh daemon for each phase. The services are
a copy of sleep(1) in the run's directory (` + "`sleep 100000+i`" + `, distinct per service so Monit can tell them
apart), and bench/peers/peerhelper (crash at once, write log lines, be a minimal Go parent). Everything
the run starts carries the run's directory in its command line; the tear-down kills exactly those
processes (SIGKILL) and nothing else.

- **Settings made equal.** Restart at once, never give up: steward ` + "`restart: {policy: always, backoff: 0s}`" + `;
  supervisord ` + "`startsecs=0, autorestart=true`" + ` and huge ` + "`startretries`" + `; PM2 ` + "`restart_delay: 0`" + `, no exponential
  backoff, huge ` + "`max_restarts`" + `, ` + "`interpreter: none`" + `; Monit ` + "`set daemon 1`" + ` (its shortest cycle) and
  ` + "`start program … with timeout 1 seconds`" + ` for the crashing program (it waits for a started process to
  appear, 30 s by default, and one that exited at once never does). Log capture: no rotation anywhere
  (steward ` + "`logs.max_size: 100GB`" + `, supervisord ` + "`stdout_logfile_maxbytes=0`" + `, PM2 has none); steward also
  timestamps every line, supervisord and PM2 (without ` + "`log_date_format`" + `) do not.
- **Give-up.** N restarts allowed after the first start: steward ` + "`max_restarts: N, backoff: 0s`" + `; PM2
  ` + "`max_restarts: N+1`" + ` (it counts the crash it is deciding about) with ` + "`min_uptime: 1000`" + ` (a run shorter
  than that is an unstable restart); supervisord counts only failed *starts*, which takes ` + "`startsecs=1`" + `
  and ` + "`startretries=N`" + `, and waits 1 s longer before each retry (not settable); Monit
  ` + "`if N+1 restarts within N+1 cycles then unmonitor`" + ` (it counts its first start as a restart). Time from the first start (the program's own stamp) to
  the tool saying it gave up (steward: its API says ` + "`failed`" + `; the peers: the line in their log).
- **Memory, CPU.** VmRSS and utime+stime from /proc of the daemon process (PM2: its God daemon;
  steward is one process), read after the services settled. Limit: a minimal Go parent holding the
  same children. CPU is counted in 10 ms clock ticks.
- **Start.** Time from the command (or the daemon's launch) until that many processes of the
  service program are in /proc (polled every 5 ms, reading only new pids' command lines). "Start
  command, daemon up": the services are configured not to start with the daemon (steward
  ` + "`disabled: true`" + `, supervisord ` + "`autostart=false`" + `, PM2 a second ecosystem file), and the command is
  ` + "`steward start NAMES…`" + `, ` + "`supervisorctl start all`" + `, ` + "`pm2 start ECOSYSTEM`" + `. Limit: fork/exec of the same
  sleeps from Go, one after another, until the last exec returned.
- **Crash → restarted.** The crashing program writes CLOCK_MONOTONIC (comparable across processes)
  at its start and as its last act before ` + "`exit(1)`" + `; latency is the start of run k+1 minus the exit
  of run k. Limit: the same program run in a fork/exec/wait loop from Go.
- **Status.** Wall time of ` + "`steward ps -o json -c FILE`" + `, ` + "`supervisorctl -c FILE status`" + `, ` + "`pm2 jlist`" + `,
  ` + "`monit -c FILE summary`" + `, after one unmeasured run.
- **Log capture.** A program writes 100-byte lines, 64 KiB at a time, then an end mark; time from
  its start stamp until the end mark is in the log file (polled every 1 ms), and the daemon's CPU
  time over the same span. Limit: the same program piped into ` + "`cat > file`" + `, until cat exits.
- **Output lost at exit.** The same program, but exiting right after its last write, three times (the
  loss is a race); a run loses output when its end mark is not in the file 5 s after the exit; the
  value is the most one run lost.
- **kill -9.** Each service runs a whole tree (peerhelper tree): a child, a daemon that left the
  tree (its own session, its parent gone) and itself, all copies of sleep(1). SIGKILL to the daemon
  with the trees running; after 2 s, count the sleep processes still alive (zombies not counted).
`
