package supervise

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/logcap"
)

// TestWaitLineLostLastLine has the matching line dropped from the
// subscription, as when it was the last line of a burst the subscriber fell
// behind on: no later line tells of the loss, and waitLine finds it in the
// ring all the same.
func TestWaitLineLostLastLine(t *testing.T) {
	since := time.Now()
	ring := []logcap.Line{
		{Time: since.Add(-time.Second), Text: "ready (an earlier instance)"},
		{Time: since.Add(time.Millisecond), Text: "burst line"},
	}
	tail := func(int) []logcap.Line { return ring }
	lines := make(chan logcap.Line) // nothing more arrives
	re := regexp.MustCompile("^ready")

	ctx, cancel := context.WithTimeout(context.Background(), 3*ringCheckEvery)
	defer cancel()
	if err := waitLine(ctx, re, output{lines: lines, tail: tail, since: since}); err == nil {
		t.Fatal("matched a line older than the instance")
	}

	ring = append(ring, logcap.Line{Time: since.Add(2 * time.Millisecond), Text: "ready now"})
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := waitLine(ctx, re, output{lines: lines, tail: tail, since: since}); err != nil {
		t.Fatalf("the line in the ring was not found: %v", err)
	}
}
