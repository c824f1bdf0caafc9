package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/events"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/testwait"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestBusHost: the bus starts in the background ("bus starting" until it
// is ready), forwards events, gives services NATS_URL, and applies a
// reload in place or by a restart of the server, as the change needs.
func TestBusHost(t *testing.T) {
	testwait.NoLeak(t)
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, filepath.Join(dir, "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rec := events.NewRecorder(st)
	defer rec.Close(ctx)
	h := newBusHost(dir, rec, slog.New(slog.DiscardHandler))
	defer h.stop()

	none := testConfig(t, dir, "services: {web: {command: [x]}}\n")
	h.start(none)
	if _, err := h.Streams(ctx); !errors.Is(err, errNoBus) {
		t.Errorf("without bus: %v, want %v", err, errNoBus)
	}
	if env := h.env("web"); env != nil {
		t.Errorf("env without bus = %q", env)
	}
	if _, err := os.Stat(filepath.Join(dir, "bus")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("data_dir/bus without bus: %v", err)
	}

	addr := freeAddr(t)
	withBus := fmt.Sprintf("node: n1\nbus: {listen: %s, events: {max_age: 1h}}\nservices: {web: {command: [x]}}\n", addr)
	h.apply(ctx, testConfig(t, dir, withBus))
	if _, err := h.Streams(ctx); !errors.Is(err, errBusStarting) {
		t.Errorf("right after start: %v, want %v", err, errBusStarting)
	}
	if env := h.env("web"); len(env) != 1 || !strings.HasPrefix(env[0], "NATS_URL=nats://web:") || !strings.HasSuffix(env[0], "@"+addr) {
		t.Errorf("env = %q", env)
	}
	testwait.NoError(t, 20*time.Second, func() error { _, err := h.server(); return err })
	srv, _ := h.server()

	rec.Record(ctx, steward.Event{Type: steward.EventState, Service: "web", To: steward.StateRunning, Reason: "test"})
	testwait.For(t, 10*time.Second, "the event in STEWARD_EVENTS", func() bool {
		list, err := h.Streams(ctx)
		return err == nil && len(list) == 1 && list[0].Messages == 1
	})

	// A new max age: the same server.
	h.apply(ctx, testConfig(t, dir, strings.Replace(withBus, "max_age: 1h", "max_age: 2h", 1)))
	if now, err := h.server(); err != nil || now != srv {
		t.Fatalf("after a new max_age: %v, %v; want the same server", now, err)
	}
	if list, _ := h.Streams(ctx); len(list) != 1 || list[0].MaxAge != 2*time.Hour {
		t.Errorf("streams after a new max_age: %+v", list)
	}

	// A new address: a new server, on the same store.
	addr2 := freeAddr(t)
	h.apply(ctx, testConfig(t, dir, strings.Replace(withBus, addr, addr2, 1)))
	testwait.NoError(t, 20*time.Second, func() error { _, err := h.server(); return err })
	if now, _ := h.server(); now == srv || now.Addr().String() != addr2 {
		t.Errorf("after a new listen address: server %p at %v, want a new one at %s", now, now.Addr(), addr2)
	}
	if list, _ := h.Streams(ctx); len(list) != 1 || list[0].Messages != 1 {
		t.Errorf("streams after the restart: %+v", list)
	}

	// No bus any more: it stops.
	h.apply(ctx, none)
	if _, err := h.Streams(ctx); !errors.Is(err, errNoBus) {
		t.Errorf("after bus: is gone: %v", err)
	}
}

// TestRunBus: the run engine's view of the bus publishes on the embedded
// bus and delivers what is published there to a subscription; without a
// bus, both say so.
func TestRunBus(t *testing.T) {
	testwait.NoLeak(t)
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, filepath.Join(dir, "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rec := events.NewRecorder(st)
	defer rec.Close(ctx)
	h := newBusHost(dir, rec, slog.New(slog.DiscardHandler))
	defer h.stop()
	b := runBus{h}

	h.start(testConfig(t, dir, "services: {web: {command: [x]}}\n"))
	if err := b.Publish(ctx, "orders.new", []byte("x")); !errors.Is(err, errNoBus) {
		t.Errorf("publish without bus: %v, want %v", err, errNoBus)
	}
	if err := b.Subscribe(ctx, "orders.*", func() {}, func(string, []byte) {}); !errors.Is(err, errNoBus) {
		t.Errorf("subscribe without bus: %v, want %v", err, errNoBus)
	}

	h.apply(ctx, testConfig(t, dir, fmt.Sprintf("node: n1\nbus: {listen: %s}\nservices: {web: {command: [x]}}\n", freeAddr(t))))
	testwait.NoError(t, 20*time.Second, func() error { _, err := h.server(); return err })
	sctx, cancel := context.WithCancel(ctx)
	ready, got, done := make(chan struct{}), make(chan string, 1), make(chan error, 1)
	go func() {
		done <- b.Subscribe(sctx, "orders.*", func() { close(ready) }, func(subject string, data []byte) {
			got <- subject + " " + string(data)
		})
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("subscribe: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no subscription after 10s")
	}
	if err := b.Publish(ctx, "orders.new", []byte(`{"id": 7}`)); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-got:
		if m != `orders.new {"id": 7}` {
			t.Errorf("got %q", m)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no message after 10s")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("subscribe after its context ended: %v", err)
	}
}
