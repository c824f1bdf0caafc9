package run

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/testwait"
)

// appendTo writes s at the end of file p, as a slow writer does.
func appendTo(t *testing.T, p, s string) {
	t.Helper()
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestSettlerSlowWriter(t *testing.T) {
	dir := t.TempDir()
	glob := filepath.Join(dir, "*.csv")
	slow, quick := filepath.Join(dir, "slow.csv"), filepath.Join(dir, "quick.csv")
	old := filepath.Join(dir, "old.csv") // a resumed run's file
	appendTo(t, old, "done\n")
	if err := os.Mkdir(filepath.Join(dir, "dir.csv"), 0o755); err != nil {
		t.Fatal(err)
	}
	s := newSettler(2*time.Second, map[string]bool{old: true})
	now := t0
	scan := func() []string {
		paths, files := globFiles(glob)
		return s.scan(now, paths, files)
	}
	appendTo(t, quick, "all at once\n")
	// The slow writer adds a line every second for 5 s: each scan sees a
	// new size, so its file does not settle while it writes.
	for i := range 5 {
		appendTo(t, slow, "line\n")
		got := scan()
		if i == 2 && !slices.Equal(got, []string{quick}) {
			t.Fatalf("after 2 s: settled %v, want only %s", got, quick)
		} else if i != 2 && len(got) > 0 {
			t.Fatalf("after %d s: settled %v, want none", i, got)
		}
		now = now.Add(time.Second)
	}
	if got := scan(); len(got) > 0 {
		t.Fatalf("1 s after the last write: settled %v, want none", got)
	}
	now = now.Add(time.Second)
	if got := scan(); !slices.Equal(got, []string{slow}) {
		t.Fatalf("2 s after the last write: settled %v, want %s", got, slow)
	}
	now = now.Add(time.Minute)
	if got := scan(); len(got) > 0 {
		t.Fatalf("a minute on: settled %v again, want each version once", got)
	}
	// A new version of a file fires again once it settles; a file that
	// goes and comes back is new.
	appendTo(t, slow, "more\n")
	if err := os.Remove(quick); err != nil {
		t.Fatal(err)
	}
	scan()
	appendTo(t, quick, "all at once\n")
	scan()
	now = now.Add(2 * time.Second)
	if got := scan(); !slices.Equal(got, []string{quick, slow}) {
		t.Fatalf("settled %v, want %s and %s", got, quick, slow)
	}
}

func TestWorkflowFileTrigger(t *testing.T) {
	h := newWF(t)
	dir := t.TempDir()
	h.apply(`  w:
    on: [{file: {glob: "` + dir + `/*.csv", settle: 2s}}]
    steps: {a: {command: "load {{.trigger.file}} {{.trigger.name}}"}}
`)
	p := filepath.Join(dir, "in.csv")
	appendTo(t, p, "a,b\n")
	testwait.For(t, 10*time.Second, "a run for the file", func() bool {
		h.clock.Advance(pollEvery(2 * time.Second))
		return len(h.runs("w")) > 0
	})
	r := h.wait(h.runs("w")[0].ID)
	if r.Trigger != steward.TriggerFile || r.Status != steward.RunSucceeded {
		t.Fatalf("run %s %s, want a file run that succeeded", r.Trigger, r.Status)
	}
	if got, want := h.actor.called()[0].command, []string{"load", p, "in.csv"}; !slices.Equal(got, want) {
		t.Errorf("command %q, want %q", got, want)
	}
}

// runs returns the runs of workflow name, newest first.
func (h *wfHarness) runs(name string) []steward.Run {
	h.t.Helper()
	return h.waitRuns(name, 0)
}
