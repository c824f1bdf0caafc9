//go:build !linux && !darwin && !windows

package proc

import "os"

// Process is a started process. This OS has no implementation.
type Process struct{}

// Start fails: this OS has no implementation.
func Start(spec Spec) (*Process, error) { return nil, errUnsupported("start a process tree") }

// Pid returns 0.
func (p *Process) Pid() int { return 0 }

// Wait fails: this OS has no implementation.
func (p *Process) Wait() (*os.ProcessState, error) {
	return nil, errUnsupported("wait for a process tree")
}

// Signal fails: this OS has no implementation.
func (p *Process) Signal(sig string) error { return errUnsupported("signal a process group") }

// KillTree fails: this OS has no implementation.
func (p *Process) KillTree() error { return errUnsupported("kill a process tree") }

// Sweep fails: this OS has no implementation.
func Sweep(match func(tag string) bool) ([]int, error) {
	return nil, errUnsupported("sweep tagged processes")
}

// Prepare does nothing.
func Prepare() error { return nil }

// TreeMechanism returns "none": this OS has no implementation.
func TreeMechanism() string { return "none" }
