package osservice

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
)

// lineWriter hands each complete line of a text log (slog's TextHandler
// format) to sink, with its level. A line without a level, such as a
// config error printed as FILE:LINE:COL: message, counts as an error. It
// is safe for concurrent use.
type lineWriter struct {
	sink func(level slog.Level, line string) error

	mu      sync.Mutex
	partial []byte // the start of a line whose end has not come yet
}

// Write passes on each complete line of p. It never fails: a system log
// that fails has no one to tell.
func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	data := p
	if len(w.partial) > 0 {
		data = append(w.partial, p...)
		w.partial = nil
	}
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		if line := string(bytes.TrimRight(data[:i], "\r")); line != "" {
			w.sink(lineLevel(line), line)
		}
		data = data[i+1:]
	}
	if len(data) > 0 {
		w.partial = append([]byte(nil), data...)
	}
	return len(p), nil
}

// atLeast returns a sink that passes to sink the lines at level min or
// above, and drops the others.
func atLeast(min slog.Level, sink func(slog.Level, string) error) func(slog.Level, string) error {
	return func(level slog.Level, line string) error {
		if level < min {
			return nil
		}
		return sink(level, line)
	}
}

// journalSink writes each line to w with the syslog priority of its level
// in front ("<4>" for a warning), which systemd's journal takes as the
// line's priority (SyslogLevelPrefix): journalctl -p warning then shows
// steward's warnings and errors.
func journalSink(w io.Writer) func(slog.Level, string) error {
	return func(level slog.Level, line string) error {
		prio := 7 // debug
		switch {
		case level >= slog.LevelError:
			prio = 3
		case level >= slog.LevelWarn:
			prio = 4
		case level >= slog.LevelInfo:
			prio = 6
		}
		_, err := fmt.Fprintf(w, "<%d>%s\n", prio, line)
		return err
	}
}

// lineLevel returns the level of a line of slog's text format
// ("time=… level=WARN msg=…"), or slog.LevelError for a line without one.
func lineLevel(s string) slog.Level {
	i := 0
	switch {
	case len(s) >= 6 && s[:6] == "level=":
		i = 6
	default:
		j := strings.Index(s, " level=")
		if j < 0 {
			return slog.LevelError
		}
		i = j + 7
	}
	end := i
	for end < len(s) && s[end] != ' ' {
		end++
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(s[i:end])); err != nil {
		return slog.LevelError
	}
	return level
}

// logFile is a log file that is renamed to PATH.1, replacing the one
// before, when a write would take it over max bytes. It is safe for
// concurrent use.
type logFile struct {
	path string
	max  int64

	mu   sync.Mutex
	f    *os.File
	size int64
}

// openLogFile opens path for appending.
func openLogFile(path string, max int64) (*logFile, error) {
	l := &logFile{path: path, max: max}
	if err := l.open(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *logFile) open() error {
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("open log file: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("open log file: %w", err)
	}
	l.f, l.size = f, fi.Size()
	return nil
}

// Write appends p, first rotating the file when p would take it over its
// maximum size.
func (l *logFile) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return 0, os.ErrClosed
	}
	if l.size > 0 && l.size+int64(len(p)) > l.max {
		if err := l.rotate(); err != nil {
			return 0, err
		}
	}
	n, err := l.f.Write(p)
	l.size += int64(n)
	return n, err
}

// rotate renames the file to PATH.1 and opens a new one. Windows cannot
// rename an open file, so it is closed first. When the rename fails (a
// reader holds PATH.1 open), the log goes on in the same file rather than
// stop.
func (l *logFile) rotate() error {
	l.f.Close()
	l.f = nil
	os.Rename(l.path, l.path+".1")
	return l.open()
}

// Close closes the file.
func (l *logFile) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
