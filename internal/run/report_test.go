package run

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/testwait"
)

// TestReportAction runs report jobs through the engine's real actions:
// the report performer gets the job and the run, its output is the run's,
// its error fails the run; without a performer the run fails and says so.
func TestReportAction(t *testing.T) {
	testwait.NoLeak(t)
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, filepath.Join(dir, "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg, err := config.Parse("", []byte("data_dir: "+dir+"\njobs:\n  weekly: {report: {since: 7d, format: csv}}\n  broken: {report: {}}\n"), config.Registry{})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []steward.Run
	perform := func(_ context.Context, j *config.Job, r steward.Run) ([]byte, error) {
		mu.Lock()
		got = append(got, r)
		mu.Unlock()
		if j.Name == "broken" {
			return []byte("report half done\n"), errors.New("disk full")
		}
		if j.Report.Format != steward.ReportCSV || r.Name != "weekly" {
			return nil, errors.New("wrong job")
		}
		return []byte("report /r.csv: 10 bytes\n"), nil
	}
	for _, tt := range []struct {
		name    string
		report  func(context.Context, *config.Job, steward.Run) ([]byte, error)
		job     string
		status  steward.RunStatus
		errText string
		output  string
	}{
		{"report", perform, "weekly", steward.RunSucceeded, "", "report /r.csv: 10 bytes\n"},
		{"fails", perform, "broken", steward.RunFailed, "disk full", "report half done\n"},
		{"unavailable", nil, "weekly", steward.RunFailed, "reports are not available", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := New(Options{Store: st, Report: tt.report, Clock: &fakeClock{now: t0}})
			t.Cleanup(e.Close)
			if err := e.Apply(ctx, cfg); err != nil {
				t.Fatal(err)
			}
			jobs, err := e.Jobs(ctx)
			if err != nil || len(jobs) != 2 || jobs[0].Action != "report" {
				t.Fatalf("jobs = %+v, %v", jobs, err)
			}
			r, err := e.Trigger(ctx, tt.job)
			if err != nil {
				t.Fatal(err)
			}
			if r, err = e.Wait(ctx, r.ID); err != nil {
				t.Fatal(err)
			}
			if r.Status != tt.status || !strings.Contains(r.Error, tt.errText) {
				t.Errorf("run = %s %q, want %s %q", r.Status, r.Error, tt.status, tt.errText)
			}
			log, err := e.Logs(ctx, r.ID)
			if err != nil || string(log.Output) != tt.output {
				t.Errorf("output = %q (%v), want %q", log.Output, err, tt.output)
			}
		})
	}
	if len(got) != 2 || got[0].Name != "weekly" || got[0].ID == 0 {
		t.Errorf("performer got %+v", got)
	}
}
