// Package logcap provides the capture of a supervised child's stdout and
// stderr: each output line is written to a size-rotated log file with a
// timestamp and its stream, kept in a bounded in-memory ring for Tail, and
// handed to live subscribers. It reads pipes in batches so that a child
// writing many small pieces is never slowed by its supervisor. It imports
// nothing of the project; the supervisor and the API import it.
//
// # File format
//
// One line per output line, in UTF-8 as the child wrote it:
//
//	2006-01-02T15:04:05.000Z stdout text
//
// The timestamp is UTC to the millisecond (TimeFormat) and is taken once per
// read batch, so lines read together share it. A line longer than MaxLine
// bytes is split into lines of MaxLine bytes; a last line without a newline
// is written when its stream ends.
package logcap

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Stream names, the values of Line.Stream and of Capture's stream argument.
const (
	Stdout = "stdout"
	Stderr = "stderr"
)

// TimeFormat is the layout of the timestamp that starts every line of a log
// file; timestamps are in UTC.
const TimeFormat = "2006-01-02T15:04:05.000Z07:00"

// MaxLine is the longest line kept whole, in bytes; longer lines are split.
const MaxLine = 64 << 10

// minRing is the least memory for recent output: two lines of MaxLine.
const minRing = 2 * (MaxLine + 64)

// subscriberBuffer is the number of lines a subscriber may fall behind
// before lines are dropped for it.
const subscriberBuffer = 1024

// Options configure a Log.
type Options struct {
	Dir     string // directory for the files, created if missing (0750)
	Name    string // service name; the file is Dir/Name.log
	MaxSize int64  // bytes before rotation (> 0)
	Keep    int    // rotated files kept: Name.log.1 (newest) … Name.log.Keep; 0 = none kept
	Ring    int    // recent lines kept in memory for Tail (e.g. 1000); 0 = none
	// RingBytes bounds the memory holding the Ring lines: 0 means 256 bytes
	// a line; it is at least about 128 KiB. Tail returns fewer than Ring
	// lines when they do not fit.
	RingBytes int
	Now       func() time.Time // clock; nil = time.Now
}

// Line is one line of output.
type Line struct {
	Time   time.Time // when it was read, UTC, to the millisecond
	Stream string    // Stdout or Stderr
	Text   string    // without the newline
	// Missed counts the lines a subscriber did not receive just before
	// this one because it had fallen 1024 lines behind (see Subscribe);
	// it is always 0 in lines from Tail.
	Missed int
}

// Log captures the output of one service, across restarts: a file rotated
// by size, the recent lines in memory and live subscribers. A Log is safe
// for concurrent use: typically one Capture per stream of the running
// instance, and Tail and Subscribe from API handlers.
type Log struct {
	dir   string
	name  string
	path  string
	lines int
	now   func() time.Time

	mu      sync.Mutex
	maxSize int64
	keep    int
	f       *os.File // nil after a failed reopen, and after Close
	size    int64    // bytes in the current file
	ring    ring
	pre     [64]byte // the prefix of the batch being written
	subs    []*subscriber
	closed  bool

	removing sync.WaitGroup // deletions of rotated files
}

type subscriber struct {
	ch     chan Line
	missed int
}

// SetLimits changes MaxSize and Keep, as a reload of the service's config
// does. They apply from the next write: a file already over the new
// MaxSize is rotated then, and the rotated files beyond the new Keep are
// deleted at the next rotation.
func (l *Log) SetLimits(maxSize int64, keep int) error {
	switch {
	case maxSize <= 0:
		return fmt.Errorf("logcap: %s: max size %d is not positive", l.name, maxSize)
	case keep < 0:
		return fmt.Errorf("logcap: %s: negative keep", l.name)
	}
	l.mu.Lock()
	l.maxSize, l.keep = maxSize, keep
	l.mu.Unlock()
	return nil
}

// Open opens, or creates, the log file Dir/Name.log for appending; what it
// holds already counts toward MaxSize.
func Open(opts Options) (*Log, error) {
	switch {
	case opts.Dir == "":
		return nil, errors.New("logcap: open: no directory")
	case opts.Name == "" || opts.Name == "." || opts.Name == ".." || strings.ContainsAny(opts.Name, `/\`):
		return nil, fmt.Errorf("logcap: open: invalid name %q", opts.Name)
	case opts.MaxSize <= 0:
		return nil, fmt.Errorf("logcap: open %s: max size %d is not positive", opts.Name, opts.MaxSize)
	case opts.Keep < 0 || opts.Ring < 0 || opts.RingBytes < 0:
		return nil, fmt.Errorf("logcap: open %s: negative keep, ring or ring bytes", opts.Name)
	}
	if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("logcap: open %s: %w", opts.Name, err)
	}
	ringMax := opts.RingBytes
	if ringMax == 0 {
		ringMax = opts.Ring * 256
	}
	l := &Log{
		dir:     opts.Dir,
		name:    opts.Name,
		path:    filepath.Join(opts.Dir, opts.Name+".log"),
		maxSize: opts.MaxSize,
		keep:    opts.Keep,
		lines:   opts.Ring,
		now:     opts.Now,
		ring:    ring{max: max(ringMax, minRing)},
	}
	if l.now == nil {
		l.now = time.Now
	}
	os.Remove(l.deleted()) // left by a crash
	if err := l.openFileLocked(); err != nil {
		return nil, err
	}
	return l, nil
}

// Path returns the path of the current log file.
func (l *Log) Path() string { return l.path }

// Close writes what is pending, closes the file and ends every
// subscription. Call it once every Capture has returned. Tail still answers
// after Close; Capture and Subscribe do not.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	for _, s := range l.subs {
		close(s.ch)
	}
	l.subs = nil
	defer l.removing.Wait()
	err := l.flushLocked(true)
	if l.f != nil {
		if cerr := l.f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("logcap: close %s: %w", l.path, cerr)
		}
		l.f = nil
	}
	return err
}

// Tail returns the last n lines captured, oldest first: at most Ring lines,
// fewer when fewer are held.
func (l *Log) Tail(n int) []Line {
	n = min(n, l.lines)
	if n <= 0 {
		return nil
	}
	l.mu.Lock()
	b := l.ring.tail(n)
	l.mu.Unlock()
	if len(b) == 0 {
		return nil
	}
	s := string(b)
	out := make([]Line, 0, n)
	for len(s) > 0 {
		i := strings.IndexByte(s, '\n')
		if ln, err := parseLine(s[:i]); err == nil {
			out = append(out, ln)
		}
		s = s[i+1:]
	}
	return out
}

// Subscribe returns the lines captured from now on and a function that ends
// the subscription and closes the channel. Capture never waits for a
// subscriber: when one has fallen 1024 lines behind, the lines it cannot
// take are dropped for it and counted in Line.Missed of the next line it
// receives. Close ends every subscription.
func (l *Log) Subscribe() (<-chan Line, func()) {
	s := &subscriber{ch: make(chan Line, subscriberBuffer)}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		close(s.ch)
		return s.ch, func() {}
	}
	l.subs = append(l.subs, s)
	return s.ch, func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		for i, t := range l.subs {
			if t == s {
				l.subs = append(l.subs[:i], l.subs[i+1:]...)
				close(s.ch)
				return
			}
		}
	}
}

// ParseLine parses one line of a log file, with or without its newline.
func ParseLine(s string) (Line, error) {
	s = strings.TrimSuffix(s, "\n")
	if strings.IndexByte(s, '\n') >= 0 {
		return Line{}, errors.New("logcap: parse line: more than one line")
	}
	return parseLine(s)
}

func parseLine(s string) (Line, error) {
	ts, rest, ok := strings.Cut(s, " ")
	if !ok {
		return Line{}, errors.New("logcap: parse line: no timestamp")
	}
	t, err := time.Parse(TimeFormat, ts)
	if err != nil {
		return Line{}, fmt.Errorf("logcap: parse line: %w", err)
	}
	stream, text, _ := strings.Cut(rest, " ")
	switch stream {
	case Stdout:
		stream = Stdout
	case Stderr:
		stream = Stderr
	default:
		return Line{}, fmt.Errorf("logcap: parse line: unknown stream %q", stream)
	}
	return Line{Time: t.UTC(), Stream: stream, Text: text}, nil
}
