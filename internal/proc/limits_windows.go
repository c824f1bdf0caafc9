package proc

import (
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Job Object CPU rate control (JOBOBJECT_CPU_RATE_CONTROL_INFORMATION),
// which golang.org/x/sys/windows does not define.
const (
	jobCPURateControlEnable  = 0x1
	jobCPURateControlHardCap = 0x4
)

type jobCPURateControl struct {
	ControlFlags uint32
	CPURate      uint32 // in 1/100 of a percent of all processors: 1 to 10000
}

// limitJob gives job the limits l, besides killing its processes when it
// is closed: JobMemoryLimit for Memory, ActiveProcessLimit for Tasks, and
// a hard cap of the CPU rate for CPU.
func limitJob(job windows.Handle, l *Limits) error {
	info := windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION{
		BasicLimitInformation: windows.JOBOBJECT_BASIC_LIMIT_INFORMATION{
			LimitFlags: windows.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
		},
	}
	if l != nil && l.Memory > 0 {
		info.BasicLimitInformation.LimitFlags |= windows.JOB_OBJECT_LIMIT_JOB_MEMORY
		info.JobMemoryLimit = uintptr(l.Memory)
	}
	if l != nil && l.Tasks > 0 {
		info.BasicLimitInformation.LimitFlags |= windows.JOB_OBJECT_LIMIT_ACTIVE_PROCESS
		info.BasicLimitInformation.ActiveProcessLimit = uint32(l.Tasks)
	}
	if _, err := windows.SetInformationJobObject(job, windows.JobObjectExtendedLimitInformation,
		uintptr(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info))); err != nil {
		return fmt.Errorf("set job object limits: %w", err)
	}
	if l != nil && l.CPU > 0 {
		rate := jobCPURateControl{ControlFlags: jobCPURateControlEnable | jobCPURateControlHardCap, CPURate: cpuRate(l.CPU, runtime.NumCPU())}
		if _, err := windows.SetInformationJobObject(job, windows.JobObjectCpuRateControlInformation,
			uintptr(unsafe.Pointer(&rate)), uint32(unsafe.Sizeof(rate))); err != nil {
			return limitsUnsupported("cpu", fmt.Errorf("set job object CPU rate: %w", err))
		}
	}
	return nil
}

// cpuRate is a Job Object's CPU rate for pct percent of one core on a
// machine of n processors.
func cpuRate(pct float64, n int) uint32 {
	return uint32(min(max(pct*100/float64(max(n, 1)), 1), 10000))
}

// jobMemoryPeak returns the most memory the job's processes have
// committed together, and its memory limit (0 for none).
func jobMemoryPeak(job windows.Handle) (peak, limit uint64, err error) {
	var info windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION
	if err := windows.QueryInformationJobObject(job, windows.JobObjectExtendedLimitInformation,
		uintptr(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info)), nil); err != nil {
		return 0, 0, fmt.Errorf("query job object: %w", err)
	}
	if info.BasicLimitInformation.LimitFlags&windows.JOB_OBJECT_LIMIT_JOB_MEMORY != 0 {
		limit = uint64(info.JobMemoryLimit)
	}
	return uint64(info.PeakJobMemoryUsed), limit, nil
}
