//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/stewardhq/steward/internal/testwait"
)

func TestIgnoreTerm(t *testing.T) {
	p := launch(t, "-ignore-term", "-ready-line", "up")
	p.line(t)
	for _, tt := range []struct {
		sig  syscall.Signal
		want string
	}{{syscall.SIGTERM, "ignored TERM"}, {syscall.SIGINT, "ignored INT"}} {
		if err := p.cmd.Process.Signal(tt.sig); err != nil {
			t.Fatal(err)
		}
		if got := p.line(t); got != tt.want {
			t.Errorf("stdout: got %q, want %q", got, tt.want)
		}
	}
}

func TestTrap(t *testing.T) {
	p := launch(t, "-trap", "HUP,USR1,USR2,QUIT", "-ready-line", "up")
	p.line(t)
	for _, name := range []string{"HUP", "USR1", "USR2", "QUIT"} {
		if err := p.cmd.Process.Signal(signals[name]); err != nil {
			t.Fatal(err)
		}
		if got := p.line(t); got != "trapped "+name {
			t.Errorf("stdout: got %q, want %q", got, "trapped "+name)
		}
	}
}

func TestSpawnAndOrphanPidfile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pids")
	p := launch(t, "-spawn", "2", "-orphan", "2", "-pidfile", path, "-ready-line", "up")
	var pids []int
	t.Cleanup(func() {
		for _, pid := range pids {
			unix.Kill(pid, unix.SIGKILL)
		}
	})
	var b []byte
	testwait.For(t, 10*time.Second, "the pid file", func() bool {
		var err error
		b, err = os.ReadFile(path)
		return err == nil
	})
	for _, f := range strings.Fields(string(b)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			t.Fatal(err)
		}
		pids = append(pids, pid)
	}
	if len(pids) != 4 {
		t.Fatalf("pid file: got %q, want 4 pids", b)
	}
	mainPid := p.cmd.Process.Pid
	mainSid, err := unix.Getsid(mainPid)
	if err != nil {
		t.Fatal(err)
	}
	for i, pid := range pids {
		pgid, err := unix.Getpgid(pid)
		if err != nil {
			t.Fatalf("process %d: %v", pid, err)
		}
		sid, err := unix.Getsid(pid)
		if err != nil {
			t.Fatal(err)
		}
		if i < 2 { // -spawn: in testprog's process group
			if mainPgid, _ := unix.Getpgid(mainPid); pgid != mainPgid {
				t.Errorf("spawned %d: process group %d, want %d", pid, pgid, mainPgid)
			}
			continue
		}
		// -orphan: in a session of its own, but not its leader.
		if sid == mainSid || sid == pid {
			t.Errorf("orphan %d: session %d, want a new session led by another process", pid, sid)
		}
	}
}
