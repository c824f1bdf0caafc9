package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/backup"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/proc"
)

// MaxOutput is how many bytes of a run's output are kept: a command's
// last ones, an http response's first.
const MaxOutput = 64 << 10

// Outcome is how one attempt of a job's action ended.
type Outcome struct {
	// Err is nil for success. A context error (the run's timeout or its
	// cancellation) is told apart by the engine.
	Err error
	// ExitCode is a command's exit status or an http action's response
	// status; nil when there is none.
	ExitCode  *int
	Output    []byte
	Truncated bool
}

// Actor performs one attempt of a job's action for run r. It must return
// soon once ctx is done.
type Actor func(ctx context.Context, j *config.Job, r steward.Run) Outcome

// Services are the supervisor's actions that a service job takes.
type Services interface {
	Start(ctx context.Context, names []string) error
	Stop(ctx context.Context, names []string) error
	Restart(ctx context.Context, names []string) error
}

// actions performs the actions of jobs: commands through proc.Run, http
// requests, service actions through the supervisor, backups, and reports
// through report.
type actions struct {
	services Services
	report   func(ctx context.Context, j *config.Job, r steward.Run) ([]byte, error)
	publish  func(ctx context.Context, j *config.Job, r steward.Run) error
	workbook func(ctx context.Context, j *config.Job, r steward.Run) Outcome
	http     *http.Client
	tag      string
}

// act performs j's action for r.
func (a *actions) act(ctx context.Context, j *config.Job, r steward.Run) Outcome {
	switch {
	case j.Command != nil:
		return a.command(ctx, j, r)
	case j.HTTP != nil:
		return a.request(ctx, j.HTTP)
	case j.Service != nil:
		return a.service(ctx, j.Service)
	case j.Backup != nil:
		out, err := backup.Run(ctx, j, r.Started, r.ID)
		return Outcome{Output: out, Err: err}
	case j.Report != nil:
		if a.report == nil {
			return Outcome{Err: errors.New("reports are not available")}
		}
		out, err := a.report(ctx, j, r)
		return Outcome{Output: out, Err: err}
	case j.Publish != nil:
		return Outcome{Err: a.publish(ctx, j, r)}
	case j.Workbook != nil:
		return a.workbook(ctx, j, r)
	}
	return Outcome{Err: fmt.Errorf("job %s has no action", j.Name)}
}

func (a *actions) command(ctx context.Context, j *config.Job, r steward.Run) Outcome {
	c := j.Command
	env := runEnv(os.Environ(), c.Env, map[string]string{
		"STEWARD_JOB":     j.Name,
		"STEWARD_RUN_ID":  strconv.FormatInt(r.ID, 10),
		"STEWARD_ATTEMPT": strconv.Itoa(r.Attempt),
	})
	res, err := proc.Run(ctx, proc.Command{Path: c.Command[0], Args: c.Command, Env: env, Dir: c.WorkingDir,
		User: c.User, Group: c.Group, MaxOutput: MaxOutput, KeepLast: true, Tag: a.tag})
	out := Outcome{Output: res.Output, Truncated: res.Truncated}
	if res.State != nil {
		code := res.ExitCode
		out.ExitCode = &code
	}
	switch {
	case err != nil:
		out.Err = err
	default:
		out.Err = res.Failed()
	}
	return out
}

// runEnv is base, then env's entries, then extra's; later entries win.
func runEnv(base []string, env, extra map[string]string) []string {
	set := map[string]string{}
	var order []string
	add := func(k, v string) {
		if _, ok := set[k]; !ok {
			order = append(order, k)
		}
		set[k] = v
	}
	for _, kv := range base {
		k, v, _ := strings.Cut(kv, "=")
		add(k, v)
	}
	for _, m := range []map[string]string{env, extra} {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			add(k, m[k])
		}
	}
	out := make([]string, len(order))
	for i, k := range order {
		out[i] = k + "=" + set[k]
	}
	return out
}

func (a *actions) request(ctx context.Context, h *config.JobHTTP) Outcome {
	ctx, cancel := context.WithTimeout(ctx, h.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, h.Method, h.URL, nil)
	if err != nil {
		return Outcome{Err: fmt.Errorf("http %s %s: %w", h.Method, h.URL, err)}
	}
	req.Header.Set("User-Agent", "steward-job")
	resp, err := a.http.Do(req)
	if err != nil {
		return Outcome{Err: fmt.Errorf("http %s %s: %w", h.Method, h.URL, err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxOutput+1))
	code := resp.StatusCode
	out := Outcome{ExitCode: &code, Output: body, Truncated: len(body) > MaxOutput}
	if out.Truncated {
		out.Output = body[:MaxOutput]
	}
	switch {
	case code != h.Expect:
		out.Err = fmt.Errorf("http %s %s: status %d, want %d", h.Method, h.URL, code, h.Expect)
	case err != nil && !errors.Is(err, io.EOF):
		out.Err = fmt.Errorf("http %s %s: read body: %w", h.Method, h.URL, err)
	}
	return out
}

func (a *actions) service(ctx context.Context, s *config.JobService) Outcome {
	if a.services == nil {
		return Outcome{Err: errors.New("no supervisor to " + s.Verb + " " + s.Service)}
	}
	names := []string{s.Service}
	var err error
	switch s.Verb {
	case "start":
		err = a.services.Start(ctx, names)
	case "stop":
		err = a.services.Stop(ctx, names)
	default:
		err = a.services.Restart(ctx, names)
	}
	if err != nil {
		err = fmt.Errorf("%s %s: %w", s.Verb, s.Service, err)
	}
	return Outcome{Err: err}
}
