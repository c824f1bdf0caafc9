//go:build linux || darwin

package proc

import (
	"sync"
	"time"
)

// scanGap is the least time from the end of one scan to the start of the
// next; callers arriving meanwhile share that next scan.
const scanGap = 20 * time.Millisecond

// Reading the process table costs a file read per process, and reading a
// tag another per process, so stopping many services at once must not make
// each one read them all: concurrent calls share one scan, scans start at
// most every scanGap (a crash-looping service would otherwise scan for every
// exit), and tags are remembered for the life of the process that carries
// them.
var (
	scans    scanner
	tagsSeen = tagCache{m: make(map[procKey]string)}
)

// scanner coalesces process-table scans. Safe for concurrent use.
type scanner struct {
	running sync.Mutex // held while a scan waits for its turn and reads the table
	last    time.Time  // when the last scan ended; guarded by running
	mu      sync.Mutex
	next    *scan // the scan that has not begun yet, which new callers join
}

type scan struct {
	done  chan struct{}
	procs []procInfo
	err   error
}

// freshProcs returns the process table as read after the call began. Callers
// that arrive while a scan runs share the next one. The slice is shared:
// callers must not modify it.
func freshProcs() ([]procInfo, error) {
	scans.mu.Lock()
	s := scans.next
	lead := s == nil
	if lead {
		s = &scan{done: make(chan struct{})}
		scans.next = s
	}
	scans.mu.Unlock()
	if !lead {
		<-s.done
		return s.procs, s.err
	}
	scans.running.Lock()
	time.Sleep(scanGap - time.Since(scans.last)) // no wait when negative
	scans.mu.Lock()
	scans.next = nil
	scans.mu.Unlock()
	s.procs, s.err = listProcs()
	scans.last = time.Now()
	scans.running.Unlock()
	if s.err == nil {
		tagsSeen.prune(s.procs)
	}
	close(s.done)
	return s.procs, s.err
}

// procKey names one process: a pid with its start time.
type procKey struct {
	pid   int
	start uint64
}

// tagCache remembers the tags of processes that carry one. A process without
// a tag is read again each time: it may be a fork that has yet to exec into
// a tagged environment. Safe for concurrent use.
type tagCache struct {
	mu sync.Mutex
	m  map[procKey]string
}

// tag returns the tag of process pi, if it has one.
func (c *tagCache) tag(pi procInfo) (string, bool) {
	k := procKey{pi.pid, pi.start}
	c.mu.Lock()
	t, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		return t, true
	}
	t, ok = procTag(pi.pid)
	if ok {
		c.mu.Lock()
		c.m[k] = t
		c.mu.Unlock()
	}
	return t, ok
}

// prune forgets the processes that are not in procs.
func (c *tagCache) prune(procs []procInfo) {
	live := make(map[procKey]bool, len(procs))
	for _, pi := range procs {
		live[procKey{pi.pid, pi.start}] = true
	}
	c.mu.Lock()
	for k := range c.m {
		if !live[k] {
			delete(c.m, k)
		}
	}
	c.mu.Unlock()
}
