//go:build unix

package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/client"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/testwait"
)

// stubborn is a service that ignores SIGTERM: its stop lasts its whole
// stop.timeout, then its tree is killed.
const stubborn = `["sh", "-c", "trap '' TERM; exec sleep 1000"]`

// newTestDaemon makes a daemon of yaml on a fresh data dir; the test closes it.
func newTestDaemon(t *testing.T, yaml string) *Daemon {
	t.Helper()
	dir := t.TempDir()
	cfg := testConfig(t, dir, yaml)
	d, err := New(context.Background(), cfg, Options{Version: "test", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// runTestDaemon runs d until the test ends, or until the returned stop is
// called, which returns Run's error.
func runTestDaemon(t *testing.T, d *Daemon) (stop func() error) {
	t.Helper()
	ready := make(chan struct{})
	d.opts.Ready = func() { close(ready) }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var err error
	stopped := false
	stop = func() error {
		if !stopped {
			stopped = true
			cancel()
			err = <-done
		}
		return err
	}
	t.Cleanup(func() { stop() })
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("run: %v", err)
	}
	return stop
}

// waitRunning waits until service name runs under a process other than
// notPID, and returns its status.
func waitRunning(t *testing.T, d *Daemon, name string, notPID int) steward.ServiceStatus {
	t.Helper()
	var st steward.ServiceStatus
	testwait.NoError(t, 15*time.Second, func() error {
		var err error
		if st, err = d.sup.Get(name); err != nil {
			return err
		}
		if st.State != steward.StateRunning || st.PID == notPID {
			return fmt.Errorf("%s is %s (pid %d, %s), want running with a pid other than %d", name, st.State, st.PID, st.Reason, notPID)
		}
		return nil
	})
	return st
}

// TestReloadOutlivesItsClient: the client of a reload goes away while a
// changed service that ignores SIGTERM is still stopping. The reload
// completes all the same: the changed service runs again with its new
// config, the added one runs, and the history holds the version.
func TestReloadOutlivesItsClient(t *testing.T) {
	d := newTestDaemon(t, "services:\n  slow: {command: "+stubborn+", env: {V: \"1\"}, stop: {timeout: 1500ms}}\n")
	runTestDaemon(t, d)
	old := waitRunning(t, d, "slow", 0)

	c := client.New(d.Current().API.Socket)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	text := "data_dir: .\nservices:\n" +
		"  slow: {command: " + stubborn + ", env: {V: \"2\"}, stop: {timeout: 1500ms}}\n" +
		"  fresh: {command: [\"sleep\", \"1000\"]}\n"
	if _, err := c.ApplyConfig(ctx, []byte(text)); err == nil {
		t.Fatal("the reload answered before its client gave up: the test proves nothing")
	}

	waitRunning(t, d, "slow", old.PID)
	waitRunning(t, d, "fresh", 0)
	testwait.For(t, 5*time.Second, "version 2 in force", func() bool { return d.CurrentVersion() == 2 })
	v, err := d.Version(context.Background(), 2)
	if err != nil {
		t.Fatal(err)
	}
	if string(v.Text) != text {
		t.Errorf("version 2 is %q, want the applied text", v.Text)
	}
	if got := d.sup.Config().Services["slow"].Env; len(got) != 1 || got["V"] != "2" {
		t.Errorf("slow runs with env %v, want V=2", got)
	}
}

// TestShutdownHonoursReloadedStopTimeout: a reload raises a stubborn
// service's stop.timeout past what the startup config's shutdown timeout
// allows; the shutdown still gives the service its whole stop.timeout.
func TestShutdownHonoursReloadedStopTimeout(t *testing.T) {
	d := newTestDaemon(t, "services:\n  slow: {command: "+stubborn+", stop: {timeout: 100ms}}\n")
	stop := runTestDaemon(t, d)
	old := waitRunning(t, d, "slow", 0)
	text := "data_dir: .\nservices:\n  slow: {command: " + stubborn + ", stop: {timeout: 6s}}\n"
	if _, err := d.Apply(context.Background(), []byte(text), "test"); err != nil {
		t.Fatal(err)
	}
	waitRunning(t, d, "slow", old.PID)
	if err := stop(); err != nil {
		t.Errorf("run after a shutdown that the reloaded stop.timeout fits in: %v", err)
	}
}

// TestApplyAfterClose: once Close has begun, a config change is
// refused and changes nothing.
func TestApplyAfterClose(t *testing.T) {
	d := newTestDaemon(t, "services: {}\n")
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := d.Apply(context.Background(), []byte("data_dir: .\nservices:\n  a: {command: [\"sleep\", \"1000\"]}\n"), "test")
	if steward.ErrorCode(err) != steward.EUNAVAILABLE {
		t.Errorf("apply after close: %v, want %s", err, steward.EUNAVAILABLE)
	}
}

// TestCloseWithoutRun: Close releases a daemon that never ran, and one
// whose Run failed to start, and can be called again; nothing is left
// running and the data dir serves a new daemon.
func TestCloseWithoutRun(t *testing.T) {
	testwait.NoLeak(t)
	dir := t.TempDir()
	yaml := "services:\n  a: {command: [\"sleep\", \"1000\"]}\n"
	for range 2 {
		d, err := New(context.Background(), testConfig(t, dir, yaml), Options{})
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := d.Close(); err != nil {
				t.Fatalf("close: %v", err)
			}
		}
		if err := d.Run(context.Background()); err == nil {
			t.Fatal("run after close: no error")
		}
	}
	st, err := store.Open(context.Background(), filepath.Join(dir, "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if vs, err := st.ConfigVersions(context.Background()); err != nil || len(vs) != 1 {
		t.Errorf("reopened store: %d versions, %v; want 1", len(vs), err)
	}
}

// TestCloseAfterFailedRun: a Run that cannot listen closes what it had
// started; Close after it is a no-op.
func TestCloseAfterFailedRun(t *testing.T) {
	testwait.NoLeak(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "file"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, dir, "api: {socket: file/steward.sock}\nservices:\n  a: {command: [\"sleep\", \"1000\"]}\n")
	d, err := New(context.Background(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Run(context.Background()); err == nil {
		t.Fatal("run with a socket under a file: no error")
	}
	if err := d.Close(); err != nil {
		t.Errorf("close after a failed run: %v", err)
	}
}
