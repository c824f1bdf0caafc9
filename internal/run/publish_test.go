package run

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/store"
)

// TestJobPublish: a job's publish action publishes its message, templates
// filled with the job and the run; without a bus the run fails saying so.
func TestJobPublish(t *testing.T) {
	ctx := context.Background()
	for _, withBus := range []bool{true, false} {
		st, err := store.Open(ctx, filepath.Join(t.TempDir(), "steward.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		bus := &fakeBus{}
		o := Options{Store: st}
		if withBus {
			o.Bus = bus
		}
		e := New(o)
		t.Cleanup(e.Close)
		cfg, err := config.Parse("", []byte("bus: {}\njobs:\n  tick: {publish: {subject: \"ticks.{{.job}}\", data: \"run {{.run.id}}\"}}\n"), config.Registry{})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Apply(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		r, err := e.Trigger(ctx, "tick")
		if err != nil {
			t.Fatal(err)
		}
		if r, err = e.Wait(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
		jobs, _ := e.Jobs(ctx)
		if len(jobs) != 1 || jobs[0].Action != "publish" {
			t.Errorf("jobs %+v, want tick with the action publish", jobs)
		}
		if !withBus {
			if r.Status != steward.RunFailed || !strings.Contains(r.Error, "no bus") {
				t.Errorf("without a bus: %s %q, want failed for no bus", r.Status, r.Error)
			}
			continue
		}
		want := "ticks.tick run " + strconv.FormatInt(r.ID, 10)
		if r.Status != steward.RunSucceeded || len(bus.published) != 1 || bus.published[0] != want {
			t.Errorf("run %s %q, published %q; want succeeded and %q", r.Status, r.Error, bus.published, want)
		}
	}
}
