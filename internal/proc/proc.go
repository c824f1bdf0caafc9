// Package proc starts the processes steward supervises and runs its one-shot
// commands (Run: probes, checks, collectors, notifier programs), and ends
// them together with every process they leave behind, using what each OS
// offers for that: a cgroup per tree (where steward may create them),
// process groups, the parent-death signal, a child subreaper, /proc and a
// reaper process that outlives steward on Linux; process groups and the
// kernel process table on macOS; job objects and console control events on
// Windows. Children carry a tag in their environment (STEWARD_TAG) so that
// processes which left their tree, and those a killed steward left behind,
// can still be found where there are no cgroups or job objects.
//
// It sits at the bottom of the import graph: it imports nothing of steward,
// and any package that runs processes (supervise, check, metrics, notify)
// may import it; none of them runs a command with os/exec.
package proc

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"
)

// TagVar is the environment variable that carries a Spec's Tag. Descendants
// inherit it unless they replace their environment.
const TagVar = "STEWARD_TAG"

// killTimeout bounds how long KillTree and Sweep keep killing a tree whose
// members fork or resist.
const killTimeout = 2 * time.Second

// Spec describes a process to start.
type Spec struct {
	// Path is the executable. A name without a path separator is looked up
	// in the PATH of Env (of steward's own environment when Env has none),
	// with exec.LookPath's rules; a relative path is taken relative to Dir.
	Path string
	// Args is argv including argv[0]; empty means {Path}.
	Args []string
	// Env is the child's full environment; nil means steward's own.
	Env []string
	// Dir is the working directory; empty means steward's own.
	Dir string
	// User and Group (a name or a numeric id) run the child as that user
	// and group. POSIX only: Start fails on Windows when either is set.
	User, Group string
	// Stdin is the read end handed to the child as its standard input, and
	// Stdout and Stderr are write ends; nil means the null device. Start
	// does not close them.
	Stdin, Stdout, Stderr *os.File
	// Tag is put in the child's environment as STEWARD_TAG=<Tag>, replacing
	// any STEWARD_TAG in Env. Empty leaves Env as it is, and then KillTree
	// finds the tree only through process groups and parent links.
	Tag string
	// Limits, when set, are enforced by the kernel on the whole tree. Where
	// they cannot be (no cgroup controller for one of them, macOS), Start
	// fails with an error wrapping errors.ErrUnsupported that says why.
	Limits *Limits
}

// signalName normalises a signal name: "term", "SIGTERM" and "TERM" are all
// "TERM".
func signalName(sig string) string {
	return strings.TrimPrefix(strings.ToUpper(sig), "SIG")
}

// childEnv returns env (steward's environment when nil) with STEWARD_TAG set
// to tag, or unchanged when tag is empty.
func childEnv(env []string, tag string) []string {
	if env == nil {
		env = os.Environ()
	}
	if tag == "" {
		return env
	}
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if !envKeyIs(kv, TagVar) {
			out = append(out, kv)
		}
	}
	return append(out, TagVar+"="+tag)
}

// envValue returns the value of the last entry for key in env, as os/exec
// would pass it (the last duplicate wins).
func envValue(env []string, key string) (string, bool) {
	for i := len(env) - 1; i >= 0; i-- {
		if envKeyIs(env[i], key) {
			return env[i][len(key)+1:], true
		}
	}
	return "", false
}

// envKeyIs reports whether the entry kv ("KEY=value") has key as its key;
// case-insensitively on Windows, whose environment is.
func envKeyIs(kv, key string) bool {
	if len(kv) <= len(key) || kv[len(key)] != '=' {
		return false
	}
	if runtime.GOOS == "windows" {
		return strings.EqualFold(kv[:len(key)], key)
	}
	return kv[:len(key)] == key
}

// errUnsupported returns an error wrapping errors.ErrUnsupported that says
// which OS lacks what.
func errUnsupported(what string) error {
	return fmt.Errorf("%s: not supported on %s: %w", what, runtime.GOOS, errors.ErrUnsupported)
}
