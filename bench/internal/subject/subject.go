// Package subject provides what the benchmarks measure: steward built
// from this tree, and readings of a process's resident memory and CPU time. Only the
// programs under bench/ import it.
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
