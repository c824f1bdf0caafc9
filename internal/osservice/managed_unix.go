//go:build !windows

package osservice

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
)

// Environment variables systemd sets for a service: the socket a
// Type=notify service reports its state on, and, when standard error goes
// to the journal, its device and inode.
const (
	notifySocketVar  = "NOTIFY_SOCKET"
	journalStreamVar = "JOURNAL_STREAM"
)

// RunManaged runs steward under the service manager: run, with a Host
// whose Ready tells systemd (Type=notify) that steward runs and whose log
// gives the journal each line's priority. systemd and
// launchd stop steward with SIGTERM, which run handles like a stop in a
// terminal. NOTIFY_SOCKET is removed from the environment first, so that
// the services steward starts do not inherit it.
func RunManaged(name string, stderr io.Writer, run func(context.Context, *Host) error) error {
	sock := os.Getenv(notifySocketVar)
	os.Unsetenv(notifySocketVar)
	h := &Host{log: stderr}
	if os.Getenv(journalStreamVar) != "" {
		h.log = &lineWriter{sink: journalSink(stderr)}
	}
	if sock != "" {
		h.ready = func() {
			if err := sdNotify(sock, "READY=1"); err != nil {
				slog.New(slog.NewTextHandler(h.log, nil)).Error("tell systemd that steward runs", "err", err)
			}
		}
	}
	return run(context.Background(), h)
}

// sdNotify sends state to systemd's notify socket (sd_notify(3)); an
// address starting with @ is in the abstract namespace, as net takes it.
func sdNotify(sock, state string) error {
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("notify %s: %w", sock, err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(state)); err != nil {
		return fmt.Errorf("notify %s: %w", sock, err)
	}
	return nil
}
