package supervise

import (
	"errors"
	"fmt"
	"io/fs"
	"os/exec"
	"os/user"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stewardhq/steward"
)

func TestFinalStartError(t *testing.T) {
	start := func(err error) error { return fmt.Errorf("start /srv/app: %w", err) }
	forkExec := func(errno syscall.Errno) error {
		return start(&fs.PathError{Op: "fork/exec", Path: "/srv/app", Err: errno})
	}
	tests := []struct {
		name  string
		err   error
		final bool
	}{
		{"descriptors at /dev/null", start(&fs.PathError{Op: "open", Path: "/dev/null", Err: syscall.EMFILE}), false},
		{"descriptors at the pipe", fmt.Errorf("logcap: pipe: %w", syscall.EMFILE), false},
		{"system file table", forkExec(syscall.ENFILE), false},
		{"processes", forkExec(syscall.EAGAIN), false},
		{"memory", forkExec(syscall.ENOMEM), false},
		{"executable being written", forkExec(syscall.ETXTBSY), false},
		{"interrupted", forkExec(syscall.EINTR), false},
		{"descriptors while looking up the user", start(fmt.Errorf("look up user %q: %w", "www", &fs.PathError{Op: "open", Path: "/etc/passwd", Err: syscall.EMFILE})), false},
		{"env_file syntax, fixable in place", errors.New("env_file /srv/app.env: line 3: no ="), false},
		{"unknown", errors.New("something else"), false},

		{"missing program", forkExec(syscall.ENOENT), true},
		{"missing working_dir", start(&fs.PathError{Op: "chdir", Path: "/srv/nowhere", Err: syscall.ENOENT}), true},
		{"not in PATH", start(fmt.Errorf("look up app in PATH: %w", exec.ErrNotFound)), true},
		{"relative to the current directory", start(fmt.Errorf("app resolves to ./app: %w", exec.ErrDot)), true},
		{"not executable", forkExec(syscall.EACCES), true},
		{"not permitted to change user", forkExec(syscall.EPERM), true},
		{"not a program", forkExec(syscall.ENOEXEC), true},
		{"a path component is a file", forkExec(syscall.ENOTDIR), true},
		{"symlink loop", forkExec(syscall.ELOOP), true},
		{"unknown user", start(fmt.Errorf("look up user %q: %w", "nosuch", user.UnknownUserError("nosuch"))), true},
		{"unknown user id", start(user.UnknownUserIdError(12345)), true},
		{"unknown group", start(fmt.Errorf("look up group %q: %w", "nosuch", user.UnknownGroupError("nosuch"))), true},
		{"unknown group id", start(user.UnknownGroupIdError("4321")), true},
		{"invalid id", start(fmt.Errorf("user %q: %w", "x", &strconv.NumError{Func: "ParseUint", Num: "x", Err: strconv.ErrSyntax})), true},
		{"unsupported on this OS", start(fmt.Errorf("proc: run as another user or group: %w", errors.ErrUnsupported)), true},
		{"missing env_file", fmt.Errorf("read env_file: %w", &fs.PathError{Op: "open", Path: "/srv/app.env", Err: syscall.ENOENT}), true},
	}
	for _, tt := range tests {
		if got := finalStartError(tt.err); got != tt.final {
			t.Errorf("%s (%v): got final %v, want %v", tt.name, tt.err, got, tt.final)
		}
	}
}

// TestTransientStartErrorRestarts: a start that fails with EMFILE counts as
// a failed run: the service waits its backoff and starts again, instead of
// failing for good.
func TestTransientStartErrorRestarts(t *testing.T) {
	f := startFakes(t, `
services:
  a:
    command: [app]
    restart: {policy: on-failure, backoff: 1s, max_backoff: 4s, max_restarts: 3, window: 1m}
`)
	f.procs.failNext("a", &fs.PathError{Op: "open", Path: "/dev/null", Err: syscall.EMFILE})
	f.sup.StartAll()
	st := f.waitState("a", steward.StateBackoff)
	if want := "start: open /dev/null: too many open files; restarting in 1"; !strings.HasPrefix(st.Reason, want) {
		t.Errorf("reason = %q, want it to start with %q", st.Reason, want)
	}
	waitCount(t, f.mon, "a restarting true: start: open /dev/null: too many open files (restart 1)", 1)
	f.clock.Advance(f.clock.waitTimer(t, time.Second, 1250*time.Millisecond))
	f.proc("a", 1)
	st = f.waitState("a", steward.StateRunning)
	if st.Restarts != 1 {
		t.Errorf("restarts = %d, want 1", st.Restarts)
	}
	if got, want := f.events.transitions("a"), []string{"stopped>starting", "starting>backoff", "backoff>running"}; !slices.Equal(got, want) {
		t.Errorf("transitions = %v, want %v", got, want)
	}
}

// TestStartErrorsCountTowardIntensity: starts that keep failing are
// restarted with a doubling backoff until the restart intensity is
// exceeded, as crashes are; a policy of never fails at the first.
func TestStartErrorsCountTowardIntensity(t *testing.T) {
	f := startFakes(t, `
services:
  a:
    command: [app]
    restart: {policy: always, backoff: 0s, max_restarts: 2, window: 1m}
  b:
    command: [app]
    restart: {policy: never}
`)
	eagain := &fs.PathError{Op: "fork/exec", Path: "app", Err: syscall.EAGAIN}
	f.procs.failNext("a", eagain, eagain, eagain)
	f.procs.failNext("b", eagain)
	f.sup.StartAll()
	st := f.waitState("a", steward.StateFailed)
	if want := "start: fork/exec app: resource temporarily unavailable; restart intensity exceeded: 2 restarts within 1m0s"; st.Reason != want {
		t.Errorf("a's reason = %q, want %q", st.Reason, want)
	}
	if st.Restarts != 2 || f.procs.count("a") != 0 {
		t.Errorf("a: restarts = %d, processes %d, want 2 and 0", st.Restarts, f.procs.count("a"))
	}
	st = f.waitState("b", steward.StateFailed)
	if want := "start: fork/exec app: resource temporarily unavailable; restart policy never"; st.Reason != want {
		t.Errorf("b's reason = %q, want %q", st.Reason, want)
	}
}

// TestStartFailsOnTheFake: a program that does not exist fails the service
// at once, whatever its policy, and says it is not retried.
func TestStartFailsOnTheFake(t *testing.T) {
	f := startFakes(t, "services:\n  a: {command: [missing], restart: {policy: always}}\n")
	if err := f.sup.Start(f.ctx(), nil); err == nil {
		t.Fatal("start of a missing program succeeded")
	}
	st := f.waitState("a", steward.StateFailed)
	if want := "start: look up missing in PATH: " + exec.ErrNotFound.Error() + "; not retried"; st.Reason != want {
		t.Errorf("reason = %q, want %q", st.Reason, want)
	}
	if st.Restarts != 0 {
		t.Errorf("restarts = %d, want 0", st.Restarts)
	}
}

// TestReadinessTimeoutRestarts: an instance not ready within ready.timeout
// (on the clock) is killed and counts as a failed run: it is restarted
// after its backoff, and fails once the restart intensity is exceeded.
func TestReadinessTimeoutRestarts(t *testing.T) {
	f := startFakes(t, `
services:
  a:
    command: [app]
    ready: {log: never, timeout: 5s}
    restart: {policy: on-failure, backoff: 1s, max_restarts: 1, window: 1m}
`)
	f.sup.StartAll()
	for i := 1; i <= 2; i++ {
		f.proc("a", i)
		f.waitState("a", steward.StateStarting)
		f.clock.Advance(f.clock.waitTimer(t, 5*time.Second, 5*time.Second))
		if i == 1 {
			st := f.waitState("a", steward.StateBackoff)
			if want := "not ready: not ready within 5s; restarting in 1"; !strings.HasPrefix(st.Reason, want) {
				t.Errorf("reason = %q, want it to start with %q", st.Reason, want)
			}
			f.clock.Advance(f.clock.waitTimer(t, time.Second, 1250*time.Millisecond))
		}
	}
	st := f.waitState("a", steward.StateFailed)
	if want := "not ready: not ready within 5s; restart intensity exceeded: 1 restarts within 1m0s"; st.Reason != want {
		t.Errorf("reason = %q, want %q", st.Reason, want)
	}
	want := []string{"stopped>starting", "starting>starting", "starting>stopping", "stopping>backoff", "backoff>starting", "starting>stopping", "stopping>failed"}
	if got := f.events.transitions("a"); !slices.Equal(got, want) {
		t.Errorf("transitions = %v, want %v", got, want)
	}
}
