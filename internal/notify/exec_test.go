package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	execHelperEnv = "STEWARD_NOTIFY_TEST_EXEC" // the mode of the helper
	execOutEnv    = "STEWARD_NOTIFY_TEST_OUT"  // where the helper writes what it got
)

// execHelper is the program the exec tests run: this test binary.
func execHelper(mode string) int {
	switch mode {
	case "fail":
		fmt.Fprintln(os.Stderr, "receiver down")
		return 3
	case "sleep":
		time.Sleep(time.Minute)
		return 0
	case "orphan": // leave a child running and say its pid
		cmd := exec.Command("sleep", "60")
		if err := cmd.Start(); err != nil {
			return 2
		}
		if err := os.WriteFile(os.Getenv(execOutEnv), []byte(strconv.Itoa(cmd.Process.Pid)), 0o600); err != nil {
			return 2
		}
		return 0
	}
	in, err := io.ReadAll(os.Stdin)
	if err != nil {
		return 2
	}
	wd, _ := os.Getwd()
	got := map[string]string{
		"stdin":    string(in),
		"key":      os.Getenv("STEWARD_NOTIFY_KEY"),
		"status":   os.Getenv("STEWARD_NOTIFY_STATUS"),
		"severity": os.Getenv("STEWARD_NOTIFY_SEVERITY"),
		"title":    os.Getenv("STEWARD_NOTIFY_TITLE"),
		"token":    os.Getenv("TOKEN"),
		"wd":       wd,
	}
	b, _ := json.Marshal(got)
	if err := os.WriteFile(os.Getenv(execOutEnv), b, 0o600); err != nil {
		return 2
	}
	return 0
}

func TestExec(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.json")
	t.Setenv(execOutEnv, out)
	t.Setenv("STEWARD_TEST_TOKEN", "tok-1")
	newExec := func(mode string, timeout time.Duration) *Exec {
		t.Helper()
		t.Setenv(execHelperEnv, mode)
		e, err := NewExec(ExecConfig{
			Command: []string{os.Args[0], "-test.run=^$"},
			Env:     map[string]Secret{"TOKEN": "${env:STEWARD_TEST_TOKEN}"},
			Dir:     "sub",
			Timeout: timeout,
		}, Resolver{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}

	m := testMessage()
	if err := newExec("ok", 0).Notify(context.Background(), m); err != nil {
		t.Fatalf("Notify: %v", err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	var sent Message
	if err := json.Unmarshal([]byte(got["stdin"]), &sent); err != nil {
		t.Fatalf("stdin is not a message: %v: %q", err, got["stdin"])
	}
	if sent.Key != m.Key || len(sent.Alerts) != 3 || sent.Alerts[0].Labels["a"] != "1" || !sent.Time.Equal(m.Time) {
		t.Errorf("stdin message = %+v, want %+v", sent, m)
	}
	want := map[string]string{"key": "k-123", "status": "firing", "severity": "critical", "title": m.Title(), "token": "tok-1"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if wd, _ := filepath.EvalSymlinks(got["wd"]); !strings.HasSuffix(wd, "sub") {
		t.Errorf("working directory = %q, want .../sub", got["wd"])
	}

	err = newExec("fail", 0).Notify(context.Background(), m)
	if err == nil || !strings.Contains(err.Error(), "exit status 3") || !strings.Contains(err.Error(), "receiver down") {
		t.Errorf("failing program: err = %v, want its status and output", err)
	}

	start := time.Now()
	err = newExec("sleep", 200*time.Millisecond).Notify(context.Background(), m)
	if err == nil || !strings.Contains(err.Error(), "timed out after 200ms") {
		t.Errorf("slow program: err = %v, want a timeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("timeout took %v", d)
	}

	missing, err := NewExec(ExecConfig{Command: []string{"./no-such-program"}}, Resolver{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := missing.Notify(context.Background(), m); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing program: err = %v, want not exist", err)
	}
}

// TestExecLeavesNoOrphan runs a program that leaves a child running: once
// Notify returns, the child is dead.
func TestExecLeavesNoOrphan(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	out := filepath.Join(t.TempDir(), "pid")
	t.Setenv(execOutEnv, out)
	t.Setenv(execHelperEnv, "orphan")
	e, err := NewExec(ExecConfig{Command: []string{os.Args[0], "-test.run=^$"}}, Resolver{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Notify(context.Background(), testMessage()); err != nil {
		t.Fatalf("Notify: %v", err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(string(b))
	if err != nil {
		t.Fatal(err)
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return // gone, and reaped
	}
	if i := bytes.LastIndexByte(stat, ')'); i < 0 || !bytes.HasPrefix(stat[i+1:], []byte(" Z")) {
		if p, err := os.FindProcess(pid); err == nil {
			p.Kill() // do not leave it to the next tests
		}
		t.Errorf("the program's child %d is alive after Notify returned: %s", pid, stat)
	}
}

func TestExecValidate(t *testing.T) {
	for _, tt := range []struct {
		c    ExecConfig
		errs []string
	}{
		{ExecConfig{Command: []string{"notify-send"}}, nil},
		{ExecConfig{}, []string{"command: is required"}},
		{ExecConfig{Command: []string{""}, Env: map[string]Secret{"1X": "${bad}"}, Timeout: -1}, []string{
			"command: is required", "env.1X: invalid variable name", "env.1X: invalid reference at offset 0", "timeout: must not be negative"}},
	} {
		checkProblems(t, fmt.Sprintf("%+v", tt.c), tt.c.Validate(), tt.errs)
	}
	if _, err := NewExec(ExecConfig{Command: []string{"x"}, Env: map[string]Secret{"A": "${env:STEWARD_NOPE_NOT_SET}"}}, Resolver{}); err == nil {
		t.Error("NewExec with an unset variable succeeded")
	}
	if _, err := NewExec(ExecConfig{}, Resolver{}); err == nil {
		t.Error("NewExec of an invalid config succeeded")
	}
}

// checkProblems checks that err holds exactly the problems want, in any
// order.
func checkProblems(t *testing.T, what string, err error, want []string) {
	t.Helper()
	var got []string
	for _, fe := range FieldErrors(err) {
		got = append(got, fe.Error())
	}
	if len(got) != len(want) {
		t.Errorf("%s: problems = %q, want %q", what, got, want)
		return
	}
	for _, w := range want {
		found := false
		for _, g := range got {
			found = found || strings.Contains(g, w)
		}
		if !found {
			t.Errorf("%s: problems = %q, want one with %q", what, got, w)
		}
	}
}
