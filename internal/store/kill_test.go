package store

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stewardhq/steward"
)

// childEnv names the database a re-executed test binary appends to.
const childEnv = "STEWARD_STORE_TEST_CHILD"

// TestMain lets TestKillLosesNothing run this test binary as a child that
// appends events until it is killed.
func TestMain(m *testing.M) {
	if path := os.Getenv(childEnv); path != "" {
		appendForever(path)
		return
	}
	os.Exit(m.Run())
}

// appendForever appends events to the store at path, printing each ID once
// AppendEvents has returned.
func appendForever(path string) {
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for {
		ev := steward.Event{Type: steward.EventState, Service: "api", Reason: "crash loop"}
		if err := appendEvent(ctx, s, &ev); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Println(ev.ID)
	}
}

// TestKillLosesNothing kills a process in the middle of appending and
// checks that every event it was told was stored is there.
func TestKillLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	path := filepath.Join(t.TempDir(), "steward.db")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Read past a few checkpoints, then kill it mid-stream.
	sc := bufio.NewScanner(out)
	var last int64
	for last < 3*checkpointEvery+17 && sc.Scan() {
		if last, err = strconv.ParseInt(sc.Text(), 10, 64); err != nil {
			t.Fatal(err)
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if last == 0 {
		t.Fatal("the child stored nothing")
	}

	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer s.Close()
	evs, err := s.Events(context.Background(), EventFilter{Limit: int(last) + 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) < int(last) {
		t.Fatalf("%d events after the kill, want at least the %d acknowledged", len(evs), last)
	}
	for i, ev := range evs {
		if ev.ID != int64(i+1) {
			t.Fatalf("event %d has ID %d, want %d", i, ev.ID, i+1)
		}
	}
}
