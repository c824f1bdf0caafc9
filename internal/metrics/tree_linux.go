package metrics

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// userHZ is the unit of the CPU times in /proc/PID/stat: the kernel reports
// them in USER_HZ, 100 on every architecture Linux runs on today.
const userHZ = 100

var pageSize = uint64(os.Getpagesize())

// scanProcs reads /proc/PID/stat of every process but those skip returns
// true for.
func scanProcs(skip func(pid int) bool) ([]procStat, error) {
	fd, err := unix.Open("/proc", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("scan processes: %w", err)
	}
	defer unix.Close(fd)
	out := make([]procStat, 0, 256)
	dirents := make([]byte, 32<<10)
	buf := make([]byte, 2048)
	path := make([]byte, 0, 32)
	for {
		n, err := unix.ReadDirent(fd, dirents)
		if err != nil {
			return nil, fmt.Errorf("scan processes: %w", err)
		}
		if n <= 0 {
			return out, nil
		}
		var names []string
		_, _, names = unix.ParseDirent(dirents[:n], -1, names)
		for _, name := range names {
			pid, err := strconv.Atoi(name)
			if err != nil || skip(pid) {
				continue
			}
			path = append(append(append(path[:0], "/proc/"...), name...), "/stat"...)
			b, err := readSmall(string(path), buf)
			if err != nil {
				continue // gone meanwhile
			}
			if p, err := parseProcStat(pid, b); err == nil {
				out = append(out, p)
			}
		}
	}
}

// readSmall reads the file at path, which must fit in buf, with the fewest
// system calls: /proc files are generated at each read, and a scan reads
// hundreds of them.
func readSmall(path string, buf []byte) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	n, err := unix.Read(fd, buf)
	if err != nil {
		return nil, err
	}
	if n == len(buf) {
		return nil, errors.New("file too large")
	}
	return buf[:n], nil
}

// parseProcStat parses /proc/PID/stat: "pid (comm) state ppid ...", where
// comm may hold anything, parentheses included.
func parseProcStat(pid int, b []byte) (procStat, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 > len(b) {
		return procStat{}, errors.New("malformed stat")
	}
	// Field N (1-based, as in proc(5)) is f[N-3]: f[0] is field 3, state.
	var f [22][]byte
	rest := b[i+2:]
	k := 0
	for k < len(f) {
		rest = bytes.TrimLeft(rest, " ")
		if len(rest) == 0 {
			break
		}
		j := bytes.IndexByte(rest, ' ')
		if j < 0 {
			j = len(rest)
		}
		f[k], rest = rest[:j], rest[j:]
		k++
	}
	if k < 22 {
		return procStat{}, errors.New("short stat")
	}
	num := func(n int) uint64 {
		v, _ := strconv.ParseUint(string(f[n-3]), 10, 64)
		return v
	}
	return procStat{
		key:     procKey{pid: pid, start: num(22)},
		ppid:    int(num(4)),
		cpu:     float64(num(14)+num(15)) / userHZ,
		threads: int(num(20)),
		rss:     num(24) * pageSize,
	}, nil
}

// openFiles counts the open file descriptors of pid; 0 when they cannot be
// read (another user's process).
func openFiles(pid int) int {
	fd, err := unix.Open("/proc/"+strconv.Itoa(pid)+"/fd", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0
	}
	defer unix.Close(fd)
	var buf [8 << 10]byte
	count := 0
	for {
		n, err := unix.ReadDirent(fd, buf[:])
		if err != nil || n <= 0 {
			return count
		}
		_, entries, _ := unix.ParseDirent(buf[:n], -1, nil) // "." and ".." not counted
		count += entries
	}
}
