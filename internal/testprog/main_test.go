package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/testwait"
)

// bin is the testprog binary TestMain builds.
var bin string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "testprog")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin = filepath.Join(dir, "testprog")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build testprog:", err)
		return 1
	}
	return m.Run()
}

// proc is a running testprog whose stdout the test reads line by line.
type proc struct {
	cmd  *exec.Cmd
	out  *bufio.Reader
	errb bytes.Buffer
}

// launch starts testprog with args; the test's cleanup kills it.
func launch(t *testing.T, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(bin, args...)}
	p.cmd.Stderr = &p.errb
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.out = bufio.NewReader(out)
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		p.cmd.Wait()
	})
	return p
}

// line reads the next line of stdout, failing the test after a while.
func (p *proc) line(t *testing.T) string {
	t.Helper()
	type result struct {
		s   string
		err error
	}
	c := make(chan result, 1)
	go func() {
		s, err := p.out.ReadString('\n')
		c <- result{s, err}
	}()
	select {
	case r := <-c:
		if r.err != nil {
			t.Fatalf("read stdout: %v (stderr %q)", r.err, p.errb.String())
		}
		return strings.TrimSuffix(r.s, "\n")
	case <-time.After(10 * time.Second):
		t.Fatal("testprog printed no line")
		return ""
	}
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		args []string
		want int
	}{
		{nil, -1},
		{[]string{"-exit", "3"}, 3},
		{[]string{"-exit", "4", "-after", "10ms"}, 4},
		{[]string{"-after", "1ms"}, 0},
		{[]string{"-sleep", "1ms"}, 0},
		{[]string{"-exit", "5", "-sleep", "1h"}, 5},
		{[]string{"-no-such-flag"}, 2},
		{[]string{"extra"}, 2},
		{[]string{"-trap", "NOPE"}, 1},
		{[]string{"-write-pid", filepath.Join("no", "such", "dir")}, 1},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			if tt.want < 0 {
				p := launch(t)
				if err := p.cmd.Process.Kill(); err != nil {
					t.Fatal(err)
				}
				if err := p.cmd.Wait(); err == nil {
					t.Error("testprog without flags exited by itself, want it to run until killed")
				}
				return
			}
			err := exec.Command(bin, tt.args...).Run()
			got := 0
			if ee, ok := err.(*exec.ExitError); ok {
				got = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("exit code: got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestPrintAndStderr(t *testing.T) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, "-print", "1000", "-stderr", "to stderr", "-exit", "0")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(stdout.String(), "\n")
	lines = lines[:len(lines)-1]
	if len(lines) != 1000 {
		t.Fatalf("lines: got %d, want 1000", len(lines))
	}
	for i, l := range lines {
		if len(l) != lineSize || !strings.HasPrefix(l, "line "+strconv.Itoa(i+1)+" x") {
			t.Fatalf("line %d: got %q, want %d bytes starting with %q", i+1, l, lineSize, "line "+strconv.Itoa(i+1))
		}
	}
	if got := stderr.String(); got != "to stderr\n" {
		t.Errorf("stderr: got %q, want %q", got, "to stderr\n")
	}
}

func TestReadyLine(t *testing.T) {
	p := launch(t, "-ready-line", "ready now", "-ready-after", "10ms")
	if got := p.line(t); got != "ready now" {
		t.Errorf("stdout: got %q, want %q", got, "ready now")
	}
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestListen(t *testing.T) {
	addr := freeAddr(t)
	launch(t, "-listen", addr, "-listen-after", "20ms")
	testwait.For(t, 10*time.Second, "a connection to "+addr, func() bool {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
}

func TestHTTP(t *testing.T) {
	addr := freeAddr(t)
	launch(t, "-http", addr)
	var resp *http.Response
	testwait.For(t, 10*time.Second, "the HTTP server", func() bool {
		var err error
		resp, err = http.Get("http://" + addr + "/health")
		return err == nil
	})
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "ok\n" {
		t.Errorf("GET /health: got %d %q, want 200 %q", resp.StatusCode, body, "ok\n")
	}
	resp, err := http.Get("http://" + addr + "/other")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /other: got %d, want 404", resp.StatusCode)
	}
}

func TestListenFails(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	err = exec.Command(bin, "-listen", ln.Addr().String()).Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Errorf("listen on a busy port: got %v, want exit status 1", err)
	}
}

func TestWritePid(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pid")
	p := launch(t, "-write-pid", path, "-ready-line", "up")
	p.line(t)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.TrimSpace(string(b)), strconv.Itoa(p.cmd.Process.Pid); got != want {
		t.Errorf("pid file: got %q, want %q", got, want)
	}
}
