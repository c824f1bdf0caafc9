//go:build linux

package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/bench/internal/subject"
	"github.com/stewardhq/steward/internal/client"
)

// stewardRun is a `steward run` of the bench.
type stewardRun struct {
	cmd *exec.Cmd
	c   *client.Client
	dir string
}

// startSteward starts bin with data_dir dir/data and cfg (the rest of the
// file), and waits until want services run and, when bus, the bus
// answers.
func startSteward(bin, dir, cfg string, want int, bus bool) (*stewardRun, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	file := filepath.Join(dir, "steward.yaml")
	if err := os.WriteFile(file, []byte("data_dir: "+filepath.Join(dir, "data")+"\n"+cfg), 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "run", "-c", file)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	r := &stewardRun{cmd: cmd, c: client.New(filepath.Join(dir, "data", "steward.sock")), dir: dir}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		list, err := r.c.Services(context.Background())
		running := 0
		for _, s := range list {
			if s.State == steward.StateRunning {
				running++
			}
		}
		ready := !bus
		if bus {
			_, berr := r.c.BusStreams(context.Background())
			ready = berr == nil
		}
		if err == nil && running >= want && ready {
			return r, nil
		}
		if time.Now().After(deadline) {
			r.stop()
			return nil, fmt.Errorf("only %d of %d services running (bus ready: %v): %v", running, want, ready, err)
		}
	}
}

func (r *stewardRun) stop() {
	r.cmd.Process.Signal(syscall.SIGTERM)
	r.cmd.Wait()
	r.c.Close()
}

// RSS starts `steward run` (binary bin, in dir) with n sleep services,
// with bus: {} when withBus, waits until they run and for settle, and
// reads its memory.
func RSS(bin, dir string, n int, withBus bool, settle time.Duration) (subject.Memory, error) {
	var cfg strings.Builder
	if withBus {
		cfg.WriteString("bus: {}\n")
	}
	cfg.WriteString("services:\n")
	for i := range n {
		fmt.Fprintf(&cfg, "  s%03d: {command: [sleep, \"100000\"]}\n", i)
	}
	r, err := startSteward(bin, dir, cfg.String(), n, withBus)
	if err != nil {
		return subject.Memory{}, err
	}
	defer r.stop()
	time.Sleep(settle)
	return subject.ReadMemory(r.cmd.Process.Pid)
}

func compareRSS(dir, bin string, n int, settle time.Duration, runs int) error {
	bin, err := subject.Binary(bin, dir)
	if err != nil {
		return err
	}
	var with, without []float64
	var last [2]subject.Memory
	for r := range runs {
		for i, b := range []bool{true, false} {
			m, err := RSS(bin, filepath.Join(dir, fmt.Sprint("rss", b, r)), n, b, settle)
			if err != nil {
				return err
			}
			last[i] = m
			if b {
				with = append(with, float64(m.RSS)/1e6)
			} else {
				without = append(without, float64(m.RSS)/1e6)
			}
		}
	}
	fmt.Printf("steward run, %d sleep services, VmRSS after %s, median of %d: with bus: {} %.1f MB (runs %s; last RssAnon %.1f, RssFile %.1f), without %.1f MB (runs %s; last RssAnon %.1f, RssFile %.1f)\n",
		n, settle, runs, median(with), rates(with), float64(last[0].Anon)/1e6, float64(last[0].File)/1e6,
		median(without), rates(without), float64(last[1].Anon)/1e6, float64(last[1].File)/1e6)
	return nil
}

// CrashLatencies runs a service of /bin/false with zero backoff under
// `steward run` (with bus: {} when withBus, every event then also
// published into JetStream) until it has crashed n times, and returns the
// time from each crash to its replacement running, from steward's exit
// records: the end of run k to the start of run k+1.
func CrashLatencies(bin, dir string, n int, withBus bool) ([]time.Duration, error) {
	cfg := fmt.Sprintf("services:\n  crasher: {command: [/bin/false], restart: {policy: always, backoff: 0s, max_restarts: %d, window: 1h}}\n", n+10)
	if withBus {
		cfg = "bus: {}\n" + cfg
	}
	r, err := startSteward(bin, dir, cfg, 0, withBus)
	if err != nil {
		return nil, err
	}
	defer r.stop()
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		exits, err := r.c.Exits(context.Background(), "crasher", n+1)
		if err != nil {
			return nil, err
		}
		if len(exits) > n {
			slices.SortFunc(exits, func(a, b steward.Exit) int { return a.Started.Compare(b.Started) })
			lat := make([]time.Duration, n)
			for k := range lat {
				lat[k] = exits[k+1].Started.Sub(exits[k].Ended)
			}
			return lat, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%d exits in 2 minutes, want %d", len(exits), n+1)
		}
	}
}

func compareCrash(dir, bin string, n, runs int) error {
	bin, err := subject.Binary(bin, dir)
	if err != nil {
		return err
	}
	var p50 [2][]float64
	var p99 [2][]float64
	for r := range runs {
		for i, b := range []bool{true, false} { // interleaved
			lat, err := CrashLatencies(bin, filepath.Join(dir, fmt.Sprint("crash", b, r)), n, b)
			if err != nil {
				return err
			}
			slices.Sort(lat)
			p50[i] = append(p50[i], float64(lat[len(lat)/2].Microseconds()))
			p99[i] = append(p99[i], float64(lat[len(lat)*99/100].Microseconds()))
		}
	}
	fmt.Printf("crash → replacement running (zero backoff, steward's exit records), %d crashes, median of %d: with bus: {} p50 %.0f µs, p99 %.0f µs; without p50 %.0f µs, p99 %.0f µs; with/without p50 %.2f, p99 %.2f (runs with p50 %s, without p50 %s)\n",
		n, runs, median(p50[0]), median(p99[0]), median(p50[1]), median(p99[1]),
		median(p50[0])/median(p50[1]), median(p99[0])/median(p99[1]), rates(p50[0]), rates(p50[1]))
	return nil
}

// Bridge publishes n messages one at a time into a stream of a `steward
// run` with the bus listening, each waiting for its stored ack: through
// the HTTP bridge (POST /v1/bus/publish over the socket, as `steward bus
// pub` does) and from a NATS client over bus.listen with the credentials
// a service gets. It returns the time of each way.
func Bridge(bin, dir string, n int) (httpTook, natsTook time.Duration, err error) {
	url := filepath.Join(dir, "url")
	cfg := fmt.Sprintf(`bus:
  listen: 127.0.0.1:%d
  streams: {bench: {subjects: ["bench.>"]}}
services:
  client: {command: [sh, -c, 'printf %%s "$NATS_URL" > %s.tmp && mv %s.tmp %s && exec sleep 100000']}
`, freePort(), url, url, url)
	r, err := startSteward(bin, dir, cfg, 1, true)
	if err != nil {
		return 0, 0, err
	}
	defer r.stop()
	var natsURL []byte
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if natsURL, err = os.ReadFile(url); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		return 0, 0, err
	}
	nc, err := nats.Connect(string(natsURL))
	if err != nil {
		return 0, 0, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return 0, 0, err
	}
	ctx := context.Background()
	data := strings.Repeat("x", 128)
	start := time.Now()
	for range n {
		p, err := r.c.BusPublish(ctx, steward.BusPublishRequest{Subject: "bench.http", Data: data})
		if err != nil {
			return 0, 0, err
		}
		if p.Stream != "bench" {
			return 0, 0, fmt.Errorf("published into %q, want bench", p.Stream)
		}
	}
	httpTook = time.Since(start)
	start = time.Now()
	for range n {
		if _, err := js.Publish(ctx, "bench.nats", []byte(data)); err != nil {
			return 0, 0, err
		}
	}
	natsTook = time.Since(start)
	st, err := js.Stream(ctx, "bench")
	if err != nil {
		return 0, 0, err
	}
	info, err := st.Info(ctx)
	if err != nil {
		return 0, 0, err
	}
	if info.State.Msgs != uint64(2*n) {
		return 0, 0, fmt.Errorf("the stream holds %d messages, want %d", info.State.Msgs, 2*n)
	}
	return httpTook, natsTook, nil
}

// freePort is a TCP port free on loopback a moment ago.
func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func compareBridge(dir, bin string, n, runs int) error {
	bin, err := subject.Binary(bin, dir)
	if err != nil {
		return err
	}
	var viaHTTP, viaNATS []float64
	for r := range runs {
		h, c, err := Bridge(bin, filepath.Join(dir, fmt.Sprint("bridge", r)), n)
		if err != nil {
			return err
		}
		viaHTTP = append(viaHTTP, float64(h.Microseconds())/float64(n))
		viaNATS = append(viaNATS, float64(c.Microseconds())/float64(n))
	}
	h, c := median(viaHTTP), median(viaNATS)
	fmt.Printf("publish with a stored ack, one at a time, %d × 128 B, median of %d: HTTP bridge (POST /v1/bus/publish on the socket) %.0f µs, NATS client over bus.listen %.0f µs; the bridge adds %.0f µs (%.2f ×) (runs HTTP %s, NATS %s µs)\n",
		n, runs, h, c, h-c, h/c, rates(viaHTTP), rates(viaNATS))
	return nil
}
