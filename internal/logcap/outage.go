package logcap

import (
	"bytes"
	"fmt"
	"io"
	"time"
)

// file is what a Log writes to: an *os.File, or in tests one that fails.
type file interface {
	io.WriteCloser
	Truncate(size int64) error
}

// outage is a failure to write the file, from its first failed write until
// a write succeeds, with what the file did not get meanwhile.
type outage struct {
	err          error // nil when there is none
	since        time.Time
	lines, bytes int64
}

// failLocked handles a write of pre, a and b at the end of the file, at
// start, that failed with err after w bytes. It takes the file back to the
// end of its last whole line: to start when there is a pre (a marker is
// written whole or not at all), else to the last newline written or, with
// none, to before the head of the line an aligned flush cut. It drops a, b
// and the rest of the pending output, counts what the file did not get,
// and begins an outage unless one is under way. When the file cannot be
// taken back, the next write starts with a newline.
func (l *Log) failLocked(err error, start, w int64, pre, a, b []byte) {
	var keep, removed int64 // bytes of a|b kept; bytes of earlier writes taken back
	if len(pre) == 0 {
		if i := lastNewline(a, b, int(w)); w > 0 && i >= 0 {
			keep = int64(i + 1)
		} else {
			removed = l.open
		}
	}
	end := start + keep - removed
	l.size = start + w
	if l.f != nil && l.size != end {
		if terr := l.f.Truncate(end); terr == nil {
			l.size = end
		} else {
			l.cut = endsInLine(int(w), pre, a, b)
		}
	}
	l.open = 0

	lines, n := countLines(a, b, int(keep))
	ra, rb := l.ring.last(l.ring.pend)
	rest, m := countLines(ra, rb, 0)
	l.ring.pend = 0
	if l.down.err == nil {
		l.down = outage{err: err, since: l.now()}
		if l.onFile != nil {
			l.states = append(l.states, FileState{Err: err, Since: l.down.since})
		}
	}
	l.down.lines += lines + rest
	l.down.bytes += n + m + removed
}

// endsInLine reports whether the first w bytes of pre|a|b end inside a
// line.
func endsInLine(w int, parts ...[]byte) bool {
	for _, p := range parts {
		if w <= len(p) {
			return w > 0 && p[w-1] != '\n'
		}
		w -= len(p)
	}
	return false
}

// countLines returns the newlines and the bytes in a|b after its first
// skip bytes.
func countLines(a, b []byte, skip int) (lines, n int64) {
	if skip >= len(a) {
		b, a = b[skip-len(a):], nil
	} else {
		a = a[skip:]
	}
	return int64(bytes.Count(a, []byte{'\n'}) + bytes.Count(b, []byte{'\n'})), int64(len(a) + len(b))
}

// resumeLocked ends the outage once a write, after its marker, succeeded.
func (l *Log) resumeLocked() {
	if l.onFile != nil {
		l.states = append(l.states, FileState{Since: l.down.since, Lines: l.down.lines, Bytes: l.down.bytes})
	}
	l.down = outage{}
}

// markerLocked returns what the next write begins with: a newline that
// ends a cut line, and, during an outage, the marker line.
func (l *Log) markerLocked() []byte {
	m := l.mark[:0]
	if l.cut {
		m = append(m, '\n')
	}
	if d := l.down; d.err != nil {
		m = l.now().UTC().AppendFormat(m, TimeFormat)
		m = fmt.Appendf(m, " %s [steward] %d lines (%d bytes) of output since %s were not written to this file: %v\n",
			Stderr, d.lines, d.bytes, d.since.UTC().Format(TimeFormat), d.err)
	}
	l.mark = m
	return m
}

// unlockReport calls onFile for the file states queued, in order, and
// unlocks l.mu. When another goroutine is calling onFile, that one calls
// it for these too, so that the calls never overlap and keep their order.
func (l *Log) unlockReport() {
	for len(l.states) > 0 && !l.reporting {
		st := l.states[0]
		l.states = l.states[1:]
		l.reporting = true
		l.mu.Unlock()
		l.onFile(st)
		l.mu.Lock()
		l.reporting = false
	}
	l.mu.Unlock()
}
