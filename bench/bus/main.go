//go:build linux

// Command bus measures steward's bus (issue 14) in one run:
//
//   - publish: MSGS messages of SIZE bytes published asynchronously into a
//     JetStream file stream through steward's embedded server and its
//     in-process connection, against the same through standalone
//     nats-server processes over loopback TCP: Debian's (on PATH or
//     /usr/sbin) and one built from this module's nats-server version;
//   - request: request/reply round trips through bus.Server.Request (the
//     envelope, the correlation check), in-process and from a client over
//     bus.listen, p50 and p99;
//   - rss: VmRSS of `steward run` with SERVICES sleep services and bus: {},
//     against the same without bus:.
//
// Each figure is the median of RUNS runs.
//
//	go run ./bench/bus [-msgs 100000] [-size 128] [-requests 10000] [-services 100] [-runs 3] [-phases publish,request,rss]
package main

import (
	"context"
	"errors"
	"flag"
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

	"github.com/stewardhq/steward/bench/internal/subject"

	"github.com/stewardhq/steward/internal/bus"
	"github.com/stewardhq/steward/internal/config"
)

func main() {
	msgs := flag.Int("msgs", 100_000, "messages to publish per run")
	size := flag.Int("size", 128, "bytes per message")
	requests := flag.Int("requests", 10_000, "request/reply round trips per run")
	services := flag.Int("services", 100, "services of the rss phase")
	settle := flag.Duration("settle", 10*time.Second, "rss: time to let steward settle before reading its memory")
	runs := flag.Int("runs", 3, "runs of each measure; the median is reported")
	crashes := flag.Int("crashes", 500, "crash phase: crashes per run")
	bridged := flag.Int("bridge-msgs", 2000, "bridge phase: messages per run and way")
	phases := flag.String("phases", "publish,request,rss,crash,bridge", "comma-separated phases: publish, request, rss, crash, bridge")
	bin := flag.String("bin", "", "rss: steward binary (default: build ./cmd/steward)")
	flag.Parse()
	dir, err := os.MkdirTemp("", "steward-bench-bus")
	if err != nil {
		fmt.Fprintln(os.Stderr, "bus:", err)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	fmt.Printf("load average %s\n", subject.LoadAverage())
	for _, p := range strings.Split(*phases, ",") {
		switch p {
		case "publish":
			err = comparePublish(dir, *msgs, *size, *runs)
		case "request":
			err = compareRequest(dir, *requests, *runs)
		case "rss":
			err = compareRSS(dir, *bin, *services, *settle, *runs)
		case "crash":
			err = compareCrash(dir, *bin, *crashes, *runs)
		case "bridge":
			err = compareBridge(dir, *bin, *bridged, *runs)
		default:
			err = fmt.Errorf("-phases: unknown %q (want publish, request, rss, crash, bridge)", p)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bus:", err)
			os.Exit(1)
		}
	}
	fmt.Printf("load average %s\n", subject.LoadAverage())
}

// benchStream is the stream every publish run fills.
var benchStream = config.BusStream{Name: "BENCH", Subjects: []string{"bench.>"}}

// startEmbedded starts steward's bus in dir with benchStream, bus.listen on
// listen when it is set, and user "bench" among its services, whose
// password is in creds.
func startEmbedded(dir, listen string, creds *bus.Credentials) (*bus.Server, error) {
	st := benchStream
	return bus.Start(context.Background(), bus.Options{
		Config: config.Bus{Listen: listen, JetStream: config.BusJetStream{MaxMemory: 64 << 20, MaxStore: 4 << 30},
			Events: config.BusEvents{MaxAge: time.Hour}, Streams: map[string]*config.BusStream{st.Name: &st}, StreamOrder: []string{st.Name}},
		Node: "bench", StoreDir: dir, Credentials: creds, Services: []string{"bench"},
	})
}

// PublishEmbedded publishes n messages of size bytes asynchronously into a
// stream of a new embedded bus in dir: over its in-process connection, or
// (tcp) from a client of the same process connected over bus.listen on
// loopback, which tells the cost of the in-process connection from that
// of sharing one process with the server.
func PublishEmbedded(dir string, n, size int, tcp bool) (time.Duration, error) {
	listen := ""
	if tcp {
		listen = "127.0.0.1:0"
	}
	creds := bus.NewCredentials()
	srv, err := startEmbedded(dir, listen, creds)
	if err != nil {
		return 0, err
	}
	defer srv.Close()
	if !tcp {
		return publishAsync(srv.Conn(), n, size)
	}
	nc, err := nats.Connect(creds.URL(srv.Addr().String(), "bench", false))
	if err != nil {
		return 0, err
	}
	defer nc.Close()
	return publishAsync(nc, n, size)
}

// PublishStandalone publishes n messages of size bytes asynchronously into
// the same stream on a new nats-server process (binary bin, store in dir)
// over loopback TCP.
func PublishStandalone(bin, dir string, n, size int) (time.Duration, error) {
	url, stop, err := natsServer(bin, dir)
	if err != nil {
		return 0, err
	}
	defer stop()
	nc, err := nats.Connect(url)
	if err != nil {
		return 0, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return 0, err
	}
	// steward's stream settings, as bus.Start makes them.
	if _, err := js.CreateStream(context.Background(), jetstream.StreamConfig{Name: benchStream.Name, Subjects: benchStream.Subjects,
		Storage: jetstream.FileStorage, MaxBytes: -1}); err != nil {
		return 0, err
	}
	return publishAsync(nc, n, size)
}

// publishAsync publishes n messages on bench.x with at most 4,096 waiting
// for their acks, and returns the time until the last ack, once the stream
// holds them all.
func publishAsync(nc *nats.Conn, n, size int) (time.Duration, error) {
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4096))
	if err != nil {
		return 0, err
	}
	data := make([]byte, size)
	start := time.Now()
	for range n {
		if _, err := js.PublishAsync("bench.x", data); err != nil {
			return 0, err
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(5 * time.Minute):
		return 0, errors.New("the acks did not come within 5 minutes")
	}
	took := time.Since(start)
	st, err := js.Stream(context.Background(), benchStream.Name)
	if err != nil {
		return 0, err
	}
	info, err := st.Info(context.Background())
	if err != nil {
		return 0, err
	}
	if info.State.Msgs != uint64(n) {
		return 0, fmt.Errorf("the stream holds %d messages, want %d", info.State.Msgs, n)
	}
	return took, nil
}

// natsServer starts bin with JetStream in dir on a free loopback port and
// returns its URL and how to stop it.
func natsServer(bin, dir string) (string, func(), error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, err
	}
	conf := filepath.Join(dir, "nats.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, "host: 127.0.0.1\nport: %d\njetstream {store_dir: %q, max_memory_store: 64MB, max_file_store: 4GB}\n",
		port, filepath.Join(dir, "js")), 0o600); err != nil {
		return "", nil, err
	}
	cmd := exec.Command(bin, "-c", conf)
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		nc, err := nats.Connect(url)
		if err == nil {
			nc.Close()
			return url, stop, nil
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, fmt.Errorf("%s did not accept connections: %w", bin, err)
		}
	}
}

// peers returns the standalone nats-servers to publish to: Debian's, when
// installed, and this module's version built into dir.
func peers(dir string) ([][2]string, error) {
	var out [][2]string
	for _, p := range []string{"nats-server", "/usr/sbin/nats-server"} {
		if bin, err := exec.LookPath(p); err == nil {
			v, _ := exec.Command(bin, "--version").Output()
			out = append(out, [2]string{strings.TrimSpace(string(v)) + " (" + bin + ")", bin})
			break
		}
	}
	bin := filepath.Join(dir, "nats-server-module")
	if b, err := exec.Command("go", "build", "-o", bin, "github.com/nats-io/nats-server/v2").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build nats-server: %w\n%s", err, b)
	}
	v, _ := exec.Command(bin, "--version").Output()
	return append(out, [2]string{strings.TrimSpace(string(v)) + " (built from go.mod's version)", bin}), nil
}

func comparePublish(dir string, n, size, runs int) error {
	ps, err := peers(dir)
	if err != nil {
		return err
	}
	rate := func(d time.Duration) float64 { return float64(n) / d.Seconds() }
	var embedded, embeddedTCP []float64
	peer := make([][]float64, len(ps))
	// Interleaved, so that the machine's load falls on all alike.
	for r := range runs {
		d, err := PublishEmbedded(filepath.Join(dir, fmt.Sprint("e", r)), n, size, false)
		if err != nil {
			return fmt.Errorf("embedded: %w", err)
		}
		embedded = append(embedded, rate(d))
		if d, err = PublishEmbedded(filepath.Join(dir, fmt.Sprint("t", r)), n, size, true); err != nil {
			return fmt.Errorf("embedded over bus.listen: %w", err)
		}
		embeddedTCP = append(embeddedTCP, rate(d))
		for i, p := range ps {
			d, err := PublishStandalone(p[1], filepath.Join(dir, fmt.Sprint("p", i, "-", r)), n, size)
			if err != nil {
				return fmt.Errorf("%s: %w", p[0], err)
			}
			peer[i] = append(peer[i], rate(d))
		}
	}
	fmt.Printf("publish async into JetStream (file), %d × %d B, median of %d:\n", n, size, runs)
	e := median(embedded)
	fmt.Printf("  embedded, in-process connection: %.0f msgs/s (runs %s)\n", e, rates(embedded))
	fmt.Printf("  embedded, a client in the same process over bus.listen: %.0f msgs/s (runs %s)\n", median(embeddedTCP), rates(embeddedTCP))
	for i, p := range ps {
		m := median(peer[i])
		fmt.Printf("  standalone %s over loopback TCP: %.0f msgs/s (runs %s); embedded/standalone %.2f\n", p[0], m, rates(peer[i]), e/m)
	}
	return nil
}

// Latencies returns the time of each of n round trips through
// bus.Server.Request to a responder on steward's connection: in-process,
// or (tcp) from a client connected over bus.listen.
func Latencies(dir string, n int, tcp bool) ([]time.Duration, error) {
	listen := ""
	if tcp {
		listen = "127.0.0.1:0"
	}
	creds := bus.NewCredentials()
	srv, err := startEmbedded(dir, listen, creds)
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	// The responder parses the envelope and answers with one, as a
	// service using steward's envelope would.
	sub, err := srv.Conn().Subscribe("bench.echo", func(m *nats.Msg) {
		if in, err := bus.Parse(m); err == nil {
			bus.Reply(m, bus.Respond(in, in.Data, "bench"))
		}
	})
	if err != nil {
		return nil, err
	}
	defer sub.Unsubscribe()
	request := func() error {
		_, err := srv.Request(context.Background(), bus.Message{Subject: "bench.echo", Data: []byte("ping")}, 5*time.Second)
		return err
	}
	if tcp {
		nc, err := nats.Connect(creds.URL(srv.Addr().String(), "bench", false))
		if err != nil {
			return nil, err
		}
		defer nc.Close()
		request = func() error {
			_, err := nc.Request("bench.echo", []byte("ping"), 5*time.Second)
			return err
		}
	}
	out := make([]time.Duration, n)
	for i := range out {
		start := time.Now()
		if err := request(); err != nil {
			return nil, err
		}
		out[i] = time.Since(start)
	}
	return out, nil
}

func compareRequest(dir string, n, runs int) error {
	for _, tcp := range []bool{false, true} {
		var p50, p99 []float64
		for r := range runs {
			l, err := Latencies(filepath.Join(dir, fmt.Sprint("r", tcp, r)), n, tcp)
			if err != nil {
				return err
			}
			slices.Sort(l)
			p50 = append(p50, float64(l[len(l)/2].Microseconds()))
			p99 = append(p99, float64(l[len(l)*99/100].Microseconds()))
		}
		what := "in-process (bus.Server.Request, steward's envelope both ways)"
		if tcp {
			what = "from a client over bus.listen (loopback TCP) to a responder on steward's connection"
		}
		fmt.Printf("request/reply %s, %d round trips, median of %d: p50 %.0f µs, p99 %.0f µs (runs p50 %s, p99 %s µs)\n",
			what, n, runs, median(p50), median(p99), rates(p50), rates(p99))
	}
	return nil
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

func rates(v []float64) string {
	out := make([]string, len(v))
	for i, x := range v {
		out[i] = fmt.Sprintf("%.1f", x)
		if x >= 1000 {
			out[i] = fmt.Sprintf("%.0f", x)
		}
	}
	return strings.Join(out, ", ")
}
