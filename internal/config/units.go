package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// parseDuration parses a Go duration ("100ms", "1m30s"). A bare number other
// than 0 is an error: "10" could mean seconds or milliseconds.
func parseDuration(s string) (time.Duration, error) {
	if s == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		if _, err := time.ParseDuration(s + "s"); err == nil {
			return 0, errors.New("duration needs a unit, e.g. 10s")
		}
		return 0, fmt.Errorf("invalid duration %q, want e.g. 100ms, 10s or 1m30s", s)
	}
	if d < 0 {
		return 0, errors.New("duration must not be negative")
	}
	return d, nil
}

// parseSize parses a size in bytes: a whole number with an optional unit,
// case-insensitive. B is bytes; KB, MB, GB and TB are powers of 1000; KiB,
// MiB, GiB and TiB are powers of 1024. "512" is 512 bytes.
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && '0' <= t[i] && t[i] <= '9' {
		i++
	}
	mult := sizeUnit(strings.ToLower(strings.TrimSpace(t[i:])))
	if i == 0 || mult == 0 {
		return 0, fmt.Errorf("invalid size %q, want e.g. 512, 10KB or 50MiB", s)
	}
	n, err := strconv.ParseInt(t[:i], 10, 64)
	if err != nil || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return n * mult, nil
}

// sizeUnit returns the number of bytes in one unit u (lower case), or 0 when
// u is not a unit.
func sizeUnit(u string) int64 {
	switch u {
	case "", "b":
		return 1
	case "kb":
		return 1e3
	case "mb":
		return 1e6
	case "gb":
		return 1e9
	case "tb":
		return 1e12
	case "kib":
		return 1 << 10
	case "mib":
		return 1 << 20
	case "gib":
		return 1 << 30
	case "tib":
		return 1 << 40
	}
	return 0
}

// SplitCommand splits s into words as a command: string is split, with
// splitCommand's rules, for those who write configurations (the importers).
func SplitCommand(s string) ([]string, error) { return splitCommand(s) }

// splitCommand splits s into words as a POSIX shell would, without running
// one: words are separated by spaces, tabs and newlines; single quotes keep
// everything literally; inside double quotes a backslash escapes only $, `,
// ", \ and newline; outside quotes a backslash escapes any character, and
// backslash-newline joins lines. Nothing is expanded: $VAR, globs and ~ are
// passed on as written. Unquoted |, &, ;, < and > are errors, since only a
// shell would give them a meaning.
func splitCommand(s string) ([]string, error) {
	var (
		words []string
		word  strings.Builder
		in    bool // inside a word
	)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\n':
			if in {
				words = append(words, word.String())
				word.Reset()
				in = false
			}
		case '\\':
			if i+1 == len(s) {
				return nil, errors.New("ends with a backslash")
			}
			i++
			if s[i] != '\n' {
				word.WriteByte(s[i])
				in = true
			}
		case '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unterminated single quote")
			}
			word.WriteString(s[i+1 : i+1+j])
			i += j + 1
			in = true
		case '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("$`\"\\\n", s[i+1]) >= 0 {
					i++
					if s[i] == '\n' {
						continue
					}
				}
				word.WriteByte(s[i])
			}
			if i == len(s) {
				return nil, errors.New("unterminated double quote")
			}
			in = true
		case '|', '&', ';', '<', '>':
			return nil, fmt.Errorf("unquoted %q needs a shell: quote it, or run [sh, -c, \"...\"]", string(c))
		default:
			word.WriteByte(c)
			in = true
		}
	}
	if in {
		words = append(words, word.String())
	}
	return words, nil
}

// suggest returns ` (did you mean "x"?)` for the one of known closest to s
// when it is a likely typo of it, and "" otherwise.
func suggest(s string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		if d := editDistance(s, k); d < bestDist && d <= 1+len(k)/8 {
			best, bestDist = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return math.MaxInt
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// ParseSpan parses a span of time back from a moment: a Go duration
// ("36h"), optionally after whole days and weeks ("7d", "2w", "1d12h").
// It is what report ranges and a report job's since take.
func ParseSpan(s string) (time.Duration, error) {
	rest := s
	var d time.Duration
	for {
		i := 0
		for i < len(rest) && '0' <= rest[i] && rest[i] <= '9' {
			i++
		}
		if i == 0 || i == len(rest) || (rest[i] != 'd' && rest[i] != 'w') {
			break
		}
		n, err := strconv.ParseInt(rest[:i], 10, 64)
		unit := 24 * time.Hour
		if rest[i] == 'w' {
			unit *= 7
		}
		if err != nil || n > int64((math.MaxInt64-d)/unit) {
			return 0, fmt.Errorf("span %q is too long", s)
		}
		d += time.Duration(n) * unit
		rest = rest[i+1:]
	}
	if rest == "" && d > 0 {
		return d, nil
	}
	r, err := time.ParseDuration(rest)
	switch {
	case err != nil || r < 0:
		return 0, fmt.Errorf("invalid span %q, want e.g. 7d, 2w or 36h", s)
	case r > math.MaxInt64-d:
		return 0, fmt.Errorf("span %q is too long", s)
	case d+r == 0:
		return 0, fmt.Errorf("span %q must be more than 0", s)
	}
	return d + r, nil
}
