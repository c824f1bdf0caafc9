package bus

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/clock"
	"github.com/stewardhq/steward/internal/config"
)

// The directories of an inbound file bridge for the files it has handled.
const (
	DoneDir   = "done"
	FailedDir = "failed"
)

// HeaderFile carries the name of the file a file bridge published.
const HeaderFile = "Steward-File"

// rescanEvery is how often an inbound file bridge reads its directory
// without being told of a change, for the file systems whose changes
// fsnotify does not see (network shares).
const rescanEvery = 10 * time.Second

// seen is what a file bridge last saw of a file, and since when.
type seen struct {
	size  int64
	mod   time.Time
	since time.Time
}

// fileBridge is one running inbound file bridge.
type fileBridge struct {
	s     *Server
	cfg   config.BusFile
	clk   clock.Clock
	root  *os.Root
	files map[string]seen
}

// WatchFiles runs the inbound file bridge f until ctx ends: each regular
// file dropped into f.Dir (not one whose name starts with "."), once its
// size and modification time have not changed for f.Settle, is published
// on f.Subject through JetStream, with a message id made from its name and
// content so that a file published again after a crash is stored once,
// then moved to done/ — or, when the bus refuses it, to failed/ next to a
// NAME.reason file saying why. It makes the directories it needs; it
// returns an error only when it cannot watch f.Dir. clk is the clock the
// settling goes by.
func (s *Server) WatchFiles(ctx context.Context, f config.BusFile, clk clock.Clock) error {
	for _, d := range []string{f.Dir, path.Join(f.Dir, DoneDir), path.Join(f.Dir, FailedDir)} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return fmt.Errorf("file bridge %s: %w", f.Dir, err)
		}
	}
	root, err := os.OpenRoot(f.Dir)
	if err != nil {
		return fmt.Errorf("file bridge %s: %w", f.Dir, err)
	}
	defer root.Close()
	var changes <-chan fsnotify.Event
	var watchErrs <-chan error
	if w, err := fsnotify.NewWatcher(); err != nil {
		s.log.Warn("bus: file bridge polls only", "dir", f.Dir, "err", err)
	} else {
		defer w.Close()
		if err := w.Add(f.Dir); err != nil {
			s.log.Warn("bus: file bridge polls only", "dir", f.Dir, "err", err)
		} else {
			changes, watchErrs = w.Events, w.Errors
		}
	}
	b := &fileBridge{s: s, cfg: f, clk: clk, root: root, files: map[string]seen{}}
	for {
		wake := b.scan(ctx)
		t := clk.NewTimer(wake)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-changes:
		case err := <-watchErrs:
			s.log.Warn("bus: file bridge watch", "dir", f.Dir, "err", err)
		case <-t.C():
		}
		t.Stop()
	}
}

// scan reads the directory, publishes the files that settled and returns
// how long to wait before the next scan when nothing changes.
func (b *fileBridge) scan(ctx context.Context) time.Duration {
	entries, err := fs.ReadDir(b.root.FS(), ".")
	if err != nil {
		b.s.log.Warn("bus: file bridge read", "dir", b.cfg.Dir, "err", err)
		return rescanEvery
	}
	now := b.clk.Now()
	wake := rescanEvery
	present := map[string]bool{}
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || strings.HasPrefix(name, ".") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // gone since the listing
		}
		present[name] = true
		last, ok := b.files[name]
		if !ok || last.size != info.Size() || !last.mod.Equal(info.ModTime()) {
			last = seen{size: info.Size(), mod: info.ModTime(), since: now}
			b.files[name] = last
		}
		if left := b.cfg.Settle - now.Sub(last.since); left > 0 {
			wake = min(wake, left)
			continue
		}
		if ctx.Err() != nil {
			return wake
		}
		if retry := b.handle(ctx, name); retry {
			b.files[name] = seen{size: last.size, mod: last.mod, since: now}
			wake = min(wake, b.cfg.Settle)
			continue
		}
		delete(b.files, name)
		delete(present, name)
	}
	for name := range b.files {
		if !present[name] {
			delete(b.files, name)
		}
	}
	return wake
}

// handle publishes the settled file name and moves it to done/ or
// failed/. It reports whether to try again later: the bus did not answer.
func (b *fileBridge) handle(ctx context.Context, name string) (retry bool) {
	log := b.s.log.With("dir", b.cfg.Dir, "file", name)
	data, err := b.root.ReadFile(name)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			log.Warn("bus: file bridge read", "err", err)
			return true
		}
		return false
	}
	sum := sha256.New()
	fmt.Fprintf(sum, "%s\x00%s\x00", b.cfg.Subject, name)
	sum.Write(data)
	m := Message{
		Subject: b.cfg.Subject, Type: TypeEvent, ID: "file." + hex.EncodeToString(sum.Sum(nil))[:40],
		Header: map[string]string{HeaderFile: name}, Data: data,
	}
	pub, err := b.s.Publish(ctx, m)
	var apiErr *jetstream.APIError
	switch {
	case err == nil:
		log.Debug("bus: file published", "stream", pub.Stream, "seq", pub.Seq, "duplicate", pub.Duplicate)
		b.move(name, DoneDir, "")
	case errors.As(err, &apiErr), steward.ErrorCode(err) == steward.ETOOLARGE, steward.ErrorCode(err) == steward.EINVALID:
		log.Warn("bus: file refused", "err", err)
		b.move(name, FailedDir, steward.ErrorMessage(err))
	default:
		if ctx.Err() == nil {
			log.Warn("bus: file not published yet", "err", err)
		}
		return true
	}
	return false
}

// move moves name into dir under a name no file there has yet, and writes
// reason next to it when there is one.
func (b *fileBridge) move(name, dir, reason string) {
	target := path.Join(dir, name)
	for i := 1; ; i++ {
		if _, err := b.root.Lstat(target); errors.Is(err, fs.ErrNotExist) {
			break
		}
		target = path.Join(dir, name+"."+strconv.Itoa(i))
	}
	if err := b.root.Rename(name, target); err != nil {
		b.s.log.Error("bus: file bridge move", "dir", b.cfg.Dir, "file", name, "to", target, "err", err)
		return
	}
	if reason != "" {
		// Through a temporary name, so that a reader never sees it half
		// written.
		tmp := target + ".reason.tmp"
		err := b.root.WriteFile(tmp, []byte(reason+"\n"), 0o640)
		if err == nil {
			err = b.root.Rename(tmp, target+".reason")
		}
		if err != nil {
			b.root.Remove(tmp)
			b.s.log.Error("bus: file bridge reason", "dir", b.cfg.Dir, "file", target, "err", err)
		}
	}
}
