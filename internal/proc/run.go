package proc

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
)

// drainGrace bounds how long Run goes on reading the output pipe, and
// writing the input pipe, once the command's tree is dead: a process outside
// the tree that inherited an end of a pipe must not keep Run waiting.
const drainGrace = time.Second

// Command describes a one-shot command for Run: a probe, a check, a
// collector, a notifier program.
type Command struct {
	// Path, Args, Env and Dir are as in Spec.
	Path string
	Args []string
	Env  []string
	Dir  string
	// User and Group are as in Spec: POSIX only.
	User, Group string
	// Stdin is copied to the command's standard input; nil means the null
	// device.
	Stdin io.Reader
	// MaxOutput is how many bytes of the command's output Result.Output
	// keeps; the rest is read and discarded, so that a chatty command
	// neither grows steward's memory nor blocks on a full pipe. 0 sends
	// the output to the null device.
	MaxOutput int
	// KeepLast makes Output the last MaxOutput bytes instead of the first:
	// for a job's log, where the end says how it ended.
	KeepLast bool
	// StdoutOnly leaves standard error out of Output: it goes to the null
	// device. Otherwise Output holds both streams as they were written.
	StdoutOnly bool
	// Tag prefixes the tag the command's tree carries (STEWARD_TAG), which
	// Run makes unique to the run by adding ".<random>". Give it the prefix
	// of the services' tags, so that the start-up Sweep of the next run
	// finds what a killed steward left of the command; empty means
	// "oneshot.<steward's pid>", which only KillTree uses.
	Tag string
}

// Result is the outcome of a Run.
type Result struct {
	// ExitCode is the main process's exit status, or -1 when a signal
	// ended it or it did not end by itself.
	ExitCode int
	// State is the main process's state as Wait returned it; nil when the
	// command did not start.
	State *os.ProcessState
	// Output is the first MaxOutput bytes of the command's output (the
	// last, with KeepLast).
	Output []byte
	// Truncated says that the command wrote more than MaxOutput bytes.
	Truncated bool
}

// Failed returns nil when the main process exited with status 0, and
// otherwise an error saying how it ended: "exit status 3", "signal:
// killed".
func (r Result) Failed() error {
	switch {
	case r.State == nil:
		return errors.New("not started")
	case r.ExitCode != 0:
		return errors.New(r.State.String())
	}
	return nil
}

// Run runs c to its end and returns its exit status and output. The command
// runs as Start runs a service: as the leader of a process group of its own,
// with a tag in its environment, on Linux with the parent-death signal, on
// Windows in a job object. When its main process exits, or when ctx is done
// first, Run kills the whole tree (KillTree: the group, the descendants and
// the tagged processes), so that nothing the command started outlives it,
// and reaps the main process. It returns once the tree is dead.
//
// The error is nil when the command ran to its end, whatever its exit
// status. It wraps ctx.Err() when ctx was done before the command ended;
// Result then holds the output read until then. Run is safe for
// concurrent use.
func Run(ctx context.Context, c Command) (Result, error) {
	res := Result{ExitCode: -1}
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("run %s: %w", c.Path, err)
	}
	spec := Spec{Path: c.Path, Args: c.Args, Env: c.Env, Dir: c.Dir, User: c.User, Group: c.Group,
		Tag: cmp.Or(c.Tag, "oneshot."+strconv.Itoa(os.Getpid())) + "." + rand.Text()}
	var (
		stdin  *pipeCopy
		stdout *pipeCopy
		err    error
	)
	if c.Stdin != nil {
		if stdin, err = copyToPipe(c.Stdin); err != nil {
			return res, fmt.Errorf("run %s: %w", c.Path, err)
		}
		defer stdin.finish()
		spec.Stdin = stdin.child
	}
	out := &boundedBuffer{max: c.MaxOutput, last: c.KeepLast}
	if c.MaxOutput > 0 {
		if stdout, err = copyFromPipe(out); err != nil {
			return res, fmt.Errorf("run %s: %w", c.Path, err)
		}
		defer stdout.finish()
		spec.Stdout = stdout.child
		if !c.StdoutOnly {
			spec.Stderr = stdout.child
		}
	}
	p, err := Start(spec)
	stdin.closeChild()
	stdout.closeChild()
	if err != nil {
		return res, err // it names the operation and the program
	}
	type waited struct {
		st  *os.ProcessState
		err error
	}
	done := make(chan waited, 1)
	go func() {
		st, err := p.Wait()
		done <- waited{st, err}
	}()
	var ctxErr error
	var w waited
	select {
	case w = <-done:
	case <-ctx.Done():
		ctxErr = fmt.Errorf("run %s: %w", c.Path, ctx.Err())
	}
	killErr := p.KillTree()
	if ctxErr != nil {
		w = <-done
	}
	stdin.finish()
	stdout.finish()
	res.State = w.st
	if w.st != nil {
		res.ExitCode = w.st.ExitCode()
	}
	res.Output, res.Truncated = out.b, out.truncated
	return res, errors.Join(ctxErr, w.err, killErr) // Wait and KillTree name theirs
}

// boundedBuffer keeps the first max bytes written to it (the last, with
// last) and discards the rest, noting that it did.
type boundedBuffer struct {
	b         []byte
	max       int
	last      bool
	truncated bool
}

func (w *boundedBuffer) Write(p []byte) (int, error) {
	if w.last {
		if len(p) >= w.max {
			w.truncated = w.truncated || len(p) > w.max || len(w.b) > 0
			w.b = append(w.b[:0], p[len(p)-w.max:]...)
			return len(p), nil
		}
		if drop := len(w.b) + len(p) - w.max; drop > 0 {
			w.b = append(w.b[:0], w.b[drop:]...)
			w.truncated = true
		}
		w.b = append(w.b, p...)
		return len(p), nil
	}
	room := w.max - len(w.b)
	if room > 0 {
		w.b = append(w.b, p[:min(room, len(p))]...)
	}
	if len(p) > room {
		w.truncated = true
	}
	return len(p), nil
}

// pipeCopy is a pipe between steward and a command with a goroutine copying
// through steward's end. A nil *pipeCopy does nothing.
type pipeCopy struct {
	child *os.File // the command's end, closed once the command has it
	own   *os.File // steward's end
	done  chan struct{}
}

// copyFromPipe returns a pipe whose output a goroutine copies to w until
// every writer has closed it.
func copyFromPipe(w io.Writer) (*pipeCopy, error) {
	r, cw, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("output pipe: %w", err)
	}
	pc := &pipeCopy{child: cw, own: r, done: make(chan struct{})}
	go func() {
		defer close(pc.done)
		io.Copy(w, r)
	}()
	return pc, nil
}

// copyToPipe returns a pipe into which a goroutine copies r, then closes
// it.
func copyToPipe(r io.Reader) (*pipeCopy, error) {
	cr, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("input pipe: %w", err)
	}
	pc := &pipeCopy{child: cr, own: w, done: make(chan struct{})}
	go func() {
		defer close(pc.done)
		io.Copy(w, r)
		w.Close()
	}()
	return pc, nil
}

func (pc *pipeCopy) closeChild() {
	if pc != nil && pc.child != nil {
		pc.child.Close()
		pc.child = nil
	}
}

// finish waits for the copy to end, at most drainGrace where the OS lets a
// pipe have a deadline (Windows does not: there the job object has killed
// every holder of the command's end), and closes steward's end. It may be
// called again.
func (pc *pipeCopy) finish() {
	if pc == nil || pc.own == nil {
		return
	}
	pc.closeChild()
	_ = pc.own.SetDeadline(time.Now().Add(drainGrace))
	<-pc.done
	pc.own.Close()
	pc.own = nil
}
