package api_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/api/apitest"
	"github.com/stewardhq/steward/internal/client"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/ipc"
	"github.com/stewardhq/steward/internal/run"
	"github.com/stewardhq/steward/internal/store"
)

func TestRunsAPI(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, filepath.Join(dir, "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := run.New(run.Options{Store: st, Act: func(_ context.Context, j *config.Job, _ steward.Run) run.Outcome {
		code := 0
		if j.Name == "bad" {
			code = 2
			return run.Outcome{Err: errors.New("exit status 2"), ExitCode: &code}
		}
		return run.Outcome{ExitCode: &code, Output: []byte("done\n")}
	}})
	t.Cleanup(e.Close)
	cfg, err := config.Parse("", []byte("data_dir: "+dir+"\njobs:\n  ok: {schedule: '@hourly', timezone: UTC, command: x}\n  bad: {command: x}\n"), config.Registry{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Apply(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	configs, err := apitest.NewConfigs(filepath.Join(dir, "s.yaml"), []byte(configText))
	if err != nil {
		t.Fatal(err)
	}
	sock := apitest.Serve(t, api.New(api.Options{
		Services: apitest.NewServices(), Events: &apitest.Events{}, Configs: configs, Runs: e,
	}).Handler())
	c := client.New(sock)
	t.Cleanup(c.Close)

	ok, err := c.RunJob(ctx, "ok", true)
	if err != nil || ok.Status != steward.RunSucceeded || ok.Trigger != steward.TriggerManual {
		t.Fatalf("run ok --wait = %+v, %v", ok, err)
	}
	bad, err := c.RunJob(ctx, "bad", true)
	if err != nil || bad.Status != steward.RunFailed || bad.ExitCode == nil || *bad.ExitCode != 2 {
		t.Fatalf("run bad --wait = %+v, %v", bad, err)
	}
	if list, err := c.Runs(ctx, steward.RunQuery{}); err != nil || len(list) != 2 || list[0].ID != bad.ID {
		t.Errorf("runs = %+v, %v; want bad then ok", list, err)
	}
	if list, err := c.Runs(ctx, steward.RunQuery{Name: "ok", Limit: 5}); err != nil || len(list) != 1 || list[0].ID != ok.ID {
		t.Errorf("runs of ok = %+v, %v", list, err)
	}
	if r, err := c.Run(ctx, ok.ID); err != nil || r.Status != steward.RunSucceeded {
		t.Errorf("run %d = %+v, %v", ok.ID, r, err)
	}
	if l, err := c.RunLogs(ctx, ok.ID); err != nil || l.Output != "done\n" {
		t.Errorf("logs = %+v, %v", l, err)
	}
	jobs, err := c.Jobs(ctx)
	if err != nil || len(jobs) != 2 || jobs[0].Name != "ok" || jobs[0].Next.IsZero() || jobs[0].Last.ID != ok.ID || jobs[1].Action != "command" {
		t.Errorf("jobs = %+v, %v", jobs, err)
	}
	if nx, err := c.JobNext(ctx, "ok", 3); err != nil || len(nx.Next) != 3 || nx.Next[1].Sub(nx.Next[0]).Hours() != 1 {
		t.Errorf("next = %+v, %v", nx, err)
	}

	// Bad input changes nothing and gets a 4xx.
	for _, tt := range []struct {
		name string
		err  error
		code string
	}{
		{"unknown job", func() error { _, err := c.RunJob(ctx, "nope", false); return err }(), steward.ENOTFOUND},
		{"next of an unknown job", func() error { _, err := c.JobNext(ctx, "nope", 1); return err }(), steward.ENOTFOUND},
		{"n=0", func() error { _, err := c.JobNext(ctx, "ok", 0); return err }(), steward.EINVALID},
		{"n too big", func() error { _, err := c.JobNext(ctx, "ok", 5000); return err }(), steward.EINVALID},
		{"unknown run", func() error { _, err := c.Run(ctx, 99); return err }(), steward.ENOTFOUND},
		{"logs of an unknown run", func() error { _, err := c.RunLogs(ctx, 99); return err }(), steward.ENOTFOUND},
		{"cancel of an ended run", func() error { _, err := c.CancelRun(ctx, ok.ID); return err }(), steward.ECONFLICT},
	} {
		if got := steward.ErrorCode(tt.err); got != tt.code {
			t.Errorf("%s: %v, want %s", tt.name, tt.err, tt.code)
		}
	}
	for _, rq := range []string{"GET /v1/runs?limit=-1", "GET /v1/runs/x", "GET /v1/runs/0/logs", "POST /v1/jobs/ok/run?wait=maybe",
		"GET /v1/jobs/ok/next?n=x"} {
		if got := rawStatus(t, sock, rq); got != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", rq, got)
		}
	}
	if list, _ := c.Runs(ctx, steward.RunQuery{}); len(list) != 2 {
		t.Errorf("%d runs after the bad requests, want 2", len(list))
	}
}

func TestRunsUnavailable(t *testing.T) {
	configs, err := apitest.NewConfigs(filepath.Join(t.TempDir(), "s.yaml"), []byte(configText))
	if err != nil {
		t.Fatal(err)
	}
	sock := apitest.Serve(t, api.New(api.Options{Services: apitest.NewServices(), Events: &apitest.Events{}, Configs: configs}).Handler())
	for _, tt := range []struct {
		rq   string
		want int
	}{
		{"GET /v1/jobs", 503},
		{"POST /v1/jobs/a/run", 503},
		{"GET /v1/jobs/a/next", 503},
		{"GET /v1/runs", 503},
		{"GET /v1/runs/1", 503},
		{"GET /v1/runs/1/logs", 503},
		{"POST /v1/runs/1/cancel", 503},
		{"GET /v1/workflows", 503},
		{"POST /v1/workflows/a/run", 503},
		{"DELETE /v1/runs/1", 405},
	} {
		if got := rawStatus(t, sock, tt.rq); got != tt.want {
			t.Errorf("%s: status %d, want %d", tt.rq, got, tt.want)
		}
	}
}

// rawStatus sends rq, "METHOD PATH", to the API at sock and returns the
// response's status.
func rawStatus(t *testing.T, sock, rq string) int {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return ipc.Dial(ctx, sock)
	}}}
	defer hc.CloseIdleConnections()
	method, path, _ := strings.Cut(rq, " ")
	req, _ := http.NewRequest(method, "http://steward"+path, nil)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
