//go:build !windows

package osservice

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRunManagedNotifiesSystemd(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Setenv(notifySocketVar, sock)

	var stderr strings.Builder
	err = RunManaged("steward", &stderr, func(ctx context.Context, h *Host) error {
		if v, ok := os.LookupEnv(notifySocketVar); ok {
			t.Errorf("%s=%s is left for the services steward starts", notifySocketVar, v)
		}
		if h.Log() != &stderr {
			t.Error("the log is not standard error")
		}
		h.Ready()
		h.Ready()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := conn.Read(buf)
	if err != nil || string(buf[:n]) != "READY=1" {
		t.Errorf("got %q, %v; want READY=1", buf[:n], err)
	}
	conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if n, err := conn.Read(buf); err == nil {
		t.Errorf("a second notification: %q", buf[:n])
	}
}

func TestRunManagedWithoutSystemd(t *testing.T) {
	t.Setenv(notifySocketVar, "")
	t.Setenv(journalStreamVar, "")
	var stderr strings.Builder
	err := RunManaged("steward", &stderr, func(_ context.Context, h *Host) error {
		h.Ready() // nobody to tell
		return context.Canceled
	})
	if err != context.Canceled {
		t.Errorf("got %v, want run's error", err)
	}
	if stderr.Len() > 0 {
		t.Errorf("logged %q", stderr.String())
	}
}

func TestRunManagedLogsAFailedNotification(t *testing.T) {
	t.Setenv(notifySocketVar, filepath.Join(t.TempDir(), "nobody-listens"))
	t.Setenv(journalStreamVar, "")
	var stderr strings.Builder
	RunManaged("steward", &stderr, func(_ context.Context, h *Host) error {
		h.Ready()
		return nil
	})
	if !strings.Contains(stderr.String(), `level=ERROR msg="tell systemd that steward runs"`) {
		t.Errorf("logged %q", stderr.String())
	}
}

func TestRunManagedGivesTheJournalPriorities(t *testing.T) {
	t.Setenv(notifySocketVar, "")
	t.Setenv(journalStreamVar, "8:12345")
	var stderr strings.Builder
	RunManaged("steward", &stderr, func(_ context.Context, h *Host) error {
		w, err := h.OpenLog(t.TempDir())
		if err != nil {
			return err
		}
		fmt.Fprintln(w, "time=x level=WARN msg=careful")
		return nil
	})
	if got, want := stderr.String(), "<4>time=x level=WARN msg=careful\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
