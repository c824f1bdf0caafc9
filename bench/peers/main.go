//go:build linux

// Command peers measures steward against its peers — supervisord, PM2 and
// Monit — on this machine, with the same workloads and settings made as
// equal as each tool allows, and writes a markdown table of the results.
// Each peer runs by hand in a temporary directory with its own config, on
// Unix sockets only (never as a system service), and everything the run
// starts is killed at the end; nothing else is touched: every process it
// starts has the run's unique directory in its command line.
//
// bench/peers/run.sh installs the peers that are missing and runs this
// (see RESULTS.md for the figures and the exact command):
//
//	bash bench/peers/run.sh -out bench/peers/RESULTS.md   # full run, ~12 min on 2 cores
//	go run ./bench/peers -smoke -only steward,limit       # one short run of each measure
//
// The programs the tools supervise, other than sleep(1), are
// bench/peers/peerhelper, built at the start of a run.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// options are the sizes and durations of one run.
type options struct {
	ctx          context.Context
	small, large int           // service counts
	runs         int           // runs of each short measure
	budget       time.Duration // stop repeating a measure after this much time
	idle         time.Duration // CPU sampling window
	settle       time.Duration // wait after a start before reading memory
	startCap     time.Duration // longest wait for all services running
	crashes      int           // crashes to collect
	crashCap     time.Duration // longest crash loop
	giveUpAfter  int           // restarts before giving up
	orphanWait   time.Duration // wait after kill -9 of a daemon before counting survivors
	giveUpCap    time.Duration // longest wait for a give-up
	logBytes     int64         // log load
	logCap       time.Duration // longest wait for one log load
	keep         bool          // keep the run's directory
	verbose      bool          // log each step
	phases       []string      // phases to run; nil: all
	log          io.Writer
}

// phase reports whether phase p is to run.
func (o options) phase(p string) bool { return o.phases == nil || slices.Contains(o.phases, p) }

// phaseNames are the values of -phases.
var phaseNames = []string{"idle", "small", "large", "crash", "log"}

// debugf logs with -v.
func (o options) debugf(format string, args ...any) {
	if o.verbose {
		o.logf(format, args...)
	}
}

func (o options) logf(format string, args ...any) {
	fmt.Fprintf(o.log, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

// sleep sleeps for d, or less if the run is interrupted.
func (o options) sleep(d time.Duration) {
	select {
	case <-time.After(d):
	case <-o.ctx.Done():
	}
}

func fullOptions() options {
	return options{small: 100, large: 1000, runs: 5, budget: 30 * time.Second, idle: 60 * time.Second,
		settle: 2 * time.Second, startCap: 40 * time.Second, crashes: 1000, crashCap: 15 * time.Second,
		giveUpAfter: 5, giveUpCap: 60 * time.Second, orphanWait: 2 * time.Second, logBytes: 200 << 20, logCap: 60 * time.Second}
}

func smokeOptions() options {
	return options{small: 5, large: 10, runs: 1, budget: time.Millisecond, idle: time.Second,
		settle: 300 * time.Millisecond, startCap: 20 * time.Second, crashes: 5, crashCap: 2500 * time.Millisecond,
		giveUpAfter: 1, giveUpCap: 20 * time.Second, orphanWait: 500 * time.Millisecond, logBytes: 2 << 20, logCap: 20 * time.Second}
}

// toolNames are the values of -only, in the report's column order.
var toolNames = []string{"limit", "steward", "supervisord", "pm2", "monit"}

func main() {
	smoke := flag.Bool("smoke", false, "one short run of each measure, small sizes (the test suite's mode)")
	only := flag.String("only", strings.Join(toolNames, ","), "comma-separated columns to measure: "+strings.Join(toolNames, ", "))
	out := flag.String("out", "", "write the markdown report to `FILE` (default: stdout)")
	jsonOut := flag.String("json", "", "also write the raw results as JSON to `FILE`")
	stewardBin := flag.String("steward", "", "steward binary (default: go build ./cmd/steward)")
	pm2Bin := flag.String("pm2", "", "pm2 command (default: pm2 on PATH)")
	helperBin := flag.String("helper", "", "peerhelper binary (default: go build ./bench/peers/peerhelper)")
	runs := flag.Int("runs", 0, "runs of each short measure (default 5; 1 with -smoke)")
	giveUp := flag.Int("giveup", 0, "restarts allowed before giving up (default 5; 1 with -smoke)")
	keep := flag.Bool("keep", false, "keep the run's temporary directory")
	verbose := flag.Bool("v", false, "log each step")
	phases := flag.String("phases", strings.Join(phaseNames, ","), "comma-separated phases to run: idle (memory, no services), small and large (100 and 1,000 services: memory, CPU, start, status, kill -9), crash (crash loop, give-up), log (log capture)")
	flag.Parse()

	o := fullOptions()
	if *smoke {
		o = smokeOptions()
	}
	if *runs > 0 {
		o.runs = *runs
	}
	if *giveUp > 0 {
		o.giveUpAfter = *giveUp
	}
	o.keep, o.verbose = *keep, *verbose
	o.log = os.Stderr
	var cancel context.CancelFunc
	o.ctx, cancel = signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()

	cols := strings.Split(*only, ",")
	for _, c := range cols {
		if !slices.Contains(toolNames, c) {
			fmt.Fprintf(os.Stderr, "peers: -only: unknown %q (want some of %s)\n", c, strings.Join(toolNames, ", "))
			os.Exit(2)
		}
	}
	o.phases = strings.Split(*phases, ",")
	for _, p := range o.phases {
		if !slices.Contains(phaseNames, p) {
			fmt.Fprintf(os.Stderr, "peers: -phases: unknown %q (want some of %s)\n", p, strings.Join(phaseNames, ", "))
			os.Exit(2)
		}
	}
	if *pm2Bin == "" {
		*pm2Bin, _ = exec.LookPath("pm2")
	}
	rep, err := runAll(o, cols, *stewardBin, *pm2Bin, *helperBin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "peers:", err)
		os.Exit(1)
	}
	rep.Command = os.Getenv("PEERS_COMMAND")
	if rep.Command == "" {
		rep.Command = "go run ./bench/peers " + strings.Join(os.Args[1:], " ")
	}
	rep.Smoke = *smoke
	md := rep.markdown()
	if *out == "" {
		fmt.Print(md)
	} else if err := os.WriteFile(*out, []byte(md), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "peers:", err)
		os.Exit(1)
	}
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(*jsonOut, b, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "peers:", err)
			os.Exit(1)
		}
	}
	if o.ctx.Err() != nil {
		os.Exit(130)
	}
}

// work is the run's temporary directory. Its path is the token that
// marks every process of the run.
type work struct {
	dir    string
	sleep  string // a copy of sleep(1): the services
	helper string // peerhelper: crash, gen, parent
}

func newWork(o options, stewardBin, helperBin string) (_ *work, stewardCopy string, err error) {
	dir, err := os.MkdirTemp("", "steward-peers-")
	if err != nil {
		return nil, "", err
	}
	w := &work{dir: dir, sleep: filepath.Join(dir, "bin", "sleep"), helper: filepath.Join(dir, "bin", "peerhelper")}
	if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
		return w, "", err
	}
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		return w, "", err
	}
	stewardCopy = filepath.Join(dir, "bin", "steward")
	var builds [][2]string
	if helperBin == "" {
		builds = append(builds, [2]string{"github.com/stewardhq/steward/bench/peers/peerhelper", w.helper})
		helperBin = w.helper
	}
	if stewardBin == "" {
		builds = append(builds, [2]string{"github.com/stewardhq/steward/cmd/steward", stewardCopy})
		stewardBin = stewardCopy
	}
	for _, b := range builds {
		o.logf("building %s", b[0])
		if out, err := exec.Command("go", "build", "-o", b[1], b[0]).CombinedOutput(); err != nil {
			return w, "", fmt.Errorf("go build %s (run this from within the steward module): %w\n%s", b[0], err, out)
		}
	}
	for _, c := range [][2]string{{sleep, w.sleep}, {stewardBin, stewardCopy}, {helperBin, w.helper}} {
		if c[0] == c[1] {
			continue
		}
		if err := copyFile(c[0], c[1]); err != nil {
			return w, "", err
		}
	}
	return w, stewardCopy, nil
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o755)
}

// runAll measures the columns cols and returns the report.
func runAll(o options, cols []string, stewardBin, pm2Bin, helperBin string) (*report, error) {
	began := time.Now()
	rep := &report{Began: began.UTC(), Options: o, Results: results{}, Versions: map[string]string{},
		Load: map[string][3]string{}, Machine: machine()}
	rep.Load["start"] = [3]string{loadavg()}
	w, stewardCopy, err := newWork(o, stewardBin, helperBin)
	if w != nil {
		defer func() {
			if _, err := sweep(w.dir, 10*time.Second); err != nil {
				o.logf("final sweep: %v", err)
			}
			if !o.keep {
				os.RemoveAll(w.dir)
			}
		}()
	}
	if err != nil {
		return nil, err
	}
	o.logf("run directory %s", w.dir)
	rep.Dir = w.dir
	tools := map[string]tool{
		"steward":     stewardTool{bin: stewardCopy},
		"supervisord": supervisordTool{},
		"pm2":         pm2Tool{bin: pm2Bin},
		"monit":       monitTool{},
	}
	for _, c := range toolNames {
		if !slices.Contains(cols, c) || o.ctx.Err() != nil {
			continue
		}
		if c == "limit" {
			rep.Columns = append(rep.Columns, limitCol)
			b := &bench{o: o, w: w, col: limitCol, r: rep.Results}
			l0, peak := loadavg(), watchLoad()
			b.limits()
			rep.Load[limitCol] = [3]string{l0, loadavg(), peak()}
			continue
		}
		t := tools[c]
		rep.Columns = append(rep.Columns, t.name())
		v, err := t.version()
		if err != nil {
			o.logf("%s: skipped: %v", t.name(), err)
			rep.Missing = append(rep.Missing, fmt.Sprintf("%s: %v", t.name(), err))
			continue
		}
		rep.Versions[t.name()] = v
		b := &bench{o: o, w: w, t: t, col: t.name(), r: rep.Results}
		l0, peak := loadavg(), watchLoad()
		b.all()
		rep.Load[t.name()] = [3]string{l0, loadavg(), peak()}
	}
	rep.Load["end"] = [3]string{loadavg()}
	rep.Took = time.Since(began).Round(time.Second)
	return rep, nil
}

// watchLoad samples the 1-minute load average every 2 s until the
// function it returns is called, which returns the highest sample and how
// fast pids were used meanwhile (forks per second on the whole machine:
// other users' work shows there).
func watchLoad() func() string {
	stop := make(chan struct{})
	done := make(chan string)
	go func() {
		peak := 0.0
		_, pid0 := loadFields()
		began := time.Now()
		pids := 0
		last := pid0
		tick := time.NewTicker(2 * time.Second)
		defer tick.Stop()
		sample := func() {
			l, pid := loadFields()
			peak = max(peak, l)
			if pid >= last {
				pids += pid - last
			} else {
				pids += pid // wrapped at pid_max; an undercount
			}
			last = pid
		}
		for {
			sample()
			select {
			case <-stop:
				sample()
				done <- fmt.Sprintf("%.2f; %.0f new pids/s", peak, float64(pids)/time.Since(began).Seconds())
				return
			case <-tick.C:
			}
		}
	}()
	return func() string {
		close(stop)
		return <-done
	}
}

// loadFields returns the 1-minute load average and the last pid used.
func loadFields() (float64, int) {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0, 0
	}
	f := strings.Fields(string(b))
	if len(f) < 5 {
		return 0, 0
	}
	l, _ := strconv.ParseFloat(f[0], 64)
	pid, _ := strconv.Atoi(f[4])
	return l, pid
}

// machine describes this machine in one line.
func machine() string {
	model := "?"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := "?"
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		if _, err := fmt.Sscanf(string(b), "MemTotal: %d kB", &kb); err == nil {
			mem = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
		}
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return fmt.Sprintf("%d cores (%s), %s memory, Linux %s, %s", runtime.NumCPU(), model, mem, strings.TrimSpace(string(kernel)), runtime.Version())
}
