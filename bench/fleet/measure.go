package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/bench/internal/subject"
	"github.com/stewardhq/steward/internal/client"
)

// Options are what Measure runs.
type Options struct {
	Bin                      string // the steward binary
	Nodes, Services, Servers int
	Runs                     int
	Window                   time.Duration
}

// Result is what Measure found.
type Result struct {
	Options
	Start                 time.Duration // all launched → all up on node 0
	Fleet, Node           []time.Duration
	StewardsRSS           int64 // total VmRSS, bytes
	ServersRSS            int64
	StewardsCPU           float64 // total CPU seconds over the window
	ServersCPU            float64
	Down, Deregister      time.Duration // SIGKILL → down in nodes, → gone from the registry
	LoadBefore, LoadAfter string
}

// Measure starts the servers and the fleet under dir, measures and stops
// them all.
func Measure(o Options, dir string) (r Result, err error) {
	r.Options, r.LoadBefore = o, subject.LoadAverage()
	servers, urls, err := startServers(o.Servers, dir)
	defer func() {
		for _, s := range servers {
			s.Process.Signal(syscall.SIGTERM)
			s.Wait()
		}
	}()
	if err != nil {
		return r, err
	}
	nodes := make([]*subject.Steward, 0, o.Nodes)
	defer func() {
		for _, n := range nodes {
			n.Stop()
		}
	}()
	began := time.Now()
	for i := range o.Nodes {
		n, err := subject.Start(o.Bin, filepath.Join(dir, nodeName(i)), nodeConfig(i, o.Services, urls))
		if err != nil {
			return r, err
		}
		nodes = append(nodes, n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(o.Nodes)*3*time.Second+30*time.Second)
	defer cancel()
	first, last := nodes[0], nodeName(o.Nodes-1)
	if err := poll(ctx, 20*time.Millisecond, func() error { return upCount(ctx, first, o.Nodes) }); err != nil {
		return r, fmt.Errorf("the fleet coming up: %w", err)
	}
	r.Start = time.Since(began)
	if err := poll(ctx, 20*time.Millisecond, func() error { return registered(ctx, first, o.Nodes) }); err != nil {
		return r, fmt.Errorf("the registry filling: %w", err)
	}
	cli := func(args ...string) (time.Duration, error) {
		cmd := exec.Command(o.Bin, append([]string{"-c", filepath.Join(dir, nodeName(0), "steward.yaml")}, args...)...)
		t0 := time.Now()
		out, err := cmd.CombinedOutput()
		if err != nil {
			return 0, fmt.Errorf("steward %s: %w\n%s", strings.Join(args, " "), err, out)
		}
		return time.Since(t0), nil
	}
	for range o.Runs {
		d, err := cli("ps", "--fleet", "-o", "json")
		if err != nil {
			return r, err
		}
		r.Fleet = append(r.Fleet, d)
		if d, err = cli("--node", last, "ps", "-o", "json"); err != nil {
			return r, err
		}
		r.Node = append(r.Node, d)
	}
	stewards := make([]int, len(nodes))
	for i, n := range nodes {
		stewards[i] = n.Cmd.Process.Pid
	}
	nats := make([]int, len(servers))
	for i, s := range servers {
		nats[i] = s.Process.Pid
	}
	if r.StewardsRSS, r.ServersRSS, r.StewardsCPU, r.ServersCPU, err = idle(o.Window, stewards, nats); err != nil {
		return r, err
	}
	victim := nodes[len(nodes)-1]
	victim.Cmd.Process.Kill()
	killed := time.Now()
	victim.Cmd.Wait()
	var down, gone bool
	err = poll(ctx, 5*time.Millisecond, func() error {
		if !down {
			if list, err := first.Client.Nodes(ctx); err == nil && stateOf(list, last) == "down" {
				down, r.Down = true, time.Since(killed)
			}
		}
		if !gone {
			if list, err := first.Client.Registry(ctx, "bench", client.RegistryFilter{}); err == nil && !slices.ContainsFunc(list, func(in steward.Instance) bool { return in.Node == last }) {
				gone, r.Deregister = true, time.Since(killed)
			}
		}
		if !down || !gone {
			return errors.New("the killed node is still listed")
		}
		return nil
	})
	r.LoadAfter = subject.LoadAverage()
	return r, err
}

// idle returns the total VmRSS of each group of processes at the end of
// window, and their CPU time over it.
func idle(window time.Duration, a, b []int) (rssA, rssB int64, cpuA, cpuB float64, err error) {
	cpu := func(pids []int) (float64, error) {
		var sum float64
		for _, p := range pids {
			s, err := subject.CPUSeconds(p)
			if err != nil {
				return 0, err
			}
			sum += s
		}
		return sum, nil
	}
	rss := func(pids []int) (int64, error) {
		var sum int64
		for _, p := range pids {
			m, err := subject.ReadMemory(p)
			if err != nil {
				return 0, err
			}
			sum += m.RSS
		}
		return sum, nil
	}
	a0, err := cpu(a)
	if err != nil {
		return
	}
	b0, err := cpu(b)
	if err != nil {
		return
	}
	time.Sleep(window) // the window measured, not a wait for something
	if cpuA, err = cpu(a); err != nil {
		return
	}
	if cpuB, err = cpu(b); err != nil {
		return
	}
	cpuA, cpuB = cpuA-a0, cpuB-b0
	if rssA, err = rss(a); err != nil {
		return
	}
	rssB, err = rss(b)
	return
}

func nodeName(i int) string { return fmt.Sprintf("n%03d", i) }

// nodeConfig is node i's config: bus.url to every server (starting at
// its own), and services `sleep` services, the first in the registry.
func nodeConfig(i, services int, urls []string) string {
	order := append(slices.Clone(urls[i%len(urls):]), urls[:i%len(urls)]...)
	var b strings.Builder
	fmt.Fprintf(&b, "node: %s\nbus:\n  url: %s\n  user: steward\n  password: bench\nservices:\n", nodeName(i), strings.Join(order, ","))
	for s := range services {
		fmt.Fprintf(&b, "  s%02d: {command: [sleep, infinity]", s)
		if s == 0 {
			b.WriteString(", registry: {name: bench, port: 8080}")
		}
		b.WriteString("}\n")
	}
	return b.String()
}

// startServers starts n nats-servers clustered on loopback, with
// JetStream, and returns them and their client URLs.
func startServers(n int, dir string) ([]*exec.Cmd, []string, error) {
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		if bin = "/usr/sbin/nats-server"; !exists(bin) {
			return nil, nil, errors.New("nats-server is not installed (apt-get install nats-server)")
		}
	}
	clients, routes := freePorts(n), freePorts(n)
	var cmds []*exec.Cmd
	var urls []string
	for i := range n {
		var rs []string
		for j := range n {
			if j != i {
				rs = append(rs, fmt.Sprintf("nats-route://127.0.0.1:%d", routes[j]))
			}
		}
		sd := filepath.Join(dir, fmt.Sprintf("nats%d", i))
		conf := fmt.Sprintf(`server_name: s%d
listen: 127.0.0.1:%d
max_payload: 8MB
jetstream {store_dir: %q, max_memory_store: 256MB, max_file_store: 4GB}
authorization {users: [{user: steward, password: bench}]}
`, i, clients[i], sd)
		if n > 1 {
			conf += fmt.Sprintf("cluster {name: bench, listen: 127.0.0.1:%d, routes: [%s]}\n", routes[i], strings.Join(rs, ", "))
		}
		if err := os.MkdirAll(sd, 0o700); err != nil {
			return cmds, nil, err
		}
		file := filepath.Join(sd, "nats.conf")
		if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
			return cmds, nil, err
		}
		cmd := exec.Command(bin, "-c", file)
		if err := cmd.Start(); err != nil {
			return cmds, nil, err
		}
		cmds = append(cmds, cmd)
		urls = append(urls, fmt.Sprintf("nats://127.0.0.1:%d", clients[i]))
	}
	return cmds, urls, nil
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// freePorts returns n loopback TCP ports that were free a moment ago.
func freePorts(n int) []int {
	var out []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			panic(err)
		}
		out = append(out, l.Addr().(*net.TCPAddr).Port)
		l.Close()
	}
	return out
}

// upCount fails until node lists want nodes up.
func upCount(ctx context.Context, node *subject.Steward, want int) error {
	list, err := node.Client.Nodes(ctx)
	if err != nil {
		return err
	}
	up := 0
	for _, n := range list {
		if n.State == "up" {
			up++
		}
	}
	if up != want {
		return fmt.Errorf("%d of %d nodes up", up, want)
	}
	return nil
}

// registered fails until node's registry lists want healthy instances.
func registered(ctx context.Context, node *subject.Steward, want int) error {
	list, err := node.Client.Registry(ctx, "bench", client.RegistryFilter{})
	if err != nil {
		return err
	}
	healthy := 0
	for _, in := range list {
		if in.Healthy {
			healthy++
		}
	}
	if healthy != want {
		return fmt.Errorf("%d of %d instances healthy", healthy, want)
	}
	return nil
}

func stateOf(list []steward.Node, name string) string {
	for _, n := range list {
		if n.Name == name {
			return n.State
		}
	}
	return ""
}

// poll calls fn every every until it succeeds or ctx ends.
func poll(ctx context.Context, every time.Duration, fn func() error) error {
	var last error
	for {
		err := fn()
		if err == nil {
			return nil
		}
		if ctx.Err() == nil {
			last = err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %v", ctx.Err(), last)
		case <-time.After(every):
		}
	}
}
