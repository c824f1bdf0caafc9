package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/logcap"
	"github.com/stewardhq/steward/internal/testfs"
	"github.com/stewardhq/steward/internal/testwait"
)

// TestDataDirFullIsLoud runs the real steward with its data dir on a small
// tmpfs and fills it: the log outage is an alert at once, supervision goes
// on (a restart works), and once there is space again the events of the
// outage are stored with no id missing, and the log file says how many
// lines it dropped, with no line lost uncounted and none glued to another.
func TestDataDirFullIsLoud(t *testing.T) {
	e := &env{t: t, dir: testfs.Tmpfs(t, "8m")}
	e.config = filepath.Join(e.dir, "steward.yaml")
	e.write(`
services:
  chatty: {command: [sh, -c, 'i=0; while :; do echo line-$i; i=$((i+1)); sleep 0.005; done']}
  nap: {command: [sleep, "1000"]}
`)
	e.run()
	e.waitState("chatty", steward.StateRunning)
	nap := e.waitState("nap", steward.StateRunning)
	logPath := filepath.Join(e.dir, "logs", "chatty.log")
	testwait.For(t, 10*time.Second, "chatty's first lines in its file", func() bool {
		fi, err := os.Stat(logPath)
		return err == nil && fi.Size() > 0
	})

	filler := fillUp(t, e.dir)
	down := "log of chatty is not being written: write " + logPath + ": no space left on device"
	testwait.NoError(t, 20*time.Second, func() error {
		for _, a := range e.alerts() {
			if a.Subject == "chatty" && a.Open() && strings.Contains(a.Message, down) {
				return nil
			}
		}
		return fmt.Errorf("no open alert about chatty's log, want one saying %q", down)
	})
	// A manual restart is an audited change: with no room for its audit
	// record it is refused, and nothing changes.
	if code, _, stderr := e.steward("restart", "nap"); code != 1 || !strings.Contains(stderr, "the audit log cannot be written, so nothing is changed") {
		t.Errorf("restart nap with the data dir full: exit %d: %s; want it refused for the audit log", code, stderr)
	}
	if st := e.ps()["nap"]; st.PID != nap.PID {
		t.Errorf("the refused restart changed nap: pid %d, was %d", st.PID, nap.PID)
	}
	// Supervision goes on: nap killed behind steward's back is restarted.
	if err := syscall.Kill(nap.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	testwait.NoError(t, 20*time.Second, func() error {
		if st := e.ps()["nap"]; st.State != steward.StateRunning || st.PID == nap.PID {
			return fmt.Errorf("nap is %s as pid %d, want running as a new pid (was %d)", st.State, st.PID, nap.PID)
		}
		return nil
	})

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	var evs []steward.Event
	testwait.NoError(t, 20*time.Second, func() error {
		code, out, stderr := e.steward("events", "-n", "1000", "-o", "json")
		if code != 0 {
			return fmt.Errorf("events: exit %d: %s", code, stderr)
		}
		evs = nil
		if err := json.Unmarshal([]byte(out), &evs); err != nil {
			return fmt.Errorf("events -o json: %v", err)
		}
		var saw []string
		for _, ev := range evs {
			if ev.Service == "chatty" && ev.Type == steward.EventLog {
				saw = append(saw, ev.Reason)
			}
		}
		if len(saw) != 2 || saw[0] != down || !strings.HasPrefix(saw[1], "log of chatty is being written again: ") {
			return fmt.Errorf("log events of chatty %q, want the outage and its end", saw)
		}
		return nil
	})
	for i := 1; i < len(evs); i++ {
		if evs[i].ID != evs[i-1].ID+1 {
			t.Errorf("event ids %d then %d: events were lost", evs[i-1].ID, evs[i].ID)
		}
	}
	checkCountedLog(t, logPath)
}

// fillUp writes to a file in dir until its file system is full, and returns
// the file.
func fillUp(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return path
		}
	}
}

var droppedMarker = regexp.MustCompile(`^\[steward\] (\d+) lines \(\d+ bytes\) of output since \S+ were not written to this file: .*no space left on device$`)

// checkCountedLog reads the log of a service printing line-0, line-1, …:
// every line must parse (none glued to another), and the numbers must run
// on without a gap except where a marker counts exactly the lines dropped.
func checkCountedLog(t *testing.T, path string) {
	t.Helper()
	var content []byte
	testwait.NoError(t, 10*time.Second, func() error {
		var err error
		content, err = os.ReadFile(path)
		if err != nil {
			return err
		}
		if !strings.Contains(string(content), "[steward] ") {
			return errors.New("no marker of the dropped lines in the file yet")
		}
		return nil
	})
	next, markers, skip := 0, 0, -1
	for _, s := range strings.SplitAfter(string(content), "\n") {
		if s == "" || !strings.HasSuffix(s, "\n") {
			continue // the line being written as the file was read
		}
		ln, err := logcap.ParseLine(s)
		if err != nil {
			t.Fatalf("line %q of %s: %v", s, path, err)
		}
		if m := droppedMarker.FindStringSubmatch(ln.Text); m != nil {
			skip, _ = strconv.Atoi(m[1])
			markers++
			continue
		}
		n, err := strconv.Atoi(strings.TrimPrefix(ln.Text, "line-"))
		if err != nil || !strings.HasPrefix(ln.Text, "line-") {
			t.Fatalf("line %q of %s is not one of the service's", ln.Text, path)
		}
		if skip >= 0 {
			next += skip
			skip = -1
		}
		if n != next {
			t.Fatalf("line-%d follows line-%d in %s: lines were lost uncounted", n, next-1, path)
		}
		next++
	}
	if markers != 1 || skip >= 0 {
		t.Fatalf("%d markers in %s (last one followed by no line: %v), want 1 between lines", markers, path, skip >= 0)
	}
}
