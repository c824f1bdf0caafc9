// Package check provides probes: an HTTP URL answering 2xx, a TCP port
// accepting connections, a command following the Nagios plugin convention,
// a file that exists (fresh enough, of a size within bounds), and a process
// running by name. Each run gives a Result. The supervisor's health checks,
// the standalone checks of the configuration (Runner) and their alerts use
// it.
package check

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/proc"
)

// Status is the outcome of a probe, with the Nagios plugin exit codes as
// values.
type Status int

// The statuses.
const (
	OK       Status = 0
	Warning  Status = 1
	Critical Status = 2
	Unknown  Status = 3
)

func (s Status) String() string {
	switch s {
	case OK:
		return "OK"
	case Warning:
		return "WARNING"
	case Critical:
		return "CRITICAL"
	}
	return "UNKNOWN"
}

// MarshalText writes the status by name.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a status by name.
func (s *Status) UnmarshalText(b []byte) error {
	for _, st := range []Status{OK, Warning, Critical, Unknown} {
		if string(b) == st.String() {
			*s = st
			return nil
		}
	}
	return fmt.Errorf("unknown check status %q", b)
}

// Result is the outcome of one run of a probe.
type Result struct {
	Status   Status        `json:"status"`
	Message  string        `json:"message"`
	Duration time.Duration `json:"duration"`
	Time     time.Time     `json:"time"`
}

// Probe checks one thing.
type Probe interface {
	// Run probes once, within ctx's deadline.
	Run(ctx context.Context) Result
}

// Run runs p with timeout and stamps the result with its start time and
// duration; a probe that overruns its timeout is CRITICAL.
func Run(ctx context.Context, p Probe, timeout time.Duration, now func() time.Time) Result {
	if now == nil {
		now = time.Now
	}
	start := now()
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	r := p.Run(tctx)
	if tctx.Err() == context.DeadlineExceeded && ctx.Err() == nil && r.Status == OK {
		r = Result{Status: Critical, Message: fmt.Sprintf("timed out after %s", timeout)}
	} else if tctx.Err() == context.DeadlineExceeded && ctx.Err() == nil {
		r.Message = fmt.Sprintf("timed out after %s: %s", timeout, r.Message)
	}
	r.Time = start
	r.Duration = time.Since(start)
	return r
}

// HTTP probes a URL: OK when a GET answers 2xx.
type HTTP struct {
	URL    string
	Client *http.Client // nil means a client that follows no redirects
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// Run implements Probe.
func (h *HTTP) Run(ctx context.Context) Result {
	c := h.Client
	if c == nil {
		c = noRedirects
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.URL, nil)
	if err != nil {
		return Result{Status: Unknown, Message: err.Error()}
	}
	resp, err := c.Do(req)
	if err != nil {
		return Result{Status: Critical, Message: describeNetErr(err)}
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return Result{Status: Critical, Message: fmt.Sprintf("%s answered %s", h.URL, resp.Status)}
	}
	return Result{Status: OK, Message: fmt.Sprintf("%s answered %s", h.URL, resp.Status)}
}

// TCP probes a port: OK when a connection is accepted.
type TCP struct{ Addr string }

// Run implements Probe.
func (t *TCP) Run(ctx context.Context) Result {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", t.Addr)
	if err != nil {
		return Result{Status: Critical, Message: describeNetErr(err)}
	}
	c.Close()
	return Result{Status: OK, Message: t.Addr + " accepts connections"}
}

// describeNetErr says what went wrong without repeating the request.
func describeNetErr(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// Exec runs a command that follows the Nagios plugin convention: its exit
// status is the Status (0 OK, 1 WARNING, 2 CRITICAL, 3 or any other
// UNKNOWN) and the first line of its output the message. The command runs
// through proc.Run: whatever it leaves running is killed when it exits or
// overruns its timeout.
type Exec struct {
	Command []string
	Env     []string // nil means steward's environment
	Dir     string
	// Tag prefixes the tag of the command's process tree (see proc.Command).
	Tag string
}

// maxOutput bounds the output of an exec probe that is read.
const maxOutput = 64 << 10

// Run implements Probe.
func (e *Exec) Run(ctx context.Context) Result {
	res, err := proc.Run(ctx, proc.Command{
		Path: e.Command[0], Args: e.Command, Env: e.Env, Dir: e.Dir,
		MaxOutput: maxOutput, Tag: e.Tag,
	})
	msg := firstLine(res.Output)
	switch {
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		return Result{Status: Critical, Message: "killed: " + ctx.Err().Error()}
	case err != nil:
		return Result{Status: Unknown, Message: err.Error()}
	case res.ExitCode < 0:
		return Result{Status: Unknown, Message: res.State.String()}
	}
	st := Status(res.ExitCode)
	if st < OK || st > Unknown {
		st = Unknown
	}
	if msg == "" && st != OK {
		msg = fmt.Sprintf("exit status %d", res.ExitCode)
	}
	return Result{Status: st, Message: msg}
}

// firstLine returns the first line of b, trimmed, as valid UTF-8 of at
// most 500 bytes. A Nagios plugin may add performance data after a '|'.
func firstLine(b []byte) string {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	s := strings.TrimSpace(strings.ToValidUTF8(string(line), "?"))
	if len(s) > 500 {
		s = s[:500]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	return s
}

// File probes a file: CRITICAL when it is missing, older than MaxAge, or
// smaller than MinSize or larger than MaxSize (each when set).
type File struct {
	Path             string
	MaxAge           time.Duration
	MinSize, MaxSize int64
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Run implements Probe.
func (f *File) Run(ctx context.Context) Result {
	fi, err := os.Stat(f.Path)
	if errors.Is(err, os.ErrNotExist) {
		return Result{Status: Critical, Message: f.Path + " does not exist"}
	}
	if err != nil {
		return Result{Status: Unknown, Message: err.Error()}
	}
	now := time.Now
	if f.Now != nil {
		now = f.Now
	}
	age := now().Sub(fi.ModTime())
	switch {
	case f.MaxAge > 0 && age > f.MaxAge:
		return Result{Status: Critical, Message: fmt.Sprintf("%s is %s old, more than %s", f.Path, age.Round(time.Second), f.MaxAge)}
	case f.MinSize > 0 && fi.Size() < f.MinSize:
		return Result{Status: Critical, Message: fmt.Sprintf("%s holds %d bytes, less than %d", f.Path, fi.Size(), f.MinSize)}
	case f.MaxSize > 0 && fi.Size() > f.MaxSize:
		return Result{Status: Critical, Message: fmt.Sprintf("%s holds %d bytes, more than %d", f.Path, fi.Size(), f.MaxSize)}
	}
	return Result{Status: OK, Message: fmt.Sprintf("%s: %d bytes, modified %s ago", f.Path, fi.Size(), age.Round(time.Second))}
}

// Process probes that a process of the given name runs: its executable's
// name, or (for names with a path) its full path.
type Process struct{ Name string }

// Run implements Probe.
func (p *Process) Run(ctx context.Context) Result {
	n, err := countProcesses(ctx, p.Name)
	switch {
	case err != nil:
		return Result{Status: Unknown, Message: err.Error()}
	case n == 0:
		return Result{Status: Critical, Message: fmt.Sprintf("no process %q runs", p.Name)}
	}
	return Result{Status: OK, Message: fmt.Sprintf("%d process(es) %q run", n, p.Name)}
}

// FromHealth returns the probe of a service's health check; env and dir
// are the service's, for an exec probe, and tag prefixes the tag of its
// process tree.
func FromHealth(h *config.Health, env []string, dir, tag string) Probe {
	switch {
	case h.HTTP != "":
		return &HTTP{URL: h.HTTP}
	case h.TCP != "":
		return &TCP{Addr: h.TCP}
	}
	return &Exec{Command: h.Exec, Env: env, Dir: dir, Tag: tag}
}

// FromCheck returns the probe of a configured check; now is the clock of
// file checks, and tag prefixes the tag of an exec check's process tree.
func FromCheck(c *config.Check, now func() time.Time, tag string) Probe {
	switch {
	case c.HTTP != "":
		return &HTTP{URL: c.HTTP}
	case c.TCP != "":
		return &TCP{Addr: c.TCP}
	case c.File != "":
		return &File{Path: c.File, MaxAge: c.MaxAge, MinSize: c.MinSize, MaxSize: c.MaxSize, Now: now}
	case c.Process != "":
		return &Process{Name: c.Process}
	case c.OSService != "":
		return &OSService{Name: c.OSService}
	}
	return &Exec{Command: c.Exec, Tag: tag}
}
