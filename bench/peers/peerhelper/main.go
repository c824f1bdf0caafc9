//go:build linux

// Command peerhelper is every program bench/peers has the tools supervise
// other than sleep(1); its first argument names the part it plays:
//
//	peerhelper crash STAMPS     stamp "S" at start and "E" as its last act, exit 1
//	peerhelper gen BYTES STAMPS [hold]
//	                            stamp "S", write BYTES of log lines and an end mark to stdout,
//	                            then exit 0 (or with hold, sleep until killed)
//	peerhelper parent N SLEEP   hold N `SLEEP 100000+i` children until killed
//	peerhelper tree SLEEP I     a whole tree: start `SLEEP 200000+I` as a child and
//	                            `SLEEP 300000+I` as a daemon (its own session, its
//	                            parent gone), then become `SLEEP 100000+I`
//
// Stamps are CLOCK_MONOTONIC nanoseconds, comparable across the processes
// of one boot (unlike time.Time's monotonic reading). It is kept small —
// only the standard library's basics and x/sys/unix — so that its start
// adds as little as possible to a measured restart.
package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// endMark starts the last line gen writes; the driver (bench/peers) looks
// for it followed by the run's start stamp.
const endMark = "END-OF-LOAD"

// lineLen is the length of a log line, newline included; lines go out
// 64 KiB at a time (the load of bench/logcap).
const lineLen = 100

func main() {
	if len(os.Args) < 2 {
		fail(fmt.Errorf("usage: peerhelper crash|gen|parent|tree ARGS"))
	}
	var err error
	switch args := os.Args[2:]; os.Args[1] {
	case "crash":
		err = crash(args)
	case "gen":
		err = gen(args)
	case "parent":
		err = parent(args)
	case "tree":
		err = tree(args)
	case "daemon":
		err = daemon(args)
	default:
		err = fmt.Errorf("unknown part %q", os.Args[1])
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "peerhelper:", err)
	os.Exit(2)
}

func monoNow() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		panic(err) // cannot fail on Linux
	}
	return ts.Nano()
}

// stamp appends "KIND <CLOCK_MONOTONIC ns>" to file in one write.
func stamp(file, kind string) (int64, error) {
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return 0, err
	}
	now := monoNow()
	_, err = f.Write([]byte(kind + " " + strconv.FormatInt(now, 10) + "\n"))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return now, err
}

func crash(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: crash STAMPS")
	}
	if _, err := stamp(args[0], "S"); err != nil {
		return err
	}
	if _, err := stamp(args[0], "E"); err != nil {
		return err
	}
	os.Exit(1)
	return nil
}

func gen(args []string) error {
	if len(args) != 2 && (len(args) != 3 || args[2] != "hold") {
		return fmt.Errorf("usage: gen BYTES STAMPS [hold]")
	}
	total, err := strconv.ParseInt(args[0], 10, 64)
	if err != nil {
		return err
	}
	start, err := stamp(args[1], "S")
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(os.Stdout, 64<<10)
	line := make([]byte, 0, lineLen)
	for i := int64(0); i < total/lineLen; i++ {
		line = append(line[:0], "2024-05-01 12:00:00 INFO request served id="...)
		line = strconv.AppendInt(line, i, 10)
		line = append(line, " path=/api/v1/items status=200 bytes=5120 took=1.2ms "...)
		for len(line) < lineLen-1 {
			line = append(line, 'x')
		}
		line = append(line[:lineLen-1], '\n')
		if _, err := w.Write(line); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "%s %d\n", endMark, start)
	if err := w.Flush(); err != nil {
		return err
	}
	if len(args) == 3 {
		time.Sleep(24 * time.Hour)
	}
	return nil
}

// parent is the smallest Go supervisor, the floor for a daemon's memory:
// it starts the children, prints "ready" and waits for SIGTERM; the
// children die with it (PR_SET_PDEATHSIG).
func parent(args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("usage: parent N SLEEP")
	}
	n, err := strconv.Atoi(args[0])
	if err != nil {
		return err
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	var cmds []*exec.Cmd
	for i := range n {
		c := exec.Command(args[1], strconv.Itoa(100000+i))
		c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := c.Start(); err != nil {
			return err
		}
		cmds = append(cmds, c)
	}
	fmt.Println("ready")
	<-sigs
	for _, c := range cmds {
		c.Process.Kill()
		c.Wait()
	}
	return nil
}

// tree starts a child and a daemon of SLEEP, then execs SLEEP: a service
// whose processes are not all its supervisor's children.
func tree(args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("usage: tree SLEEP I")
	}
	i, err := strconv.Atoi(args[1])
	if err != nil {
		return err
	}
	if err := exec.Command(args[0], strconv.Itoa(200000+i)).Start(); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	// The daemon's parent exits at once: the daemon is reparented, out of
	// the service's process tree, in a session of its own.
	if err := exec.Command(self, "daemon", args[0], strconv.Itoa(300000+i)).Run(); err != nil {
		return err
	}
	return syscall.Exec(args[0], []string{args[0], strconv.Itoa(100000 + i)}, os.Environ())
}

// daemon starts SLEEP ARG in a new session and returns.
func daemon(args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("usage: daemon SLEEP ARG")
	}
	c := exec.Command(args[0], args[1])
	c.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	return c.Start()
}
