package main

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/stewardhq/steward/internal/logcap"
)

// openPTY returns the two ends of a new pseudo-terminal.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return m, s
}

// TestLogsEscapesOnATerminal checks that steward logs shows a service's
// control characters escaped on a terminal, and raw with -o raw or piped.
func TestLogsEscapesOnATerminal(t *testing.T) {
	c := newCLI(t)
	const line = "\x1b]0;owned\x07red \x1b[31mtext\ttab\r"
	c.services.LogOf("web").Add(logcap.Line{Time: time.Now(), Stream: logcap.Stdout, Text: line})

	master, slave := openPTY(t)
	var stderr bytes.Buffer
	if code := execute([]string{"--socket", c.socket, "logs", "web"}, slave, &stderr); code != 0 {
		t.Fatalf("logs on a terminal: exit %d: %s", code, stderr.String())
	}
	buf := make([]byte, 4096)
	master.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := master.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	want := `\x1b]0;owned\x07red \x1b[31mtext` + "\t" + `tab\x0d`
	if got := string(buf[:n]); !strings.Contains(got, want) || strings.Contains(got, "\x1b") {
		t.Errorf("on a terminal: got %q, want %q and no ESC", got, want)
	}
	if code := execute([]string{"--socket", c.socket, "logs", "-o", "raw", "web"}, slave, &stderr); code != 0 {
		t.Fatalf("logs -o raw on a terminal: exit %d: %s", code, stderr.String())
	}
	master.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err = master.Read(buf); err != nil {
		t.Fatal(err)
	}
	if got := string(buf[:n]); !strings.Contains(got, "\x1b[31m") {
		t.Errorf("-o raw on a terminal: got %q, want the ESC as it is", got)
	}

	for _, args := range [][]string{{"logs", "web"}, {"logs", "-o", "raw", "web"}} {
		code, stdout, stderr := c.run(args...)
		if code != 0 || stdout != line+"\n" {
			t.Errorf("%q piped: exit %d, stdout %q (%s), want %q", args, code, stdout, stderr, line+"\n")
		}
	}
	if code, _, stderr := c.run("ps", "-o", "raw"); code != 2 {
		t.Errorf("ps -o raw: exit %d (%s), want 2", code, stderr)
	}
}
