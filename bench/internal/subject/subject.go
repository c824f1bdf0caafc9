// Package subject provides what the benchmarks measure: steward built
// from this tree and run on a config of the benchmark's, and readings of a
// process's resident memory and CPU time. Only the programs under bench/
// import it.
package subject

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/stewardhq/steward/internal/client"
)

// Binary returns bin when it is set, else a steward built from this tree
// into dir (run from the module's root, as the benchmarks are).
func Binary(bin, dir string) (string, error) {
	if bin != "" {
		return bin, nil
	}
	bin = filepath.Join(dir, "steward")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/steward").CombinedOutput(); err != nil {
		return "", fmt.Errorf("build steward: %w\n%s", err, out)
	}
	return bin, nil
}

// Memory is one reading of a process's resident memory, in bytes: VmRSS,
// and its anonymous and file-backed parts.
type Memory struct{ RSS, Anon, File int64 }

// ReadMemory reads VmRSS, RssAnon and RssFile of pid from /proc (Linux).
func ReadMemory(pid int) (Memory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Memory{}, err
	}
	defer f.Close()
	var m Memory
	fields := map[string]*int64{"VmRSS:": &m.RSS, "RssAnon:": &m.Anon, "RssFile:": &m.File}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), "\t")
		if p, ok := fields[k]; ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return Memory{}, fmt.Errorf("%s of %d: %w", k, pid, err)
			}
			*p = kb << 10
			delete(fields, k)
		}
	}
	if len(fields) > 0 {
		return Memory{}, fmt.Errorf("/proc/%d/status lacks VmRSS, RssAnon or RssFile", pid)
	}
	return m, sc.Err()
}

// CPUSeconds is the user+system CPU time of pid, from /proc (Linux).
func CPUSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+2:]))
	if len(f) < 13 {
		return 0, errors.New("short stat")
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100, nil
}

// Steward is a `steward run` of a benchmark on a config file of its own.
type Steward struct {
	Cmd    *exec.Cmd
	Client *client.Client // of its API socket
}

// Start writes dir/steward.yaml — data_dir dir/data, then body, the rest
// of the file — and starts `bin run` on it.
func Start(bin, dir, body string) (*Steward, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	file := filepath.Join(dir, "steward.yaml")
	if err := os.WriteFile(file, []byte("data_dir: "+filepath.Join(dir, "data")+"\n"+body), 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "run", "-c", file)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start steward: %w", err)
	}
	return &Steward{Cmd: cmd, Client: client.New(filepath.Join(dir, "data", "steward.sock"))}, nil
}

// Stop stops the steward with SIGTERM and waits for it to end; again, it
// does nothing.
func (s *Steward) Stop() {
	if s.Cmd.ProcessState != nil {
		return
	}
	s.Client.Close()
	s.Cmd.Process.Signal(syscall.SIGTERM)
	s.Cmd.Wait()
}

// LoadAverage is /proc/loadavg's first three fields, or "?".
func LoadAverage() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
