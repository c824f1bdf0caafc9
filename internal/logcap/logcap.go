// Package logcap provides the capture of a supervised child's stdout and
// stderr: each output line is written to a log file, rotated by size and
// by time, with a timestamp and its stream, kept in a bounded in-memory ring for Tail, and
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
//
// # Write errors
//
// A file that cannot be written (a full disk, say) never stops the capture:
// the ring and the subscribers get every line all the same, and the output
// the file cannot take is dropped from it. The owner hears of it at once,
// and once per outage rather than per line, through Options.OnFile. A
// partial write is rolled back to the end of the file's last whole line, so
// a line is never glued to the next; when even the rollback fails (as on
// Windows, where a file opened for appending cannot be truncated), the next
// write starts with a newline, which ends the cut line. When writing works
// again, a marker line on stderr says how many lines and bytes were dropped
// since when and why, before the output resumes:
//
//	2006-01-02T15:04:09.000Z stderr [steward] 129012 lines (10838016 bytes) of output since 2006-01-02T15:04:05.000Z were not written to this file: write /var/lib/steward/logs/api.log: no space left on device
//
// A file that ends inside a line when it is opened (steward was killed
// between two writes of a long line) gets the newline too.
//
// # Rotation
//
// The file Name.log is renamed to Name.log.STAMP (StampFormat, the UTC time
// of the rotation) before a write would take it over MaxSize, before the
// first write after a boundary of Every (local midnight for a day), and by
// Rotate. Rotation happens between two lines, under the lock that writes
// them, so no line is lost or split. A goroutine that runs only after a
// rotation then compresses the rotated files (Name.log.STAMP.gz or .zst)
// and deletes those beyond Keep, older than MaxAge or beyond MaxTotal
// bytes, newest kept first: the child never waits for that work.
package logcap

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
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
	// Every rotates the file at the first write after each local midnight,
	// and after each multiple of Every since midnight when Every divides a
	// day; whole days count from the day of the file's first line. 0 means
	// by size only; see checkEvery.
	Every time.Duration
	// Location is the time zone of Every's midnights; nil means time.Local.
	Location *time.Location
	Keep     int           // rotated files kept, newest first; 0 = none kept
	MaxAge   time.Duration // rotated files older than this are deleted; 0 = no limit
	MaxTotal int64         // rotated files beyond this many bytes in all are deleted, oldest first; 0 = no limit
	Compress string        // Gzip, Zstd, or "" to leave rotated files as they are
	Ring     int           // recent lines kept in memory for Tail (e.g. 1000); 0 = none
	// RingBytes bounds the memory holding the Ring lines: 0 means 256 bytes
	// a line; it is at least about 128 KiB. Tail returns fewer than Ring
	// lines when they do not fit.
	RingBytes int
	Now       func() time.Time // clock; nil = time.Now
	// OnFile, when set, hears when writing the file fails, once per outage,
	// and when it works again (see FileState). It is called by a Capture
	// (never by Close), once at a time and in order; the stream of that
	// Capture is not read until it returns, so it should not block for
	// long. It may call the Log's methods.
	OnFile func(FileState)
	// OnError, when set, hears of a failure to compress or delete rotated
	// files, from the goroutine that does that work.
	OnError func(error)
}

// FileState is a change in whether a Log's output reaches its file.
type FileState struct {
	// Err is what stops the writing, when an outage begins; nil when the
	// file is written again.
	Err error
	// Since is when the outage began.
	Since time.Time
	// Lines and Bytes count the output the file did not get during the
	// outage that ended, as formatted lines; 0 when one begins.
	Lines, Bytes int64
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
// by size and time, the recent lines in memory and live subscribers. A Log is safe
// for concurrent use: typically one Capture per stream of the running
// instance, and Tail and Subscribe from API handlers.
type Log struct {
	dir   string
	name  string
	path  string
	lines int
	now   func() time.Time

	onFile  func(FileState)
	onError func(error)
	loc     *time.Location

	mu   sync.Mutex
	rot  rotation
	next time.Time // when the file rotates by time; zero for never
	// stamped is the stamp of the newest rotated file, at Open and after
	// each rotation; the next rotated file's is later.
	stamped time.Time
	f       file  // nil after a failed reopen, and after Close
	size    int64 // bytes in the current file
	// open counts the bytes of the file's last line that an aligned
	// flush wrote without its end, which the next flush writes.
	open int64
	// cut tells that the file ends inside a line that no flush will
	// finish: the next write starts with a newline.
	cut       bool
	down      outage      // the current failure to write the file, if any
	mark      []byte      // the marker line of down
	states    []FileState // for onFile, oldest first
	reporting bool        // a goroutine is calling onFile
	ring      ring
	pre       [64]byte // the prefix of the batch being written
	subs      []*subscriber
	closed    bool

	tidying bool           // the goroutine of tidy runs
	again   bool           // tidy makes another pass
	tidied  sync.WaitGroup // the goroutine of tidy
	stop    atomic.Bool    // set by Close: a compression gives up
}

type subscriber struct {
	ch     chan Line
	missed int
}

// Open opens, or creates, the log file Dir/Name.log for appending; what it
// holds already counts toward MaxSize.
func Open(opts Options) (*Log, error) {
	switch {
	case opts.Dir == "":
		return nil, errors.New("logcap: open: no directory")
	case opts.Name == "" || opts.Name == "." || opts.Name == ".." || strings.ContainsAny(opts.Name, `/\`):
		return nil, fmt.Errorf("logcap: open: invalid name %q", opts.Name)
	case opts.Ring < 0 || opts.RingBytes < 0:
		return nil, fmt.Errorf("logcap: open %s: negative ring or ring bytes", opts.Name)
	}
	if err := checkRotation(opts); err != nil {
		return nil, fmt.Errorf("logcap: open %s: %w", opts.Name, err)
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
		rot:     rotation{opts.MaxSize, opts.Keep, opts.Every, opts.MaxAge, opts.MaxTotal, opts.Compress},
		lines:   opts.Ring,
		now:     opts.Now,
		onFile:  opts.OnFile,
		onError: opts.OnError,
		loc:     opts.Location,
		ring:    ring{max: max(ringMax, minRing)},
	}
	if l.now == nil {
		l.now = time.Now
	}
	if l.loc == nil {
		l.loc = time.Local
	}
	if err := l.openFileLocked(); err != nil {
		return nil, fmt.Errorf("logcap: %w", err)
	}
	l.next = l.boundary(l.fileStart())
	if files, _, err := l.rotatedFiles(); err == nil && len(files) > 0 {
		l.stamped = files[0].at.UTC().Truncate(time.Millisecond)
	}
	return l, nil
}

// Path returns the path of the current log file.
func (l *Log) Path() string { return l.path }

// Close writes what is pending, closes the file and ends every
// subscription. It stops a compression of a rotated file under way (the
// pass after the next rotation does it) and waits for the work on rotated
// files to end. Call it once every Capture has returned. Tail still answers
// after Close; Capture and Subscribe do not.
func (l *Log) Close() error {
	l.stop.Store(true)
	defer l.tidied.Wait()
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
