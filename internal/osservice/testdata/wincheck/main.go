//go:build windows

// Command wincheck checks, for scripts/wine-test.sh, what the steward CLI
// does not show: whether processes live, and how a service is configured
// in the Service Control Manager.
//
//	wincheck alive PID...              exit 0 when every PID runs
//	wincheck gone [-wait DUR] PID...   exit 0 when none runs, waiting up to DUR
//	wincheck service NAME              print start type, command line, recovery actions
//	wincheck state NAME                print the state the service manager reports
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/mgr"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "alive":
		os.Exit(alive(pids(os.Args[2:])))
	case "gone":
		fs := flag.NewFlagSet("gone", flag.ExitOnError)
		wait := fs.Duration("wait", 5*time.Second, "how long to wait for the processes to end")
		fs.Parse(os.Args[2:])
		os.Exit(gone(pids(fs.Args()), *wait))
	case "service", "state":
		if len(os.Args) != 3 {
			usage()
		}
		if os.Args[1] == "state" {
			os.Exit(state(os.Args[2]))
		}
		os.Exit(service(os.Args[2]))
	}
	usage()
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: wincheck alive PID... | gone [-wait DUR] PID... | service NAME | state NAME")
	os.Exit(2)
}

func pids(args []string) []uint32 {
	if len(args) == 0 {
		usage()
	}
	var out []uint32
	for _, a := range args {
		n, err := strconv.ParseUint(a, 10, 32)
		if err != nil {
			fmt.Fprintf(os.Stderr, "wincheck: pid %q: %v\n", a, err)
			os.Exit(2)
		}
		out = append(out, uint32(n))
	}
	return out
}

// running reports whether process pid exists and has not exited.
func running(pid uint32) bool {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, pid)
	if err != nil {
		return false
	}
	defer windows.CloseHandle(h)
	var code uint32
	if err := windows.GetExitCodeProcess(h, &code); err != nil {
		return false
	}
	return code == 259 // STILL_ACTIVE
}

func alive(pids []uint32) int {
	status := 0
	for _, pid := range pids {
		if !running(pid) {
			fmt.Printf("process %d is not running\n", pid)
			status = 1
		}
	}
	return status
}

func gone(pids []uint32, wait time.Duration) int {
	deadline := time.Now().Add(wait)
	for {
		var left []uint32
		for _, pid := range pids {
			if running(pid) {
				left = append(left, pid)
			}
		}
		if len(left) == 0 {
			return 0
		}
		if time.Now().After(deadline) {
			fmt.Printf("still running after %v: %v\n", wait, left)
			return 1
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func service(name string) int {
	m, err := mgr.Connect()
	if err != nil {
		fmt.Fprintln(os.Stderr, "wincheck: connect:", err)
		return 1
	}
	defer m.Disconnect()
	s, err := m.OpenService(name)
	if err != nil {
		fmt.Fprintln(os.Stderr, "wincheck: open service:", err)
		return 1
	}
	defer s.Close()
	// mgr.Service.Config also asks for what Wine does not know: ask for
	// the basic configuration alone.
	buf := make([]byte, 8192)
	var need uint32
	c := (*windows.QUERY_SERVICE_CONFIG)(unsafe.Pointer(&buf[0]))
	if err := windows.QueryServiceConfig(s.Handle, c, uint32(len(buf)), &need); err != nil {
		fmt.Fprintln(os.Stderr, "wincheck: config:", err)
		return 1
	}
	fmt.Printf("start_type: %d\ncommand: %s\n", c.StartType, windows.UTF16PtrToString(c.BinaryPathName))
	actions, err := s.RecoveryActions()
	if err != nil {
		fmt.Printf("recovery: error %v\n", err)
		return 0
	}
	for _, a := range actions {
		fmt.Printf("recovery: type %d delay %v\n", a.Type, a.Delay)
	}
	if flag, err := s.RecoveryActionsOnNonCrashFailures(); err == nil {
		fmt.Printf("recovery_on_failure_exit: %v\n", flag)
	} else {
		fmt.Printf("recovery_on_failure_exit: error %v\n", err)
	}
	return 0
}

func state(name string) int {
	m, err := mgr.Connect()
	if err != nil {
		fmt.Fprintln(os.Stderr, "wincheck: connect:", err)
		return 1
	}
	defer m.Disconnect()
	s, err := m.OpenService(name)
	if err != nil {
		fmt.Fprintln(os.Stderr, "wincheck: open service:", err)
		return 1
	}
	defer s.Close()
	st, err := s.Query()
	if err != nil {
		fmt.Fprintln(os.Stderr, "wincheck: query:", err)
		return 1
	}
	names := map[svc.State]string{
		svc.Stopped: "stopped", svc.StartPending: "start_pending", svc.StopPending: "stop_pending",
		svc.Running: "running", svc.ContinuePending: "continue_pending", svc.PausePending: "pause_pending",
		svc.Paused: "paused",
	}
	fmt.Println(names[st.State])
	return 0
}
