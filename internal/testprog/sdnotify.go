package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
)

// sdNotify sends state to $NOTIFY_SOCKET with go-systemd's client.
func sdNotify(state string) error {
	sent, err := daemon.SdNotify(false, state)
	if err != nil {
		return fmt.Errorf("sd-notify: %w", err)
	}
	if !sent {
		return errors.New("sd-notify: NOTIFY_SOCKET is not set")
	}
	return nil
}

// watchdog sends WATCHDOG=1 every half $WATCHDOG_USEC for d.
func watchdog(d time.Duration) error {
	usec, err := strconv.ParseInt(os.Getenv("WATCHDOG_USEC"), 10, 64)
	if err != nil || usec <= 0 {
		return fmt.Errorf("watchdog-for: WATCHDOG_USEC=%q", os.Getenv("WATCHDOG_USEC"))
	}
	every := time.Duration(usec) * time.Microsecond / 2
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(every) {
		if err := sdNotify("WATCHDOG=1"); err != nil {
			return err
		}
	}
	return nil
}
