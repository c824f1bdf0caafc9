package metrics

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/disk"
	"github.com/shirou/gopsutil/v4/load"
	"github.com/shirou/gopsutil/v4/mem"
	"github.com/shirou/gopsutil/v4/net"
)

// System is one sample of the machine. Rates are averages since the
// previous sample, 0 in the first.
type System struct {
	Time        time.Time    `json:"time"`
	CPUPercent  float64      `json:"cpu_percent"` // of all cores
	MemTotal    uint64       `json:"memory_total_bytes"`
	MemUsed     uint64       `json:"memory_used_bytes"`
	MemPercent  float64      `json:"memory_used_percent"`
	SwapTotal   uint64       `json:"swap_total_bytes"`
	SwapUsed    uint64       `json:"swap_used_bytes"`
	SwapPercent float64      `json:"swap_used_percent"`
	Load1       float64      `json:"load1"`
	Load5       float64      `json:"load5"`
	Load15      float64      `json:"load15"`
	Filesystems []Filesystem `json:"filesystems"`
	DiskRead    float64      `json:"disk_read_bytes_per_second"`
	DiskWrite   float64      `json:"disk_write_bytes_per_second"`
	NetRecv     float64      `json:"network_receive_bytes_per_second"`
	NetSent     float64      `json:"network_transmit_bytes_per_second"`
}

// Filesystem is the usage of one mounted filesystem.
type Filesystem struct {
	Mount   string  `json:"mount"`
	Total   uint64  `json:"total_bytes"`
	Used    uint64  `json:"used_bytes"`
	Percent float64 `json:"used_percent"`
}

// Figure returns the figure a sysmon threshold names by key, in unit ("%"
// or "B"; "" for load): cpu, memory, swap, load1, load5, load15,
// disk:MOUNT, disk_read, disk_write, net_recv and net_sent. It returns false
// when the sample has no such figure.
func (s System) Figure(key, unit string) (float64, bool) {
	pick := func(pct float64, bytes uint64) float64 {
		if unit == "B" {
			return float64(bytes)
		}
		return pct
	}
	switch key {
	case "cpu":
		return s.CPUPercent, true
	case "memory":
		return pick(s.MemPercent, s.MemUsed), true
	case "swap":
		return pick(s.SwapPercent, s.SwapUsed), true
	case "load1":
		return s.Load1, true
	case "load5":
		return s.Load5, true
	case "load15":
		return s.Load15, true
	case "disk_read":
		return s.DiskRead, true
	case "disk_write":
		return s.DiskWrite, true
	case "net_recv":
		return s.NetRecv, true
	case "net_sent":
		return s.NetSent, true
	}
	if mount, ok := strings.CutPrefix(key, "disk:"); ok {
		for _, fs := range s.Filesystems {
			if fs.Mount == mount {
				return pick(fs.Percent, fs.Used), true
			}
		}
	}
	return 0, false
}

// Samples returns s as samples for the history, labelled with extra.
func (s System) Samples(extra map[string]string) []Sample {
	out := []Sample{
		{Name: SystemCPU, Value: s.CPUPercent},
		{Name: SystemMemUsed, Value: float64(s.MemUsed)},
		{Name: SystemMemPercent, Value: s.MemPercent},
		{Name: SystemSwapUsed, Value: float64(s.SwapUsed)},
		{Name: SystemSwapPercent, Value: s.SwapPercent},
		{Name: SystemLoad1, Value: s.Load1},
		{Name: SystemLoad5, Value: s.Load5},
		{Name: SystemLoad15, Value: s.Load15},
		{Name: SystemDiskRead, Value: s.DiskRead},
		{Name: SystemDiskWrite, Value: s.DiskWrite},
		{Name: SystemNetRecv, Value: s.NetRecv},
		{Name: SystemNetSent, Value: s.NetSent},
	}
	for i := range out {
		out[i].Labels = extra
	}
	for _, fs := range s.Filesystems {
		labels := map[string]string{"mount": fs.Mount}
		maps.Copy(labels, extra)
		out = append(out,
			Sample{Name: SystemDiskUsed, Labels: labels, Value: float64(fs.Used)},
			Sample{Name: SystemDiskPercent, Labels: labels, Value: fs.Percent})
	}
	for i := range out {
		out[i].Time = s.Time
	}
	return out
}

// SystemSampler samples the machine; it keeps the counters of its last
// sample to turn them into rates. It is not safe for concurrent use.
type SystemSampler struct {
	// Mounts are sampled even when the list of mounted filesystems leaves
	// them out (as it does an overlay root in a container).
	Mounts []string
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	prev struct {
		time              time.Time
		cpuTotal, cpuBusy float64
		diskR, diskW      uint64
		netR, netS        uint64
		ok                bool
	}
}

// Sample takes one sample. Figures the OS cannot give are left 0 and
// their errors joined in the error, which does not void the rest.
func (ss *SystemSampler) Sample(ctx context.Context) (System, error) {
	now := time.Now
	if ss.Now != nil {
		now = ss.Now
	}
	s := System{Time: now()}
	var errs []error
	note := func(what string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", what, err))
		}
	}

	var total, busy float64
	if ts, err := cpu.TimesWithContext(ctx, false); err != nil || len(ts) == 0 {
		note("cpu times", cmpErr(err, "no figures"))
	} else {
		total, busy = cpuBusy(ts[0])
	}
	if vm, err := mem.VirtualMemoryWithContext(ctx); err != nil {
		note("memory", err)
	} else {
		s.MemTotal, s.MemUsed, s.MemPercent = vm.Total, vm.Used, vm.UsedPercent
	}
	if sw, err := mem.SwapMemoryWithContext(ctx); err != nil {
		note("swap", err)
	} else {
		s.SwapTotal, s.SwapUsed, s.SwapPercent = sw.Total, sw.Used, sw.UsedPercent
	}
	if la, err := load.AvgWithContext(ctx); err != nil {
		note("load", err)
	} else {
		s.Load1, s.Load5, s.Load15 = la.Load1, la.Load5, la.Load15
	}
	s.Filesystems = ss.filesystems(ctx, note)

	var diskR, diskW uint64
	if io, err := disk.IOCountersWithContext(ctx); err != nil {
		note("disk I/O", err)
	} else {
		diskR, diskW = diskTotals(io)
	}
	var netR, netS uint64
	if io, err := net.IOCountersWithContext(ctx, false); err != nil || len(io) == 0 {
		note("network I/O", cmpErr(err, "no figures"))
	} else {
		netR, netS = io[0].BytesRecv, io[0].BytesSent
	}

	p := &ss.prev
	if p.ok {
		if dt := total - p.cpuTotal; dt > 0 {
			s.CPUPercent = min(100, max(0, (busy-p.cpuBusy)/dt*100))
		}
		if secs := s.Time.Sub(p.time).Seconds(); secs > 0 {
			s.DiskRead, s.DiskWrite = rate(diskR, p.diskR, secs), rate(diskW, p.diskW, secs)
			s.NetRecv, s.NetSent = rate(netR, p.netR, secs), rate(netS, p.netS, secs)
		}
	}
	p.time, p.cpuTotal, p.cpuBusy = s.Time, total, busy
	p.diskR, p.diskW, p.netR, p.netS, p.ok = diskR, diskW, netR, netS, true
	return s, errors.Join(errs...)
}

func cmpErr(err error, msg string) error {
	if err != nil {
		return err
	}
	return errors.New(msg)
}

// cpuBusy returns the total and busy CPU seconds of t, as top counts them.
func cpuBusy(t cpu.TimesStat) (total, busy float64) {
	total = t.User + t.System + t.Idle + t.Nice + t.Iowait + t.Irq + t.Softirq + t.Steal
	return total, total - t.Idle - t.Iowait
}

// rate is the per-second increase from prev to cur; a counter that went
// back (a reset, a device gone) gives 0.
func rate(cur, prev uint64, secs float64) float64 {
	if cur < prev {
		return 0
	}
	return float64(cur-prev) / secs
}

// diskTotals sums the bytes read and written by whole disks, leaving out
// partitions (sda1 of sda, nvme0n1p1 of nvme0n1), whose I/O their disk
// counts already.
func diskTotals(io map[string]disk.IOCountersStat) (read, written uint64) {
	for name, c := range io {
		part := false
		for other := range io {
			if other != name && strings.HasPrefix(name, other) {
				part = true
				break
			}
		}
		if !part {
			read += c.ReadBytes
			written += c.WriteBytes
		}
	}
	return read, written
}

// filesystems returns the usage of each mounted filesystem, in mount order,
// without pseudo filesystems and with ss.Mounts added.
func (ss *SystemSampler) filesystems(ctx context.Context, note func(string, error)) []Filesystem {
	parts, err := disk.PartitionsWithContext(ctx, false)
	note("filesystems", err)
	mounts := slices.Clone(ss.Mounts)
	for _, p := range parts {
		if !slices.Contains(mounts, p.Mountpoint) {
			mounts = append(mounts, p.Mountpoint)
		}
	}
	var out []Filesystem
	for _, m := range mounts {
		u, err := disk.UsageWithContext(ctx, m)
		if err != nil {
			if slices.Contains(ss.Mounts, m) {
				note("filesystem "+m, err)
			}
			continue
		}
		if u.Total == 0 {
			continue
		}
		out = append(out, Filesystem{Mount: m, Total: u.Total, Used: u.Used, Percent: u.UsedPercent})
	}
	slices.SortFunc(out, func(a, b Filesystem) int { return strings.Compare(a.Mount, b.Mount) })
	return out
}
