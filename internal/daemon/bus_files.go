package daemon

import (
	"context"
	"log/slog"
	"reflect"
	"sync"
	"time"

	"github.com/stewardhq/steward/internal/bus"
	"github.com/stewardhq/steward/internal/clock"
	"github.com/stewardhq/steward/internal/config"
)

// bridgeRetry is how long a file bridge that could not start waits before
// it tries again.
const bridgeRetry = 10 * time.Second

// bridges runs the file bridges of bus.files and bus.sinks on the running
// bus. It is safe for concurrent use.
type bridges struct {
	log *slog.Logger

	mu     sync.Mutex
	ctx    context.Context // the running bus's; nil while none runs
	srv    *bus.Server
	files  []config.BusFile
	sinks  []config.BusSink
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// start runs the bridges of b on srv until ctx ends or stop.
func (br *bridges) start(ctx context.Context, srv *bus.Server, b *config.Bus) {
	br.mu.Lock()
	defer br.mu.Unlock()
	br.ctx, br.srv = ctx, srv
	br.run(b)
}

// update moves the running bridges to b's, restarting them when they
// changed.
func (br *bridges) update(b *config.Bus) {
	br.mu.Lock()
	defer br.mu.Unlock()
	if br.ctx == nil || reflect.DeepEqual(br.files, b.Files) && reflect.DeepEqual(br.sinks, b.Sinks) {
		return
	}
	br.halt()
	br.run(b)
}

// stop stops the bridges and waits for them.
func (br *bridges) stop() {
	br.mu.Lock()
	defer br.mu.Unlock()
	br.halt()
	br.ctx, br.srv = nil, nil
}

// run starts b's bridges; br.mu is held.
func (br *bridges) run(b *config.Bus) {
	ctx, cancel := context.WithCancel(br.ctx)
	br.cancel, br.files, br.sinks = cancel, b.Files, b.Sinks
	srv := br.srv
	for _, f := range b.Files {
		br.wg.Go(func() {
			br.keep(ctx, "file bridge", f.Dir, func() error { return srv.WatchFiles(ctx, f, clock.System{}) })
		})
	}
	for _, k := range b.Sinks {
		br.wg.Go(func() {
			br.keep(ctx, "sink", k.Dir, func() error { return srv.SinkFiles(ctx, k) })
		})
	}
}

// halt stops the running bridges and waits for them; br.mu is held.
func (br *bridges) halt() {
	if br.cancel != nil {
		br.cancel()
		br.wg.Wait()
		br.cancel = nil
	}
}

// keep runs f until ctx ends, again after bridgeRetry when it fails.
func (br *bridges) keep(ctx context.Context, what, dir string, f func() error) {
	for ctx.Err() == nil {
		err := f()
		if err == nil || ctx.Err() != nil {
			return
		}
		br.log.Error("bus: "+what+" stopped; retrying", "dir", dir, "err", err, "in", bridgeRetry)
		t := time.NewTimer(bridgeRetry)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
}
