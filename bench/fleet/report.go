package main

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// String is the result as the lines bench/README.md quotes.
func (r Result) String() string {
	var b strings.Builder
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
	fmt.Fprintf(&b, "fleet: %d stewards × %d sleep services, bus.url to %d clustered nats-servers\n", r.Nodes, r.Services, r.Servers)
	fmt.Fprintf(&b, "start: all launched → all %d up on node 0: %s\n", r.Nodes, r.Start.Round(time.Millisecond))
	fmt.Fprintf(&b, "ps --fleet -o json: median %s, p95 %s (%d runs)\n", ms(quantile(r.Fleet, 0.5)), ms(quantile(r.Fleet, 0.95)), len(r.Fleet))
	fmt.Fprintf(&b, "--node X ps -o json: median %s, p95 %s (%d runs)\n", ms(quantile(r.Node, 0.5)), ms(quantile(r.Node, 0.95)), len(r.Node))
	pct := func(cpu float64) float64 { return 100 * cpu / r.Window.Seconds() }
	fmt.Fprintf(&b, "idle over %s: stewards %.1f MB total (%.1f MB each), %.2f %% of a core total; nats-servers %.1f MB, %.2f %%\n",
		r.Window, mb(r.StewardsRSS), mb(r.StewardsRSS)/float64(max(r.Nodes, 1)), pct(r.StewardsCPU), mb(r.ServersRSS), pct(r.ServersCPU))
	fmt.Fprintf(&b, "kill -9 of one node → down in nodes: %s; → gone from the registry: %s\n", ms(r.Down), ms(r.Deregister))
	fmt.Fprintf(&b, "load average: %s before, %s after\n", r.LoadBefore, r.LoadAfter)
	return b.String()
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }

// quantile is the q-quantile of ds (nearest rank), 0 for none.
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}
