package supervise

import (
	"os"

	"github.com/stewardhq/steward/internal/proc"
)

// Starter starts the process tree of one instance of a service. A
// Supervisor uses proc.Start unless Options.Starter says otherwise; tests
// pass a fake one.
type Starter interface {
	Start(spec proc.Spec) (Process, error)
}

// Process is one running instance of a service: a process tree, or a
// built-in kind's runner. It has four methods where three would do for most
// interfaces here, because a stop needs both a polite signal and a kill.
type Process interface {
	// Pid is the main process's ID; 0 for a built-in kind's runner.
	Pid() int
	// Signal sends the stop signal (a name such as "TERM") to the tree.
	Signal(sig string) error
	// KillTree kills what is left of the tree; it is safe to call after
	// the main process exited.
	KillTree() error
	// Wait waits for the main process to exit; a nil ExitStatus means its
	// status is unknown (see the error).
	Wait() (ExitStatus, error)
}

// ExitStatus is how a main process ended; *os.ProcessState is one.
type ExitStatus interface {
	// ExitCode is the exit status, or -1 when a signal ended the process.
	ExitCode() int
	// String says how it ended: "exit status 1", "signal: killed".
	String() string
}

var (
	_ Starter    = procStarter{}
	_ Process    = osProcess{}
	_ ExitStatus = (*os.ProcessState)(nil)
)

// procStarter starts process trees with proc.Start.
type procStarter struct{}

func (procStarter) Start(spec proc.Spec) (Process, error) {
	p, err := proc.Start(spec)
	if err != nil {
		return nil, err
	}
	return osProcess{p}, nil
}

// osProcess is a *proc.Process as a Process.
type osProcess struct{ *proc.Process }

func (p osProcess) Wait() (ExitStatus, error) {
	st, err := p.Process.Wait()
	if st == nil {
		return nil, err // not a typed nil in the interface
	}
	return st, err
}
