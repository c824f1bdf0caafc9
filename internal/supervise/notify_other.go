//go:build !linux

package supervise

import (
	"context"
	"errors"
	"fmt"
	"runtime"
)

// notifySocket is the NOTIFY_SOCKET of one instance; only Linux has one.
type notifySocket struct{}

// openNotify fails: the sd_notify protocol needs SO_PASSCRED to tell who
// sent a datagram, which only Linux offers.
func (s *service) openNotify(int) (*notifySocket, error) {
	return nil, fmt.Errorf("ready.notify: %w: %s has no credentials on unix datagrams (SO_PASSCRED)", errors.ErrUnsupported, runtime.GOOS)
}

// Env is never called: openNotify fails.
func (ns *notifySocket) Env() string { return "" }

// Close does nothing.
func (ns *notifySocket) Close() error { return nil }

// serve returns at once.
func (ns *notifySocket) serve(context.Context, int, int, chan<- notifyMsg, func(string, ...any)) {}
