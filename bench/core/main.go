// Command core measures steward's supervisor on this machine: crash →
// replacement running latency and restart rate in a zero-backoff crash loop,
// and the time from start to all running for many independent services.
// It runs the real supervisor, store and event recorder in this process and
// real child processes. Usage (figures go to bench/README.md):
//
//	go run ./bench/core -crashes 2000 -services 1000
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/events"
	"github.com/stewardhq/steward/internal/kinds/builtin"
	"github.com/stewardhq/steward/internal/proc"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/supervise"
)

// crasherEnv makes this program act as the crashing child: print the time
// to stderr as its last act, and exit 1.
const crasherEnv = "STEWARD_BENCH_CRASHER"

func main() {
	if os.Getenv(crasherEnv) != "" {
		fmt.Fprintln(os.Stderr, "exit-at", time.Now().UnixNano())
		os.Exit(1)
	}
	crashes := flag.Int("crashes", 2000, "crashes to measure (0: skip)")
	services := flag.Int("services", 1000, "independent services to start (0: skip)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to `FILE`")
	others := flag.Int("others", 0, "other processes (`N` sleeps, not steward's) to keep on the machine meanwhile, as a busy server has")
	flag.Parse()
	stop, err := startOthers(*others)
	if err != nil {
		fmt.Fprintln(os.Stderr, "core:", err)
		os.Exit(1)
	}
	defer stop()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err == nil {
			pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	if err := run(*crashes, *services); err != nil {
		fmt.Fprintln(os.Stderr, "core:", err)
		pprof.StopCPUProfile()
		stop()
		os.Exit(1)
	}
}

// startOthers starts n sleeping processes that are not steward's and
// returns what kills them.
func startOthers(n int) (stop func(), err error) {
	var cmds []*exec.Cmd
	stop = func() {
		for _, c := range cmds {
			c.Process.Kill()
			c.Wait()
		}
		cmds = nil
	}
	for range n {
		c := exec.Command("sleep", "3600")
		if err := c.Start(); err != nil {
			stop()
			return nil, fmt.Errorf("start other processes: %w", err)
		}
		cmds = append(cmds, c)
	}
	return stop, nil
}

func run(crashes, services int) error {
	if err := proc.Prepare(); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if crashes > 0 {
		if err := crashLoop(self, crashes); err != nil {
			return fmt.Errorf("crash loop: %w", err)
		}
		if err := restartRate(crashes); err != nil {
			return fmt.Errorf("restart rate: %w", err)
		}
	}
	if services > 0 {
		if err := startMany(services); err != nil {
			return fmt.Errorf("start %d services: %w", services, err)
		}
	}
	return nil
}

// recorder records into the real store and keeps the events in memory too.
type recorder struct {
	*events.Recorder
	mu  sync.Mutex
	evs []steward.Event
	on  func(steward.Event)
}

func (r *recorder) Record(ctx context.Context, ev steward.Event) (steward.Event, error) {
	ev, err := r.Recorder.Record(ctx, ev)
	r.mu.Lock()
	r.evs = append(r.evs, ev)
	on := r.on
	r.mu.Unlock()
	if on != nil {
		on(ev)
	}
	return ev, err
}

// harness is a supervisor over a real store in a temp dir.
type harness struct {
	dir string
	st  *store.Store
	rec *recorder
	sup *supervise.Supervisor
}

func newHarness(yaml string, on func(steward.Event)) (*harness, error) {
	dir, err := os.MkdirTemp("", "steward-bench")
	if err != nil {
		return nil, err
	}
	h := &harness{dir: dir}
	cfg, err := config.Parse(filepath.Join(dir, "steward.yaml"), []byte("data_dir: "+dir+"\n"+yaml), builtin.Config())
	if err != nil {
		return nil, err
	}
	h.st, err = store.Open(context.Background(), filepath.Join(dir, "steward.db"))
	if err != nil {
		return nil, err
	}
	h.rec = &recorder{Recorder: events.NewRecorder(h.st), on: on}
	h.sup, err = supervise.New(cfg, supervise.Options{Events: h.rec, LogDir: filepath.Join(dir, "logs"), Tag: "bench" + strconv.Itoa(os.Getpid())})
	return h, err
}

func (h *harness) close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	h.sup.Shutdown(ctx)
	h.sup.Close()
	h.st.Close()
	os.RemoveAll(h.dir)
}

// crashLoop runs a service that exits at once with zero backoff and
// measures, for each crash, the time from the child's last act to its
// replacement's running event; and restarts per second overall.
func crashLoop(self string, n int) error {
	done := make(chan struct{})
	var once sync.Once
	var runs int
	h, err := newHarness(fmt.Sprintf(`
services:
  crasher:
    command: [%q]
    env: {%s: "1"}
    restart: {policy: always, backoff: 0s, max_restarts: %d, window: 1h}
`, self, crasherEnv, n+10), func(ev steward.Event) {
		if ev.To == steward.StateRunning {
			runs++ // only the service loop records, one event at a time
			if runs > n {
				once.Do(func() { close(done) })
			}
		}
	})
	if err != nil {
		return err
	}
	defer h.close()
	lg, _ := h.sup.Log("crasher")
	lines, unsubscribe := lg.Subscribe()
	defer unsubscribe()
	var stamps []int64
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		for l := range lines {
			if v, ok := strings.CutPrefix(l.Text, "exit-at "); ok {
				ns, _ := strconv.ParseInt(v, 10, 64)
				stamps = append(stamps, ns)
				if len(stamps) >= n {
					return
				}
			}
		}
	}()

	began := time.Now()
	h.sup.StartAll()
	select {
	case <-done:
	case <-time.After(5 * time.Minute):
		return fmt.Errorf("only %d runs in 5 minutes", runs)
	}
	elapsed := time.Since(began)
	if err := h.sup.Stop(context.Background(), nil); err != nil {
		return err
	}
	select {
	case <-collected:
	case <-time.After(10 * time.Second):
	}

	h.rec.mu.Lock()
	var running []int64
	for _, ev := range h.rec.evs {
		if ev.To == steward.StateRunning {
			running = append(running, ev.Time.UnixNano())
		}
	}
	h.rec.mu.Unlock()
	// Crash k (its exit stamp) is followed by running event k+1.
	var lat []time.Duration
	for k, s := range stamps {
		if k+1 < len(running) {
			lat = append(lat, time.Duration(running[k+1]-s))
		}
	}
	if len(lat) < n/2 {
		return fmt.Errorf("matched %d crashes of %d (stamps %d, runs %d)", len(lat), n, len(stamps), len(running))
	}
	slices.Sort(lat)
	fmt.Printf("crash → replacement running (zero backoff), %d crashes: p50 %s  p90 %s  p99 %s  max %s\n",
		len(lat), pct(lat, 50), pct(lat, 90), pct(lat, 99), lat[len(lat)-1])
	fmt.Printf("restarts per second in the crash loop: %.0f (%d runs in %s)\n",
		float64(runs)/elapsed.Seconds(), runs, elapsed.Round(time.Millisecond))
	fmt.Printf("  budget: p50 < 2ms (ratio %.2f), p99 < 5ms (ratio %.2f), ≥ 1000 restarts/s (ratio %.2f)\n",
		float64(pct(lat, 50))/float64(2*time.Millisecond), float64(pct(lat, 99))/float64(5*time.Millisecond),
		float64(runs)/elapsed.Seconds()/1000)
	return nil
}

// restartRate runs a service of /bin/false with zero backoff until it has
// run n times: the rate when the child costs next to nothing, so what is
// measured is steward's own restart path plus fork/exec.
func restartRate(n int) error {
	done := make(chan struct{})
	runs := 0
	h, err := newHarness(fmt.Sprintf(`
services:
  crasher:
    command: ["false"]
    restart: {policy: always, backoff: 0s, max_restarts: %d, window: 1h}
`, n+10), func(ev steward.Event) {
		if ev.To == steward.StateRunning {
			if runs++; runs == n {
				close(done)
			}
		}
	})
	if err != nil {
		return err
	}
	defer h.close()
	began, cpuBefore := time.Now(), cpuTime()
	h.sup.StartAll()
	select {
	case <-done:
	case <-time.After(5 * time.Minute):
		return fmt.Errorf("only %d runs in 5 minutes", runs)
	}
	elapsed, cpu := time.Since(began), cpuTime()-cpuBefore
	bareBegan := time.Now()
	for range n {
		exec.Command("false").Run() // exits 1 by design
	}
	bare := float64(n) / time.Since(bareBegan).Seconds()
	rate := float64(n) / elapsed.Seconds()
	fmt.Printf("restarts per second, /bin/false in a zero-backoff loop: %.0f (%d runs in %s; budget ≥ 1000: ratio %.2f); bare os/exec run-and-wait of false in this run: %.0f/s (steward/bare %.2f); steward's CPU per restart %s\n",
		rate, n, elapsed.Round(time.Millisecond), rate/1000, bare, rate/bare, (cpu / time.Duration(n)).Round(time.Microsecond))
	return nil
}

// startMany starts n independent sleeping services and measures the time
// until every one is running.
func startMany(n int) error {
	var b strings.Builder
	b.WriteString("services:\n")
	for i := range n {
		fmt.Fprintf(&b, "  s%04d: {command: [sleep, \"3600\"]}\n", i)
	}
	all := make(chan struct{})
	var mu sync.Mutex
	running := 0
	h, err := newHarness(b.String(), func(ev steward.Event) {
		if ev.To == steward.StateRunning {
			mu.Lock()
			running++
			if running == n {
				close(all)
			}
			mu.Unlock()
		}
	})
	if err != nil {
		return err
	}
	defer h.close()
	began := time.Now()
	h.sup.StartAll()
	select {
	case <-all:
	case <-time.After(2 * time.Minute):
		return fmt.Errorf("only %d running after 2 minutes", running)
	}
	took := time.Since(began)
	base, err := bareStarts(n)
	if err != nil {
		return err
	}
	fmt.Printf("start %d independent services → all running: %s (budget < 1s for 1000: ratio %.2f); bare os/exec of as many sleeps from 4 goroutines in this run: %s (steward/bare %.1f)\n",
		n, took.Round(time.Millisecond), took.Seconds()/(float64(n)/1000), base.Round(time.Millisecond), took.Seconds()/base.Seconds())
	stopBegan := time.Now()
	if err := h.sup.Shutdown(context.Background()); err != nil {
		return err
	}
	fmt.Printf("stop %d services → all stopped: %s\n", n, time.Since(stopBegan).Round(time.Millisecond))
	return nil
}

// bareStarts starts n `sleep` processes with os/exec from 4 goroutines, as
// fast as Go can, and kills them: the physical limit for startMany on this
// machine at this moment.
func bareStarts(n int) (time.Duration, error) {
	cmds := make([]*exec.Cmd, n)
	errs := make([]error, 4)
	var wg sync.WaitGroup
	began := time.Now()
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < n; i += 4 {
				cmds[i] = exec.Command("sleep", "3600")
				if err := cmds[i].Start(); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(began)
	for _, c := range cmds {
		if c != nil && c.Process != nil {
			c.Process.Kill()
			c.Wait()
		}
	}
	for _, err := range errs {
		if err != nil {
			return 0, err
		}
	}
	return took, nil
}

func pct(sorted []time.Duration, p int) time.Duration {
	return sorted[(len(sorted)-1)*p/100]
}
