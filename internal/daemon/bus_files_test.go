package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/bus"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/events"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/testwait"
)

// TestBusHostBridges: the file bridges run once the bus is ready, and a
// reload that changes them restarts them without a new server.
func TestBusHostBridges(t *testing.T) {
	testwait.NoLeak(t)
	ctx := context.Background()
	dir, files := t.TempDir(), t.TempDir()
	st, err := store.Open(ctx, filepath.Join(dir, "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rec := events.NewRecorder(st)
	defer rec.Close(ctx)
	h := newBusHost(dir, rec, slog.New(slog.DiscardHandler))
	defer h.stop()

	in, out := filepath.Join(files, "in"), filepath.Join(files, "out")
	base := fmt.Sprintf("bus:\n  streams: {FILES: {subjects: [\"files.>\"]}}\n  files: [{dir: %s, subject: files.in, settle: 20ms}]\n", in)
	h.start(testConfig(t, dir, base))
	testwait.NoError(t, 20*time.Second, func() error { _, err := h.server(); return err })
	srv, _ := h.server()
	testwait.For(t, 30*time.Second, "in/done made", func() bool { _, err := os.Stat(filepath.Join(in, bus.DoneDir)); return err == nil })
	os.WriteFile(filepath.Join(in, "a.txt"), []byte("hello"), 0o600)
	testwait.For(t, 30*time.Second, "a.txt published and moved", func() bool {
		_, err := os.Stat(filepath.Join(in, bus.DoneDir, "a.txt"))
		return err == nil
	})

	h.apply(ctx, testConfig(t, dir, base+fmt.Sprintf("  sinks: [{subject: files.in, dir: %s}]\n", out)))
	if now, err := h.server(); err != nil || now != srv {
		t.Fatalf("after adding a sink: %v, %v; want the same server", now, err)
	}
	testwait.NoError(t, 30*time.Second, func() error {
		_, err := srv.Conn().Request("$JS.API.CONSUMER.INFO.FILES."+bus.SinkName(config.BusSink{Subject: "files.in", Dir: out}), nil, time.Second)
		return err
	})
	os.WriteFile(filepath.Join(in, "b.txt"), []byte("world"), 0o600)
	testwait.For(t, 30*time.Second, "b.txt in the sink", func() bool {
		names, _ := filepath.Glob(filepath.Join(out, "FILES-000000000002-file.*"))
		if len(names) != 1 {
			return false
		}
		got, err := os.ReadFile(names[0])
		return err == nil && string(got) == "world"
	})
}
