package outbox

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/notify"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/testwait"
)

// Environment of the child that TestKillLosesNoNotification runs.
const (
	childDBEnv  = "STEWARD_OUTBOX_TEST_DB"
	childURLEnv = "STEWARD_OUTBOX_TEST_URL"
)

func TestMain(m *testing.M) {
	if db := os.Getenv(childDBEnv); db != "" {
		os.Exit(child(db, os.Getenv(childURLEnv)))
	}
	os.Exit(m.Run())
}

// child enqueues one notification for a webhook at url, says so on stdout,
// and keeps trying to deliver it until it is killed.
func child(db, url string) int {
	ctx := context.Background()
	st, err := store.Open(ctx, db)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	hook, err := notify.NewWebhook(notify.WebhookConfig{URL: notify.Secret(url)}, notify.Resolver{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	o, err := New(st, map[string]notify.Notifier{"hook": hook}, Options{MinBackoff: 20 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if err := o.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if _, err := o.Enqueue(ctx, "hook", notify.Message{Key: "kill9-key", Alerts: []notify.Alert{{Status: notify.StatusFiring, Rule: "r"}}}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	fmt.Println("enqueued")
	select {}
}

// hookReceiver is an HTTP receiver that fails while down is set.
type hookReceiver struct {
	*httptest.Server
	down     atomic.Bool
	mu       sync.Mutex
	keys     []string // Idempotency-Key of each request
	accepted []string // keys of the requests answered 200
}

// TestRestartDeliversPending enqueues with no worker, closes the store,
// and delivers after a reopen: what a restart of steward does.
func TestRestartDeliversPending(t *testing.T) {
	testwait.NoLeak(t)
	h := newHookReceiver(t)
	path := filepath.Join(t.TempDir(), "steward.db")
	st, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	o, _ := New(st, nil, Options{})
	n, err := o.Enqueue(context.Background(), "hook", testMsg("before-restart"))
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	st, err = store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	o2 := startOutbox(t, st, map[string]notify.Notifier{"hook": h.notifier(t)}, Options{})
	testwait.For(t, 5*time.Second, "delivery after restart", func() bool { return state(t, o2, n.ID).State == store.NotificationDelivered })
}

// TestKillLosesNoNotification runs a child that enqueues a notification
// while the receiver is down, kills it with SIGKILL, and checks that a new
// outbox on the same store delivers it once the receiver is back.
func TestKillLosesNoNotification(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	h := newHookReceiver(t)
	h.down.Store(true)
	db := filepath.Join(t.TempDir(), "steward.db")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childDBEnv+"="+db, childURLEnv+"="+h.URL)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "enqueued\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child said %q, %v", line, err)
	}
	testwait.For(t, 10*time.Second, "the child's failed attempts", func() bool { r, _ := h.counts(); return r >= 2 })
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if _, acc := h.counts(); acc != 0 {
		t.Fatalf("%d accepted while down", acc)
	}

	h.down.Store(false)
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	o := startOutbox(t, st, map[string]notify.Notifier{"hook": h.notifier(t)}, Options{})
	testwait.For(t, 10*time.Second, "delivery after the kill", func() bool { _, acc := h.counts(); return acc == 1 })
	h.mu.Lock()
	if h.accepted[0] != "kill9-key" {
		t.Errorf("delivered key %q, want kill9-key", h.accepted[0])
	}
	h.mu.Unlock()
	ns, err := o.List(context.Background(), Filter{})
	if err != nil || len(ns) != 1 {
		t.Fatalf("list = %+v, %v", ns, err)
	}
	testwait.For(t, 5*time.Second, "the delivery recorded", func() bool { return state(t, o, ns[0].ID).State == store.NotificationDelivered })
	// The child recorded at least one failed attempt before it was killed.
	if got := state(t, o, ns[0].ID); got.Attempts < 2 {
		t.Errorf("attempts = %d, want the child's and this one", got.Attempts)
	}
}
