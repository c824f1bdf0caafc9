//go:build linux

// Command backup measures a backup job's archive write against GNU tar in
// the same run: one generated tree (text-like files that compress, some
// random ones that do not) archived as tar.zst by backup.Create and by
// `tar --zstd -cf`, alternately, RUNS times each; it reports the median
// wall time, the throughput over the tree's bytes, the archive sizes and
// the load average.
//
//	go run ./bench/backup -mb 256 -runs 5
//
// backup.Create does more than tar: a SHA-256 of every file and of the
// archive, a manifest entry, and an fsync of the archive before its
// rename (tar's output is left in the page cache).
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/stewardhq/steward/internal/backup"
	"github.com/stewardhq/steward/internal/config"
)

func main() {
	mb := flag.Int("mb", 256, "size of the generated tree in MiB")
	runs := flag.Int("runs", 5, "runs of each archiver; the median is reported")
	flag.Parse()
	if err := compare(int64(*mb)<<20, *runs); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// Tree writes about size bytes of files below dir, in nested directories:
// three in four files are log-like text, the rest random bytes. It returns
// the bytes and files written.
func Tree(dir string, size int64) (int64, int, error) {
	rng := rand.New(rand.NewPCG(1, 2))
	var total int64
	n := 0
	for total < size {
		sub := filepath.Join(dir, fmt.Sprintf("d%02d", n%16), fmt.Sprintf("e%02d", n%7))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return total, n, err
		}
		// Sizes from 1 KiB to 1 MiB, skewed small as in a real tree.
		sz := int64(1024) << rng.IntN(11)
		var data []byte
		if n%4 == 3 {
			data = make([]byte, sz)
			for i := range data {
				data[i] = byte(rng.Uint32())
			}
		} else {
			var b strings.Builder
			for int64(b.Len()) < sz {
				fmt.Fprintf(&b, "2026-12-07T05:%02d:%02dZ level=INFO msg=%q user=%d bytes=%d\n",
					rng.IntN(60), rng.IntN(60), []string{"request done", "cache miss", "job ran", "login"}[rng.IntN(4)],
					rng.IntN(5000), rng.IntN(1<<20))
			}
			data = []byte(b.String()[:sz])
		}
		if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("f%05d", n)), data, 0o644); err != nil {
			return total, n, err
		}
		total += sz
		n++
	}
	return total, n, nil
}

// Archive archives src into dir as backup.Create does for a job with
// format tar.zst and returns its sidecar.
func Archive(ctx context.Context, src, dir, id string) (*backup.Info, error) {
	return backup.Create(ctx, "bench", id, time.Now(), &config.JobBackup{Paths: []string{src}, To: dir, Format: config.FormatTarZstd})
}

type result struct {
	wall time.Duration
	size int64
}

func compare(size int64, runs int) error {
	work, err := os.MkdirTemp("", "bench-backup-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	src := filepath.Join(work, "src")
	bytes, files, err := Tree(src, size)
	if err != nil {
		return err
	}
	load0, _ := os.ReadFile("/proc/loadavg")
	var ours, tars []result
	for i := range runs {
		dir := filepath.Join(work, fmt.Sprintf("out%d", i))
		start := time.Now()
		in, err := Archive(context.Background(), src, dir, fmt.Sprintf("bench-%d", i))
		if err != nil {
			return err
		}
		ours = append(ours, result{time.Since(start), in.Size})
		os.RemoveAll(dir)

		out := filepath.Join(work, "tar.tar.zst")
		start = time.Now()
		cmd := exec.Command("tar", "--zstd", "-cf", out, "-C", work, "src")
		if b, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("tar: %w: %s", err, b)
		}
		wall := time.Since(start)
		st, err := os.Stat(out)
		if err != nil {
			return err
		}
		tars = append(tars, result{wall, st.Size()})
		os.Remove(out)
	}
	load1, _ := os.ReadFile("/proc/loadavg")
	o, t := median(ours), median(tars)
	mib := float64(bytes) / (1 << 20)
	fmt.Printf("tree: %d files, %.0f MiB; %d runs each, medians\n", files, mib, runs)
	fmt.Printf("backup.Create tar.zst: %v, %.0f MiB/s, archive %.1f MiB\n", o.wall.Round(time.Millisecond), mib/o.wall.Seconds(), float64(o.size)/(1<<20))
	fmt.Printf("tar --zstd -cf:        %v, %.0f MiB/s, archive %.1f MiB\n", t.wall.Round(time.Millisecond), mib/t.wall.Seconds(), float64(t.size)/(1<<20))
	fmt.Printf("throughput ratio (steward / tar): %.2f\n", t.wall.Seconds()/o.wall.Seconds())
	fmt.Printf("load average before: %s, after: %s\n", firstFields(string(load0)), firstFields(string(load1)))
	return nil
}

func median(rs []result) result {
	slices.SortFunc(rs, func(a, b result) int { return int(a.wall - b.wall) })
	return rs[len(rs)/2]
}

func firstFields(s string) string {
	f := strings.Fields(s)
	if len(f) > 3 {
		f = f[:3]
	}
	return strings.Join(f, " ")
}
