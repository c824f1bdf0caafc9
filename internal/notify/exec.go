package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/stewardhq/steward/internal/proc"
)

// DefaultExecTimeout bounds one run of an exec notifier when Timeout is 0.
const DefaultExecTimeout = 30 * time.Second

// ExecConfig configures an Exec notifier.
type ExecConfig struct {
	// Command is the program and its arguments, run without a shell. A
	// relative program path with a separator starts from the Resolver's
	// Dir; one without is looked up in PATH.
	Command []string `json:"command"`
	// Env is added to steward's environment; values may be secrets.
	Env     map[string]Secret `json:"env,omitempty"`
	Dir     string            `json:"dir,omitempty"`     // working directory; default the Resolver's Dir
	Timeout time.Duration     `json:"timeout,omitempty"` // 0 means DefaultExecTimeout
}

// Validate reports every problem with c.
func (c ExecConfig) Validate() error {
	var p Problems
	if len(c.Command) == 0 || c.Command[0] == "" {
		p.Add("command", "is required")
	}
	for name, v := range c.Env {
		if !validEnvName(name) {
			p.Add("env."+name, "invalid variable name")
		}
		if err := CheckSecretRefs(v); err != nil {
			p.Add("env."+name, "%v", err)
		}
	}
	if c.Timeout < 0 {
		p.Add("timeout", "must not be negative")
	}
	return p.Err()
}

// Exec runs a program for each message, with the message as JSON on its
// standard input and these variables in its environment:
// STEWARD_NOTIFY_KEY, STEWARD_NOTIFY_STATUS, STEWARD_NOTIFY_SEVERITY and
// STEWARD_NOTIFY_TITLE. Exit status 0 is success. It is safe for
// concurrent use.
type Exec struct {
	path    string
	args    []string
	env     []string
	dir     string
	timeout time.Duration
}

var _ Notifier = (*Exec)(nil)

// NewExec validates c, expands its secrets with r and returns the notifier.
// It does not look the program up: a missing one fails each Notify, as it
// may be installed later.
func NewExec(c ExecConfig, r Resolver) (*Exec, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	e := &Exec{path: c.Command[0], args: c.Command[1:], dir: c.Dir, timeout: c.Timeout}
	if e.timeout == 0 {
		e.timeout = DefaultExecTimeout
	}
	if r.Dir != "" {
		if strings.ContainsAny(e.path, `/\`) && !filepath.IsAbs(e.path) {
			e.path = filepath.Join(r.Dir, e.path)
		}
		if e.dir == "" {
			e.dir = r.Dir
		} else if !filepath.IsAbs(e.dir) {
			e.dir = filepath.Join(r.Dir, e.dir)
		}
	}
	for name, v := range c.Env {
		val, err := ExpandSecrets(v, r)
		if err != nil {
			return nil, &FieldError{Field: "env." + name, Msg: err.Error()}
		}
		e.env = append(e.env, name+"="+val.Reveal())
	}
	return e, nil
}

// maxExecOutput is how much of the program's output an error quotes.
const maxExecOutput = 1024

// Notify runs the program and waits for it, at most the timeout. The
// program runs through proc.Run: whatever it leaves running is killed when
// it exits or times out.
func (e *Exec) Notify(ctx context.Context, m Message) error {
	body, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("exec: encode: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	env := append(os.Environ(),
		"STEWARD_NOTIFY_KEY="+m.Key,
		"STEWARD_NOTIFY_STATUS="+string(m.Status),
		"STEWARD_NOTIFY_SEVERITY="+m.Severity,
		"STEWARD_NOTIFY_TITLE="+m.Title(),
	)
	res, err := proc.Run(ctx, proc.Command{
		Path:      e.path,
		Args:      append([]string{e.path}, e.args...),
		Env:       append(env, e.env...),
		Dir:       e.dir,
		Stdin:     bytes.NewReader(append(body, '\n')),
		MaxOutput: maxExecOutput,
	})
	switch {
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil:
		err = fmt.Errorf("timed out after %v: %w", e.timeout, err)
	case err == nil:
		if err = res.Failed(); err == nil {
			return nil
		}
	}
	if o := strings.TrimSpace(string(res.Output)); o != "" {
		return fmt.Errorf("exec: %s: %w: %s", filepath.Base(e.path), err, oneLine(o))
	}
	return fmt.Errorf("exec: %s: %w", filepath.Base(e.path), err)
}
