package main

import (
	"fmt"
	"io"
	"strings"
)

// terminal reports whether w is a terminal, where a service's output is
// shown escaped.
func terminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && isTerminal(f.Fd())
}

// escapeControl returns s with each control character but tab — the C0
// ones, DEL and the C1 ones — written as \xHH (\u00HH for C1), so that a
// service's output cannot move the cursor, retitle the window or rewrite
// what a terminal shows.
func escapeControl(s string) string {
	if !strings.ContainsFunc(s, isControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case !isControl(r):
			b.WriteRune(r)
		case r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	return b.String()
}

func isControl(r rune) bool {
	return (r < 0x20 && r != '\t') || r == 0x7f || (r >= 0x80 && r <= 0x9f)
}
