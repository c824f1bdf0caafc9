package logcap

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

const (
	// bufSize is the size of a read buffer: one read takes up to this much.
	bufSize = 256 << 10
	// maxPause is the longest wait after a read that found the pipe nearly
	// empty, letting small writes pile up; it bounds the added latency.
	maxPause = 2 * time.Millisecond
	// minPause is the shortest wait worth taking: the runtime's timers do
	// not sleep for less than about a millisecond.
	minPause = time.Millisecond
)

// errAgain is what a source's read returns when nothing can be read now.
var errAgain = errors.New("no data yet")

// bufPool holds read buffers. A Capture holds one only while its stream is
// busy, so idle services cost no buffer memory.
var bufPool = sync.Pool{New: func() any { return new([bufSize]byte) }}

// source is what Capture reads from.
type source interface {
	// read reads into p: at least one byte, or io.EOF, or an error, or,
	// for a non-blocking source, errAgain when nothing is there yet.
	read(p []byte) (int, error)
	// wait blocks until read has something to return; fast tells that the
	// stream was read at more than half a pipe a millisecond until now.
	wait(fast bool) error
	// capacity returns the size of the pipe buffer, 0 when unknown or not
	// a pipe: Capture then never pauses between reads.
	capacity() int
	// grow enlarges the pipe buffer and returns its size.
	grow() int
	close() error
}

// readerSource reads any io.Reader with blocking reads.
type readerSource struct {
	r io.Reader
}

func (s readerSource) read(p []byte) (int, error) {
	for {
		if n, err := s.r.Read(p); n > 0 || err != nil {
			return n, err
		}
	}
}

func (readerSource) wait(bool) error { return nil }
func (readerSource) capacity() int   { return 0 }
func (readerSource) grow() int       { return 0 }

func (s readerSource) close() error {
	if f, ok := s.r.(*os.File); ok {
		return f.Close()
	}
	return nil
}

// Capture reads r until EOF or a read error, writing each line it reads
// from the stream (Stdout or Stderr) to the log; a last line without a
// newline is written too. It keeps reading when the file cannot be written,
// so the child is never blocked, and then returns the first write error;
// Options.OnFile hears of it at once (see Write errors in the package doc).
//
// When r is an *os.File, Capture owns it and closes it. On Unix it reads a
// duplicate of the descriptor without the runtime's poller while the stream
// is busy. After a read that found the pipe nearly empty it pauses, up to
// 2 ms and never long enough to let the pipe fill, so that small writes are
// read in batches; on Linux it enlarges a busy pipe to 1 MiB. A stream
// quiet for a while waits in the runtime's poller, holding neither a thread
// nor a buffer. Lines read in one batch share a timestamp. For the cheapest
// writes in the child, create the pipe with Pipe rather than os.Pipe.
//
// Capture is safe for concurrent use; one Capture per stream may run at a
// time.
func (l *Log) Capture(r io.Reader, stream string) error {
	if stream != Stdout && stream != Stderr {
		if f, ok := r.(*os.File); ok {
			f.Close()
		}
		return fmt.Errorf("logcap: capture: unknown stream %q", stream)
	}
	src, err := newSource(r)
	if err != nil {
		return fmt.Errorf("logcap: capture %s of %s: %w", stream, l.name, err)
	}
	rerr, werr := l.capture(src, stream)
	if cerr := src.close(); cerr != nil && rerr == nil {
		rerr = cerr
	}
	switch {
	case rerr != nil:
		return fmt.Errorf("logcap: read %s of %s: %w", stream, l.name, rerr)
	case werr != nil:
		return fmt.Errorf("logcap: capture %s of %s: %w", stream, l.name, werr)
	}
	return nil
}

// capture runs the read loop; it returns the read error, if not io.EOF,
// and the first write error.
func (l *Log) capture(src source, stream string) (rerr, werr error) {
	var (
		buf   *[bufSize]byte
		k     int    // bytes of an unfinished line at the start of buf
		carry []byte // the unfinished line while buf is given back
		got   int    // bytes read since the last pause
		now   = time.Now()
		pace  = pacer{capacity: src.capacity(), last: now, winStart: now}
		grown bool // tried to enlarge the pipe since it was last shrunk
	)
	defer func() {
		if e := l.flush(); e != nil && werr == nil {
			werr = e
		}
		if buf != nil {
			bufPool.Put(buf)
		}
	}()
	for {
		if buf == nil {
			buf = bufPool.Get().(*[bufSize]byte)
			k = copy(buf[:], carry)
			carry = carry[:0]
		}
		space := bufSize - k
		n, err := src.read(buf[k:])
		if err == errAgain {
			// Nothing there: complete the file, and give the buffer back
			// while waiting.
			if e := l.flush(); e != nil && werr == nil {
				werr = e
			}
			carry = append(carry, buf[:k]...)
			bufPool.Put(buf)
			buf = nil
			if err := src.wait(pace.fast); err != nil {
				return err, werr
			}
			pace.rest(time.Now())
			if c := src.capacity(); c != pace.capacity {
				pace.capacity, grown = c, false
			}
			continue
		}
		k += n
		m := k
		if err == nil {
			m = complete(buf[:k])
		}
		if m > 0 {
			if e := l.write(stream, buf[:m]); e != nil && werr == nil {
				werr = e
			}
			k = copy(buf[:], buf[m:k])
		}
		if err == io.EOF {
			return nil, werr
		}
		if err != nil {
			return err, werr
		}
		got += n
		if n == space {
			continue // there may be more right away
		}
		d := pace.pause(got, time.Now())
		got = 0
		if d > 0 {
			time.Sleep(d)
		} else if !grown && pace.capacity > 0 {
			// The pipe fills faster than we can usefully pause: enlarge it.
			grown = true
			if c := src.grow(); c > pace.capacity {
				pace.capacity = c
			}
		}
	}
}

// complete returns how much of p to write now: its whole lines, and the
// MaxLine pieces of an unfinished line that is longer than MaxLine.
func complete(p []byte) int {
	m := bytes.LastIndexByte(p, '\n') + 1
	if rest := len(p) - m; rest >= MaxLine {
		m += rest - rest%MaxLine
	}
	return m
}

// pacer decides how long to wait after a read that emptied the pipe, so
// that a child writing many small pieces fills the pipe a good part before
// the next read, without ever filling it.
type pacer struct {
	capacity int       // pipe buffer size; 0 = never pause
	last     time.Time // end of the previous pause decision
	// fast tells that more than half a pipe a millisecond was read over the
	// last rateWindow: too fast to look again a millisecond later when the
	// pipe is empty.
	fast     bool
	winStart time.Time
	winBytes int
}

// rateWindow is the least time over which pacer measures the read rate.
const rateWindow = 4 * time.Millisecond

// rest restarts the measure of the rate just seen, after a wait for a
// quiet stream; the rate over rateWindow counts the wait.
func (p *pacer) rest(now time.Time) {
	p.last = now
}

// pause returns the wait before the next read, given that got bytes were
// read since the previous decision.
func (p *pacer) pause(got int, now time.Time) time.Duration {
	dt := now.Sub(p.last)
	p.last = now
	half := p.capacity / 2
	p.winBytes += got
	if w := now.Sub(p.winStart); w >= rateWindow {
		p.fast = float64(p.winBytes)*float64(time.Millisecond) > float64(half)*float64(w)
		p.winStart, p.winBytes = now, 0
	}
	if half == 0 || got >= half {
		return 0
	}
	d := maxPause
	if got > 0 {
		// Time for the pipe to get half full at the rate just seen.
		if fill := time.Duration(float64(dt) * float64(half) / float64(got)); fill < d {
			d = fill
		}
	}
	if d < minPause {
		return 0
	}
	return d
}
