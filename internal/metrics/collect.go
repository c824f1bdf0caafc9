package metrics

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/proc"
)

// maxCollectorOutput is how much of one run's output a collector reads;
// the rest is discarded.
const maxCollectorOutput = 1 << 20

// Collect runs a collector command once and returns the samples its output
// lines give ("name value [key=value ...]"), each labelled collector=NAME.
// Lines that do not parse are skipped and reported in the error, which
// does not void the others. The command's process tree carries the tag
// TAG.collector.NAME.<unique> (see proc.Command) and is killed when it
// exits or overruns its timeout.
func Collect(ctx context.Context, tag string, c config.Collector) ([]Sample, error) {
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	res, err := proc.Run(ctx, proc.Command{
		Path: c.Command[0], Args: c.Command,
		MaxOutput: maxCollectorOutput, StdoutOnly: true, Tag: tag + ".collector." + c.Name,
	})
	if err == nil {
		err = res.Failed()
	}
	if err != nil {
		return nil, fmt.Errorf("collector %s: %w", c.Name, err)
	}
	extra := map[string]string{"collector": c.Name}
	var samples []Sample
	var errs []error
	sc := bufio.NewScanner(bytes.NewReader(res.Output))
	sc.Buffer(make([]byte, 0, 4096), maxCollectorOutput)
	for n := 1; sc.Scan(); n++ {
		s, ok, err := ParseLine(sc.Text(), extra)
		if err != nil {
			errs = append(errs, fmt.Errorf("collector %s: line %d: %w", c.Name, n, err))
		}
		if ok {
			samples = append(samples, s)
		}
	}
	return samples, errors.Join(errs...)
}

// RunCollectors runs each collector every its interval until ctx ends and
// records what they print in h; tag is as for Collect.
func RunCollectors(ctx context.Context, tag string, cs []config.Collector, h *History, log *slog.Logger) {
	done := make(chan struct{})
	for _, c := range cs {
		go func() {
			defer func() { done <- struct{}{} }()
			t := time.NewTicker(c.Every)
			defer t.Stop()
			for {
				samples, err := Collect(ctx, tag, c)
				if err != nil && ctx.Err() == nil {
					log.Warn("metrics collector", "collector", c.Name, "err", err)
				}
				if len(samples) > 0 {
					if err := h.Record(ctx, samples...); err != nil {
						log.Warn("metrics collector", "collector", c.Name, "err", err)
					}
				}
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		}()
	}
	for range cs {
		<-done
	}
}
