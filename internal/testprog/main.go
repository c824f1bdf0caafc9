// Command testprog is a child process for steward's tests: it prints, listens,
// becomes ready, forks and daemonizes, ignores signals and exits as its flags
// say. Tests build it with `go build` and run it; nothing else imports it.
//
// The flags are all optional and combine. -ignore-term and -write-pid take
// effect first, so that a test which waits for any output of testprog can
// rely on them; the others then run in this order: -print, -stderr, -listen
// (in the background, after -listen-after), -alloc, -http (in the background),
// -micro, -ready-line and -sd-notify (in the background, after -ready-after),
// -watchdog-for (in the background), -spawn, -orphan (the pids of both go to
// -pidfile), -exit (after -after), -sleep. With neither -exit nor -sleep,
// testprog runs until a signal ends it.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// lineSize is the length of each -print line, newline included.
const lineSize = 62

type options struct {
	print       int
	alloc       int
	stderr      string
	listen      string
	listenAfter time.Duration
	http        string
	micro       string
	readyLine   string
	readyAfter  time.Duration
	sdNotify    string
	watchdogFor time.Duration
	spawn       int
	orphan      int
	pidfile     string
	ignoreTerm  bool
	trap        string
	exit        int
	after       time.Duration
	sleep       time.Duration
	writePid    string
	daemonize   bool
	set         map[string]bool
}

func main() {
	o, err := parse(os.Args[1:])
	if err != nil {
		os.Exit(2) // the flag package has said why
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "testprog:", err)
		os.Exit(1)
	}
}

func parse(args []string) (*options, error) {
	o := &options{set: make(map[string]bool)}
	fs := flag.NewFlagSet("testprog", flag.ContinueOnError)
	fs.IntVar(&o.print, "print", 0, fmt.Sprintf("print `N` lines \"line <i> <padding>\", %d bytes each, to stdout", lineSize))
	fs.IntVar(&o.alloc, "alloc", 0, "allocate and touch `MB` mebibytes, one at a time, printing \"allocated <n> MiB\" every 16")
	fs.StringVar(&o.stderr, "stderr", "", "print `TEXT` to stderr")
	fs.StringVar(&o.listen, "listen", "", "accept and close TCP connections on `ADDR`")
	fs.DurationVar(&o.listenAfter, "listen-after", 0, "open the -listen listener after `DUR`")
	fs.StringVar(&o.http, "http", "", "serve 200 OK on /health at `ADDR`")
	fs.StringVar(&o.micro, "micro", "", "register a NATS micro service `NAME` on $NATS_URL with an endpoint echo on NAME.echo, printing \"micro NAME up\"")
	fs.StringVar(&o.readyLine, "ready-line", "", "print `TEXT` to stdout after -ready-after")
	fs.DurationVar(&o.readyAfter, "ready-after", 0, "print -ready-line and send -sd-notify after `DUR`")
	fs.StringVar(&o.sdNotify, "sd-notify", "", "send `STATE` (such as \"READY=1\\nSTATUS=up\", \\n for newlines) to $NOTIFY_SOCKET after -ready-after")
	fs.DurationVar(&o.watchdogFor, "watchdog-for", 0, "send WATCHDOG=1 every half $WATCHDOG_USEC for `DUR`, then stop")
	fs.IntVar(&o.spawn, "spawn", 0, "start `N` children running -sleep 1h in this process group")
	fs.IntVar(&o.orphan, "orphan", 0, "start `N` detached grandchildren running -sleep 1h (setsid and double fork on unix)")
	fs.StringVar(&o.pidfile, "pidfile", "", "write the pids of -spawn and -orphan processes to `PATH`, one a line")
	fs.BoolVar(&o.ignoreTerm, "ignore-term", false, "ignore SIGTERM and SIGINT (CTRL_BREAK on windows), printing \"ignored <SIG>\" for each")
	fs.StringVar(&o.trap, "trap", "", "catch the signals in `LIST` (comma-separated names such as HUP,USR1), printing \"trapped <SIG>\" for each")
	fs.IntVar(&o.exit, "exit", 0, "exit with `CODE` after -after")
	fs.DurationVar(&o.after, "after", 0, "exit with -exit after `DUR`")
	fs.DurationVar(&o.sleep, "sleep", 0, "sleep `DUR`, then exit 0")
	fs.StringVar(&o.writePid, "write-pid", "", "write the pid of testprog to `PATH`")
	fs.BoolVar(&o.daemonize, "daemonize", false, "internal to -orphan: start the grandchild, print its pid, exit")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	fs.Visit(func(f *flag.Flag) { o.set[f.Name] = true })
	return o, nil
}

func run(o *options) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if o.daemonize {
		return daemonize(self)
	}
	out := &lockedWriter{w: os.Stdout}
	if o.ignoreTerm {
		ignoreTerm(out)
	}
	if o.trap != "" {
		if err := trap(out, o.trap); err != nil {
			return err
		}
	}
	if o.writePid != "" {
		if err := writeFile(o.writePid, strconv.Itoa(os.Getpid())+"\n"); err != nil {
			return err
		}
	}
	if o.print > 0 {
		if err := printLines(out, o.print); err != nil {
			return err
		}
	}
	if o.set["stderr"] {
		fmt.Fprintln(os.Stderr, o.stderr)
	}
	held := allocate(out, o.alloc)
	defer runtime.KeepAlive(held)
	if o.listen != "" {
		go background(func() error { return listen(o.listen, o.listenAfter) })
	}
	if o.http != "" {
		go background(func() error { return serveHTTP(o.http) })
	}
	if o.micro != "" {
		if err := serveMicro(out, o.micro); err != nil {
			return err
		}
	}
	if o.set["ready-line"] {
		go func() {
			time.Sleep(o.readyAfter)
			out.write(o.readyLine + "\n")
		}()
	}
	if o.set["sd-notify"] {
		go background(func() error {
			time.Sleep(o.readyAfter)
			return sdNotify(strings.ReplaceAll(o.sdNotify, `\n`, "\n"))
		})
	}
	if o.watchdogFor > 0 {
		go background(func() error { return watchdog(o.watchdogFor) })
	}
	var pids []int
	for range o.spawn {
		cmd := exec.Command(self, "-sleep", "1h")
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("spawn: %w", err)
		}
		pids = append(pids, cmd.Process.Pid)
		go cmd.Wait()
	}
	for range o.orphan {
		pid, err := startOrphan(self)
		if err != nil {
			return fmt.Errorf("orphan: %w", err)
		}
		pids = append(pids, pid)
	}
	if o.pidfile != "" {
		var b strings.Builder
		for _, pid := range pids {
			fmt.Fprintln(&b, pid)
		}
		if err := writeFile(o.pidfile, b.String()); err != nil {
			return err
		}
	}
	if o.set["exit"] || o.set["after"] {
		time.Sleep(o.after)
		os.Exit(o.exit)
	}
	if o.set["sleep"] {
		time.Sleep(o.sleep)
		return nil
	}
	for {
		time.Sleep(time.Hour)
	}
}

// allocate allocates mb MiB and writes to every page of it, so that it
// counts as the process's memory.
func allocate(out *lockedWriter, mb int) [][]byte {
	var held [][]byte
	for i := range mb {
		b := make([]byte, 1<<20)
		for j := 0; j < len(b); j += 4096 {
			b[j] = 1
		}
		held = append(held, b)
		if (i+1)%16 == 0 {
			out.write(fmt.Sprintf("allocated %d MiB\n", i+1))
		}
	}
	return held
}

// lockedWriter serialises writes to stdout from the goroutines of testprog.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) write(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	io.WriteString(l.w, s)
}

// ignoreTerm makes SIGTERM and SIGINT harmless and reports each on out.
func ignoreTerm(out *lockedWriter) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, os.Interrupt)
	go func() {
		for sig := range sigs {
			name := "INT"
			if sig == syscall.SIGTERM {
				name = "TERM"
			}
			out.write("ignored " + name + "\n")
		}
	}()
}

// trap catches the signals named in list and reports each on out.
func trap(out *lockedWriter, list string) error {
	names := make(map[os.Signal]string)
	for _, name := range strings.Split(list, ",") {
		sig, ok := signals[name]
		if !ok {
			return fmt.Errorf("trap: unknown signal %q", name)
		}
		names[sig] = name
	}
	sigs := make(chan os.Signal, len(names))
	for sig := range names {
		signal.Notify(sigs, sig)
	}
	go func() {
		for sig := range sigs {
			out.write("trapped " + names[sig] + "\n")
		}
	}()
	return nil
}

// printLines prints n lines of lineSize bytes through one buffer.
func printLines(out *lockedWriter, n int) error {
	out.mu.Lock()
	defer out.mu.Unlock()
	w := bufio.NewWriterSize(out.w, 64<<10)
	line := make([]byte, 0, lineSize)
	for i := 1; i <= n; i++ {
		line = strconv.AppendInt(append(line[:0], "line "...), int64(i), 10)
		line = append(line, ' ')
		for len(line) < lineSize-1 {
			line = append(line, 'x')
		}
		line = append(line, '\n')
		if _, err := w.Write(line); err != nil {
			return err
		}
	}
	return w.Flush()
}

// background runs f and ends testprog with status 1 if it fails.
func background(f func() error) {
	if err := f(); err != nil {
		fmt.Fprintln(os.Stderr, "testprog:", err)
		os.Exit(1)
	}
}

func listen(addr string, after time.Duration) error {
	time.Sleep(after)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		c.Close()
	}
}

func serveHTTP(addr string) error {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "ok\n")
	})
	err := http.ListenAndServe(addr, mux)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// writeFile writes data to path through a rename, so that a test polling
// for path never reads it half written.
func writeFile(path, data string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(data), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
