package logcap

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"time"
)

// errClosed is what Capture reports for output that arrived after Close.
var errClosed = errors.New("log is closed")

// flushAlign is the file offset a busy stream's writes end at: writes of
// whole aligned blocks cost the kernel about a quarter less.
const flushAlign = 64 << 10

// write formats the lines of p, read from stream at one moment, into the
// ring and the file, then hands them to the subscribers. p holds whole lines
// ending in a newline, except that its last line may lack one; such a line
// is written as a line too.
func (l *Log) write(stream string, p []byte) error {
	l.mu.Lock()
	defer l.unlockReport()
	if l.closed {
		return errClosed
	}
	now := l.now()
	var first error
	if !l.next.IsZero() && !now.Before(l.next) {
		if l.size+int64(l.ring.pend) > 0 {
			first = l.flushLocked(true)
			if _, err := l.rotateLocked(); err != nil && first == nil {
				first = err
			}
		}
		l.next = l.boundary(now)
	}
	pre := append(now.UTC().AppendFormat(l.pre[:0], TimeFormat), ' ')
	pre = append(append(pre, stream...), ' ')
	for q := p; len(q) > 0; {
		room := min(int64(l.ring.max-l.ring.pend), l.rot.MaxSize-l.size-int64(l.ring.pend))
		if c := l.ring.putLines(pre, q, int(max(room, 0))); c > 0 {
			q = q[c:]
			continue
		}
		// One line that needs more: a rotation, a flush, a wrap around
		// the end of the ring, a split, or no newline.
		var line []byte
		line, q = nextLine(q)
		size := len(pre) + len(line) + 1
		if used := l.size + int64(l.ring.pend); used+int64(size) > l.rot.MaxSize && used > 0 {
			if err := l.flushLocked(true); err != nil && first == nil {
				first = err
			}
			if _, err := l.rotateLocked(); err != nil && first == nil {
				first = err
			}
		} else if l.ring.pend+size > l.ring.max {
			if err := l.flushLocked(false); err != nil && first == nil {
				first = err
			}
		}
		l.ring.putLine(pre, line)
	}
	if err := l.flushLocked(false); err != nil && first == nil {
		first = err
	}
	if len(l.subs) > 0 {
		l.publishLocked(now, stream, p)
	}
	return first
}

// nextLine splits the first line off p: up to a newline, which it drops, or
// MaxLine bytes, or all of p.
func nextLine(p []byte) (line, rest []byte) {
	w := p
	if len(w) > MaxLine {
		w = w[:MaxLine+1]
	}
	if i := bytes.IndexByte(w, '\n'); i >= 0 {
		return p[:i], p[i+1:]
	}
	if len(p) > MaxLine {
		return p[:MaxLine], p[MaxLine:]
	}
	return p, nil
}

// flush writes all pending output to the file.
func (l *Log) flush() error {
	l.mu.Lock()
	defer l.unlockReport()
	return l.flushLocked(true)
}

// flushLocked writes the pending bytes of the ring to the file: all of them,
// or, unless full or during an outage, those up to the last flushAlign
// boundary of the file. Output that cannot be written is dropped from the
// file (it stays in the ring), so that a full disk never stops the
// capture; see failLocked.
func (l *Log) flushLocked(full bool) error {
	n := l.ring.pend
	if !full && l.down.err == nil {
		n -= int((l.size + int64(n)) % flushAlign)
	}
	if n <= 0 {
		return nil
	}
	a, b := l.ring.last(l.ring.pend)
	if len(a) >= n {
		a, b = a[:n], nil
	} else {
		b = b[:n-len(a)]
	}
	l.ring.pend -= n
	if l.f == nil {
		if l.closed {
			return errClosed
		}
		if err := l.openFileLocked(); err != nil {
			l.failLocked(err, l.size, 0, nil, a, b)
			return fmt.Errorf("logcap: %w", err)
		}
	}
	var pre []byte
	if l.cut || l.down.err != nil {
		pre = l.markerLocked()
	}
	start := l.size
	w, err := writeAll(l.f, pre, a, b)
	if err != nil {
		l.failLocked(err, start, w, pre, a, b)
		return fmt.Errorf("logcap: %w", err)
	}
	l.size = start + w
	l.cut = false
	if l.down.err != nil {
		l.resumeLocked()
	}
	if full {
		l.open = 0
	} else {
		l.open = trailing(a, b, l.open)
	}
	return nil
}

// writeAll writes pre, a and b to f and returns the bytes written.
func writeAll(f file, pre, a, b []byte) (int64, error) {
	var w int64
	for _, p := range [...][]byte{pre, a, b} {
		if len(p) == 0 {
			continue
		}
		n, err := f.Write(p)
		w += int64(n)
		if err != nil {
			return w, err
		}
	}
	return w, nil
}

// trailing returns the bytes after the last newline of a|b, or open plus
// all of them when there is none.
func trailing(a, b []byte, open int64) int64 {
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		return int64(len(b) - i - 1)
	}
	if i := bytes.LastIndexByte(a, '\n'); i >= 0 {
		return int64(len(a) - i - 1 + len(b))
	}
	return open + int64(len(a)+len(b))
}

// openFileLocked opens the log file for appending and learns its size and
// whether it ends inside a line.
func (l *Log) openFileLocked() error {
	f, err := os.OpenFile(l.path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	cut := false
	if size := st.Size(); size > 0 {
		var last [1]byte
		_, err := f.ReadAt(last[:], size-1)
		cut = err == nil && last[0] != '\n'
	}
	l.f, l.size, l.open, l.cut = f, st.Size(), 0, cut
	return nil
}

// publishLocked hands the lines of p to the subscribers, dropping and
// counting those a subscriber has no room for. All texts share one string.
func (l *Log) publishLocked(now time.Time, stream string, p []byte) {
	t := time.UnixMilli(now.UnixMilli()).UTC()
	var s string
	for q, off := p, 0; len(q) > 0; {
		line, rest := nextLine(q)
		start := off
		off += len(q) - len(rest)
		q = rest
		for _, sub := range l.subs {
			if len(sub.ch) == cap(sub.ch) {
				sub.missed++
				continue
			}
			if s == "" {
				s = string(p)
			}
			sub.ch <- Line{Time: t, Stream: stream, Text: s[start : start+len(line)], Missed: sub.missed}
			sub.missed = 0
		}
	}
}
