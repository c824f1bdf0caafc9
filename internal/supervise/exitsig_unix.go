//go:build unix

package supervise

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// exitSignal names the signal that ended a process ("SIGKILL") and
// gives its number; "" when none did or st does not say.
func exitSignal(st ExitStatus) (string, int) {
	sys, ok := st.(interface{ Sys() any })
	if !ok {
		return "", 0
	}
	ws, ok := sys.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() {
		return "", 0
	}
	return signalName(int(ws.Signal())), int(ws.Signal())
}

// signalName names signal number n, "" for none.
func signalName(n int) string {
	return unix.SignalName(syscall.Signal(n))
}
