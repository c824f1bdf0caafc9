// Package lockfile provides an exclusive lock on a file that the OS releases
// when the process holding it ends, however it ends: flock on unix,
// LockFileEx on Windows. The file holds the PID of the holder, so that a
// process refused the lock can say who has it. steward holds one on its data
// dir for as long as it runs. It sits at the bottom of the import graph and
// imports nothing of steward; the daemon wiring uses it.
package lockfile

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// File is a held lock. Its methods are not safe for concurrent use.
type File struct {
	f *os.File
}

// HeldError is the error of a Lock refused because another holder has the
// lock.
type HeldError struct {
	Path string
	// PID is the holder's process id, as written in the file; 0 when the
	// file does not hold one (yet: the holder writes it after locking).
	PID int
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("%s is locked by process %d", e.Path, e.PID)
}

// Lock takes the lock on the file at path, created 0600 when missing,
// without waiting, and writes this process's PID into it. When another
// open of the file holds the lock — another process, or this one through
// another Lock — it returns a *HeldError naming the holder's PID. The file
// is never removed: removing it would let two processes lock two files at
// the same path.
func Lock(path string) (*File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	held, err := lock(f)
	if err != nil || held {
		pid := readPID(f)
		f.Close()
		if held {
			return nil, &HeldError{Path: path, PID: pid}
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := writePID(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("write pid to %s: %w", path, err)
	}
	return &File{f: f}, nil
}

// Unlock releases the lock. The file and the PID in it stay.
func (l *File) Unlock() error {
	if err := l.f.Close(); err != nil {
		return fmt.Errorf("unlock %s: %w", l.f.Name(), err)
	}
	return nil
}

func writePID(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return err
}

// readPID returns the PID written in f, or 0.
func readPID(f *os.File) int {
	var b [32]byte
	n, _ := f.ReadAt(b[:], 0)
	pid, err := strconv.Atoi(string(bytes.TrimSpace(b[:n])))
	if err != nil {
		return 0
	}
	return pid
}
