package proc

import (
	"os"

	"golang.org/x/sys/unix"
)

// Capabilities says what process control has on this machine: process
// groups, pidfds, the child subreaper, the parent-death signal, and what
// holds a tree together (TreeMechanism). Call it after Prepare.
func Capabilities() []Capability {
	pidfd := Capability{Name: "pidfd", Detail: "kernel 5.3 or newer"}
	if fd, err := unix.PidfdOpen(os.Getpid(), 0); err == nil {
		unix.Close(fd)
		pidfd.Available = true
	} else {
		pidfd.Detail = "pidfd_open: " + err.Error() + "; waiting blocks a thread per process"
	}
	sub := Capability{Name: "subreaper", Available: reaper.on.Load(), Detail: "PR_SET_CHILD_SUBREAPER"}
	if !sub.Available {
		sub.Detail = "not set up (steward not running here)"
	}
	tree := TreeMechanism()
	limits, ok := LimitControllers()
	return []Capability{
		{Name: "process groups", Available: true},
		pidfd,
		sub,
		{Name: "parent-death signal", Available: true, Detail: "PR_SET_PDEATHSIG"},
		{Name: "tree mechanism", Available: tree != "marker", Detail: tree},
		{Name: "job objects", Detail: "Windows only"},
		{Name: "kernel limits", Available: ok, Detail: limits},
	}
}
