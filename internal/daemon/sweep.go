package daemon

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/lockfile"
	"github.com/stewardhq/steward/internal/proc"
)

// lockDataDir takes the lock that makes steward the only one running on
// dataDir. A lock another steward holds is an ECONFLICT naming its PID.
func lockDataDir(dataDir string) (*lockfile.File, error) {
	l, err := lockfile.Lock(filepath.Join(dataDir, "steward.lock"))
	var held *lockfile.HeldError
	if errors.As(err, &held) {
		pid := "unknown"
		if held.PID > 0 {
			pid = strconv.Itoa(held.PID)
		}
		return nil, steward.Errorf(steward.ECONFLICT, "steward is already running on %s (pid %s)", dataDir, pid)
	}
	if err != nil {
		return nil, fmt.Errorf("lock data dir: %w", err)
	}
	return l, nil
}

// dataDirTag names the runs of one data dir in process markers.
func dataDirTag(dataDir string) string {
	sum := sha256.Sum256([]byte(dataDir))
	return "s" + hex.EncodeToString(sum[:4])
}

// runTag names this run of steward on dataDir in the markers of its
// children: the data dir's tag, "p" and steward's PID, and the start time,
// so that a sweep can tell which steward a marker belongs to. A child's
// marker adds ".SERVICE.N" (see supervise.Options.Tag).
func runTag(dataDir string) string {
	return fmt.Sprintf("%s.p%d.%x", dataDirTag(dataDir), os.Getpid(), time.Now().UnixNano())
}

// marker is what a child's marker says of the run that started it.
type marker struct {
	pid     int // the steward's PID; 0 in the markers of stewards before runTag had it
	service string
}

// parseMarker reads tag, a marker of a run of the data dir whose tag is dir.
func parseMarker(dir, tag string) (marker, bool) {
	rest, ok := strings.CutPrefix(tag, dir+".")
	if !ok {
		return marker{}, false
	}
	f := strings.Split(rest, ".")
	var m marker
	if p, ok := strings.CutPrefix(f[0], "p"); ok {
		if pid, err := strconv.Atoi(p); err == nil && pid > 0 {
			m.pid = pid
			f = f[1:]
		}
	}
	if len(f) >= 3 { // start time, service (which may hold dots), instance
		m.service = strings.Join(f[1:len(f)-1], ".")
	}
	return m, true
}

// swept is what a start-up sweep killed.
type swept struct {
	pids     []int    // the processes killed
	stewards []int    // the PIDs of the stewards that left them, where known
	services []string // the services they belonged to
}

// sweep kills the processes of the runs of steward on dataDir other than
// run whose steward is gone. Called with the data dir's lock held, every
// earlier run's steward is gone; the one look at the PID a marker names
// still spares the children of a live steward, should one run without the
// lock (a PID reused since errs on the side of sparing). A marker that
// names this process's PID is of an earlier steward that had it; one that
// names none, of a steward from before markers did, is swept. Markers of
// other data dirs are never touched.
func sweep(dataDir, run string, log *slog.Logger) swept {
	dir := dataDirTag(dataDir)
	alive := map[int]bool{}
	var s swept
	pids, err := proc.Sweep(func(tag string) bool {
		if strings.HasPrefix(tag, run+".") {
			return false
		}
		m, ok := parseMarker(dir, tag)
		if !ok {
			return false
		}
		if m.pid > 0 && m.pid != os.Getpid() {
			live, seen := alive[m.pid]
			if !seen {
				live = processAlive(m.pid)
				alive[m.pid] = live
			}
			if live {
				return false
			}
		}
		if m.pid > 0 && !slices.Contains(s.stewards, m.pid) {
			s.stewards = append(s.stewards, m.pid)
		}
		if m.service != "" && !slices.Contains(s.services, m.service) {
			s.services = append(s.services, m.service)
		}
		return true
	})
	if err != nil && !errors.Is(err, errors.ErrUnsupported) {
		log.Warn("sweep leftovers of a previous run", "err", err)
	}
	s.pids = pids
	slices.Sort(s.stewards)
	slices.Sort(s.services)
	return s
}

// processAlive reports whether a process with id pid exists; a zombie
// does. It is asked once per PID and sweep, not polled.
func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	defer p.Release()
	return !errors.Is(p.Signal(syscall.Signal(0)), os.ErrProcessDone)
}

// reason says what s killed, for a system event.
func (s swept) reason() string {
	var b strings.Builder
	fmt.Fprintf(&b, "killed %d processes (pid %s) left by a previous run", len(s.pids), joinPids(s.pids))
	if len(s.stewards) > 0 {
		fmt.Fprintf(&b, " of steward (pid %s)", joinPids(s.stewards))
	}
	if len(s.services) > 0 {
		fmt.Fprintf(&b, ": services %s", strings.Join(s.services, ", "))
	}
	return b.String()
}

func joinPids(pids []int) string {
	s := make([]string, len(pids))
	for i, pid := range pids {
		s[i] = strconv.Itoa(pid)
	}
	return strings.Join(s, ", ")
}
