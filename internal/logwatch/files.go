package logwatch

// The files a Watcher follows: opening one where its saved position says,
// reading its whole lines, noticing truncation and rotation, and saving
// where each was read to.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/stewardhq/steward/internal/store"
)

// file is a followed file.
type file struct {
	id       string
	path     string
	f        *os.File
	offset   int64  // where the next whole line starts
	pending  []byte // bytes read past offset: a line still without its newline
	headLen  int
	headHash string
	size     int64
	rotated  bool      // its path no longer names it
	lastGrow time.Time // when it last grew, or was found rotated
}

func (fl *file) readPos() int64 { return fl.offset + int64(len(fl.pending)) }

// open starts following the file at path, whose identity is id, from
// where the saved position, or the rules for new files, say.
func (w *Watcher) open(path, id string, initial bool) (*file, error) {
	f, err := openFile(path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil {
		// The file may have been replaced between the look and the open.
		var got string
		if got, err = identity(fi, f); err == nil && got != id {
			err = fmt.Errorf("replaced while opening")
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	fl := &file{id: id, path: path, f: f, lastGrow: w.now()}
	w.files[id] = fl
	size := fi.Size()
	if saved, ok := w.stored[id]; ok {
		delete(w.stored, id)
		if w.sameHead(f, saved.HeadLen, saved.HeadHash) && saved.Offset <= size {
			fl.offset, fl.headLen, fl.headHash = saved.Offset, saved.HeadLen, saved.HeadHash
			return fl, nil
		}
		// Truncated, or rewritten, while steward was down.
		w.recoverCopy(&file{id: id, path: path, offset: saved.Offset, headLen: saved.HeadLen, headHash: saved.HeadHash})
		w.log.Info("logwatch: file truncated while stopped, reading it from its start", "watch", w.cfg.Name, "path", path)
		return fl, nil
	}
	if initial && w.firstRun && w.cfg.StartAt != StartBeginning {
		fl.offset = lineStartBefore(f, size)
	}
	w.updateHead(fl)
	return fl, nil
}

// lineStartBefore returns where the line that holds the end of a file of
// size bytes starts: just after its last newline, found in its last 64 KiB.
func lineStartBefore(f *os.File, size int64) int64 {
	const tail = 64 << 10
	from := max(size-tail, 0)
	b := make([]byte, size-from)
	n, _ := f.ReadAt(b, from)
	if i := bytes.LastIndexByte(b[:n], '\n'); i >= 0 {
		return from + int64(i) + 1
	}
	if from == 0 {
		return 0
	}
	return size
}

// read reads fl from where it was to its end and checks its whole lines.
func (w *Watcher) read(fl *file) {
	fi, err := fl.f.Stat()
	if err != nil {
		return
	}
	size := fi.Size()
	if size < fl.readPos() || (fl.headLen > 0 && size != fl.size && !w.sameHead(fl.f, fl.headLen, fl.headHash)) {
		w.truncated(fl)
	}
	fl.size = size
	grew := w.readFrom(fl, fl.f)
	if grew {
		fl.lastGrow = w.now()
		w.updateHead(fl)
	}
}

// readFrom reads r, which holds fl's content, from fl's read position to
// its end, checking whole lines, and reports whether it read anything.
func (w *Watcher) readFrom(fl *file, r io.ReaderAt) bool {
	grew := false
	for w.ctx.Err() == nil { // a big file must not hold up Stop
		n0 := copy(w.buf, fl.pending)
		n, err := r.ReadAt(w.buf[n0:], fl.readPos())
		if n > 0 {
			grew = true
			w.nbytes.Add(uint64(n))
			data := w.buf[:n0+n]
			end := bytes.LastIndexByte(data, '\n') + 1
			if end == 0 && len(data) == len(w.buf) {
				end = len(data) // a line longer than the buffer: cut it
			}
			if end > 0 {
				w.lines.Add(uint64(bytes.Count(data[:end], []byte{'\n'})))
				w.m.Scan(fl.path, data[:end], w.now())
				fl.offset += int64(end)
				w.dirty = true
			}
			fl.pending = append(fl.pending[:0], data[end:]...)
		}
		if err != nil || n == 0 {
			return grew
		}
	}
	return grew
}

// truncated handles a file that was truncated, or truncated and
// rewritten: what was written after the read position but before the
// truncation is read from a copy of the file, if there is one (a
// copytruncate rotation), then the file is read from its start.
func (w *Watcher) truncated(fl *file) {
	w.log.Info("logwatch: file truncated, reading it from its start", "watch", w.cfg.Name, "path", fl.path)
	w.recoverCopy(fl)
	w.flushPending(fl)
	fl.offset, fl.pending, fl.headLen, fl.headHash = 0, fl.pending[:0], 0, ""
	w.dirty = true
}

// recoverCopy reads, from a copy of fl made before it was truncated, what
// fl held past its read position. The copy is a file in fl's directory
// whose name starts with fl's and whose first bytes are fl's.
func (w *Watcher) recoverCopy(fl *file) {
	if fl.headLen == 0 {
		return
	}
	dir, base := filepath.Split(fl.path)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	var (
		best    *os.File
		bestMod time.Time
	)
	for _, e := range entries {
		name := e.Name()
		if name == base || !strings.HasPrefix(name, base) {
			continue
		}
		path := filepath.Join(dir, name)
		id, fi, err := pathIdentity(path)
		if err != nil || id == fl.id || w.files[id] != nil || !fi.Mode().IsRegular() || fi.Size() < fl.readPos() {
			continue
		}
		f, err := openFile(path)
		if err != nil {
			continue
		}
		if !w.sameHead(f, fl.headLen, fl.headHash) || (best != nil && !fi.ModTime().After(bestMod)) {
			f.Close()
			continue
		}
		if best != nil {
			best.Close()
		}
		best, bestMod = f, fi.ModTime()
	}
	if best == nil {
		return
	}
	defer best.Close()
	w.log.Info("logwatch: reading the end of a truncated file from its copy", "watch", w.cfg.Name,
		"path", fl.path, "copy", best.Name())
	path := fl.path
	fl.path = best.Name()
	w.readFrom(fl, best)
	w.flushPending(fl)
	fl.path = path
}

// finishStored reads the rest of files that had a saved position but that
// the globs no longer match: renamed by a rotation while steward was down.
// It looks for each in the directory where it was last seen.
func (w *Watcher) finishStored() {
	for id, saved := range w.stored {
		delete(w.stored, id)
		w.forget = append(w.forget, id)
		dir := filepath.Dir(saved.Path)
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			path := filepath.Join(dir, e.Name())
			got, fi, err := pathIdentity(path)
			if err != nil || got != id || !fi.Mode().IsRegular() {
				continue
			}
			f, err := openFile(path)
			if err != nil {
				break
			}
			if w.sameHead(f, saved.HeadLen, saved.HeadHash) && fi.Size() >= saved.Offset {
				w.log.Info("logwatch: reading the rest of a file rotated while stopped", "watch", w.cfg.Name, "path", path)
				fl := &file{id: id, path: path, offset: saved.Offset}
				w.readFrom(fl, f)
				w.flushPending(fl)
			}
			f.Close()
			break
		}
	}
}

// flushPending checks fl's last line, which will never get its newline.
func (w *Watcher) flushPending(fl *file) {
	if len(fl.pending) == 0 {
		return
	}
	w.lines.Add(1)
	w.m.Scan(fl.path, fl.pending, w.now())
	fl.offset += int64(len(fl.pending))
	fl.pending = fl.pending[:0]
	w.dirty = true
}

// close stops following fl, checking its last line.
func (w *Watcher) close(fl *file) {
	w.flushPending(fl)
	fl.f.Close()
	delete(w.files, fl.id)
	w.forget = append(w.forget, fl.id)
	w.dirty = true
}

// sameHead reports whether f begins with the headLen bytes whose hash is
// hash; a file without a head to compare is the same.
func (w *Watcher) sameHead(f *os.File, headLen int, hash string) bool {
	if headLen == 0 {
		return true
	}
	b := make([]byte, headLen)
	if n, _ := f.ReadAt(b, 0); n < headLen {
		return false
	}
	return hashHead(b) == hash
}

// updateHead extends fl's head hash to cover up to headMax bytes it has
// read.
func (w *Watcher) updateHead(fl *file) {
	want := int(min(fl.offset, headMax))
	if want <= fl.headLen {
		return
	}
	b := make([]byte, want)
	if n, _ := fl.f.ReadAt(b, 0); n < want {
		return
	}
	fl.headLen, fl.headHash = want, hashHead(b)
	w.dirty = true
}

func hashHead(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// maybeSave saves the read positions when lines raised events since the
// last save, when saveEvery has passed, or when force is set.
func (w *Watcher) maybeSave(ctx context.Context, force bool) {
	st := w.opts.Store
	if st == nil || (!w.dirty && len(w.forget) == 0) {
		return
	}
	now := w.now()
	if !force && !w.sawEvent.Load() && now.Sub(w.lastSave) < saveEvery {
		return
	}
	offs := make([]store.LogOffset, 0, len(w.files))
	for _, fl := range w.files {
		offs = append(offs, store.LogOffset{Watch: w.cfg.Name, Identity: fl.id, Path: fl.path,
			Offset: fl.offset, HeadLen: fl.headLen, HeadHash: fl.headHash, Updated: now.UTC()})
	}
	if err := st.SaveLogOffsets(ctx, w.cfg.Name, offs, w.forget); err != nil {
		if ctx.Err() == nil {
			w.log.Error("logwatch: save read positions", "watch", w.cfg.Name, "err", err)
		}
		return
	}
	w.sawEvent.Store(false)
	w.forget, w.dirty, w.lastSave = nil, false, now
}

// shutdown saves the read positions and closes everything.
func (w *Watcher) shutdown() {
	var err error
	if st := w.opts.Store; st != nil && (w.dirty || len(w.forget) > 0) {
		offs := make([]store.LogOffset, 0, len(w.files))
		for _, fl := range w.files {
			offs = append(offs, store.LogOffset{Watch: w.cfg.Name, Identity: fl.id, Path: fl.path,
				Offset: fl.offset, HeadLen: fl.headLen, HeadHash: fl.headHash})
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = st.SaveLogOffsets(ctx, w.cfg.Name, offs, w.forget)
		cancel()
	}
	for _, fl := range w.files {
		fl.f.Close()
	}
	w.files = map[string]*file{}
	w.nfiles.Store(0)
	if w.fsw != nil {
		w.fsw.Close()
	}
	if err != nil {
		err = fmt.Errorf("logwatch %s: save read positions: %w", w.cfg.Name, err)
	}
	w.mu.Lock()
	w.runErr = err
	w.mu.Unlock()
}
