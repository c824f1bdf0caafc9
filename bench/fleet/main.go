// Command fleet measures a fleet of stewards on this machine: -servers
// clustered nats-servers (Debian's package) and -nodes stewards joined to
// them by bus.url, each supervising -services `sleep` services, one of them
// in the registry. It reports:
//
//   - the start: every steward launched → all of them `up` in node 0's
//     `steward nodes`;
//
//   - `steward ps --fleet -o json` and `steward --node X ps -o json` on
//     node 0, wall, median and p95 of -runs (X is the last node);
//
//   - total RSS and CPU of the stewards, and of the nats-servers, at idle
//     over -window;
//
//   - the death of the last node by SIGKILL → `down` in node 0's nodes,
//     and → its instance gone from node 0's registry.
//
//     go run ./bench/fleet [-nodes 100] [-services 10] [-servers 3] [-runs 21] [-window 30s] [-bin PATH]
//
// Without -bin it builds ./cmd/steward first. Linux only (/proc).
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/stewardhq/steward/bench/internal/subject"
)

func main() {
	var o Options
	flag.IntVar(&o.Nodes, "nodes", 100, "stewards")
	flag.IntVar(&o.Services, "services", 10, "`sleep` services per steward")
	flag.IntVar(&o.Servers, "servers", 3, "clustered nats-servers the stewards join by bus.url")
	flag.IntVar(&o.Runs, "runs", 21, "runs of each client command")
	flag.DurationVar(&o.Window, "window", 30*time.Second, "idle window for RSS and CPU")
	bin := flag.String("bin", "", "steward binary (default: build ./cmd/steward)")
	flag.Parse()
	if err := run(o, *bin); err != nil {
		fmt.Fprintln(os.Stderr, "fleet:", err)
		os.Exit(1)
	}
}

func run(o Options, bin string) error {
	dir, err := os.MkdirTemp("", "steward-fleet")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if o.Bin, err = subject.Binary(bin, dir); err != nil {
		return err
	}
	r, err := Measure(o, dir)
	if err != nil {
		return err
	}
	fmt.Print(r)
	return nil
}
