package supervise

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/logcap"
	"github.com/stewardhq/steward/internal/proc"
)

// probeEvery is how often a tcp, http or exec readiness probe is retried.
const probeEvery = 50 * time.Millisecond

// describeReady says which readiness check r asks for; false when none.
func describeReady(r config.Ready) (string, bool) {
	switch {
	case r.After > 0:
		return "after " + r.After.String(), true
	case r.TCP != "":
		return "tcp " + r.TCP, true
	case r.HTTP != "":
		return "http " + r.HTTP, true
	case len(r.Exec) > 0:
		return "exec " + strings.Join(r.Exec, " "), true
	case r.Log != "":
		return "log " + r.Log, true
	case r.Notify:
		return "READY=1 on NOTIFY_SOCKET", true
	}
	return "", false
}

// output is what a log check reads: the live lines of the instance, and the
// recent lines with the time the instance started, for lines the live
// stream had to drop under a burst.
type output struct {
	lines <-chan logcap.Line
	tail  func(n int) []logcap.Line
	since time.Time
}

// checkReady returns nil once the service described by cfg is ready, or an
// error saying why not when ctx ends first. An exec probe runs with env in
// dir, its process tree tagged with tag (see proc.Command) and killed after
// each try.
func checkReady(ctx context.Context, cfg *config.Service, env []string, dir, tag string, out output) error {
	r := cfg.Ready
	var err error
	switch {
	case r.After > 0:
		t := time.NewTimer(r.After)
		defer t.Stop()
		select {
		case <-t.C:
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	case r.TCP != "":
		err = poll(ctx, func(ctx context.Context) error {
			var d net.Dialer
			c, err := d.DialContext(ctx, "tcp", r.TCP)
			if err == nil {
				c.Close()
			}
			return err
		})
	case r.HTTP != "":
		err = poll(ctx, func(ctx context.Context) error { return probeHTTP(ctx, r.HTTP) })
	case len(r.Exec) > 0:
		err = poll(ctx, func(ctx context.Context) error {
			res, err := proc.Run(ctx, proc.Command{Path: r.Exec[0], Args: r.Exec, Env: env, Dir: dir, Tag: tag})
			if err != nil {
				return err
			}
			return res.Failed()
		})
	case r.Log != "":
		err = waitLine(ctx, regexp.MustCompile(r.Log), out)
	case r.Notify:
		// The loop hears READY=1 and ends ctx; this only times out.
		<-ctx.Done()
		err = ctx.Err()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("not ready within %s", r.Timeout)
	}
	return err
}

// poll runs probe until it succeeds or ctx ends; the error then names the
// last probe's failure.
func poll(ctx context.Context, probe func(context.Context) error) error {
	t := time.NewTicker(probeEvery)
	defer t.Stop()
	for {
		err := probe(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("%w (last try: %w)", ctx.Err(), err)
			}
			return ctx.Err()
		}
	}
}

func probeHTTP(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("%s answered %s", url, resp.Status)
	}
	return nil
}

// ringCheckEvery is how often waitLine looks for its line in the ring too:
// a subscriber that falls behind loses lines, and learns of it only from
// the next line it gets, which may never come when the lost one was the
// last the service wrote.
const ringCheckEvery = 250 * time.Millisecond

// waitLine waits for a line of the instance's output that re matches.
func waitLine(ctx context.Context, re *regexp.Regexp, out output) error {
	// The ring keeps times to the millisecond.
	since := out.since.Truncate(time.Millisecond)
	inRing := func() bool {
		for _, t := range out.tail(config.DefaultLogRing) {
			if !t.Time.Before(since) && re.MatchString(t.Text) {
				return true
			}
		}
		return false
	}
	tick := time.NewTicker(ringCheckEvery)
	defer tick.Stop()
	for {
		select {
		case l, ok := <-out.lines:
			if !ok {
				return errors.New("output stream ended before a line matched")
			}
			// Lines were dropped before this one: look for them in the ring.
			if re.MatchString(l.Text) || l.Missed > 0 && inRing() {
				return nil
			}
		case <-tick.C:
			if inRing() {
				return nil
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
