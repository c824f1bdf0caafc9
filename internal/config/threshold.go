package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Threshold is one alert condition on a measured figure, written like
// "> 80% for 5m": a comparison, a value with an optional unit, and an
// optional duration the comparison must hold for before the alert fires.
type Threshold struct {
	Key   string  `json:"key"` // the figure: cpu, memory, disk:/, ...
	Op    string  `json:"op"`  // >, >=, <, <=, == or !=
	Value float64 `json:"value"`
	// Unit is "%" for a percentage, "B" for bytes (or bytes per second for
	// a rate) when the value was given with a size unit, or "" for a plain
	// number. Value is in that unit: 85 for "85%", 5e8 for "500MB".
	Unit string        `json:"unit,omitempty"`
	For  time.Duration `json:"for,omitempty"`
	Text string        `json:"text"` // as written
}

// ThresholdError is a problem in a threshold expression, at a 0-based byte
// offset into it.
type ThresholdError struct {
	Offset int
	Msg    string
}

func (e *ThresholdError) Error() string { return fmt.Sprintf("at offset %d: %s", e.Offset, e.Msg) }

// Holds reports whether value meets the comparison of t. value is in t's
// unit.
func (t Threshold) Holds(value float64) bool {
	switch t.Op {
	case ">":
		return value > t.Value
	case ">=":
		return value >= t.Value
	case "<":
		return value < t.Value
	case "<=":
		return value <= t.Value
	case "==":
		return value == t.Value
	case "!=":
		return value != t.Value
	}
	return false
}

// ParseThreshold parses a threshold expression:
//
//	OP VALUE[UNIT] [for DURATION]
//
// OP is one of > >= < <= == !=; VALUE a non-negative decimal number; UNIT
// "%" or a size unit (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB, any case),
// optionally followed by "/s" for a rate; DURATION a Go duration ("5m").
// Blanks may separate the parts. The Key of the result is empty. A problem
// is a *ThresholdError whose offset points at it.
func ParseThreshold(s string) (Threshold, error) {
	t := Threshold{Text: s}
	i := skipBlanks(s, 0)
	fail := func(at int, format string, args ...any) (Threshold, error) {
		return Threshold{}, &ThresholdError{Offset: at, Msg: fmt.Sprintf(format, args...)}
	}
	if i == len(s) {
		return fail(i, "empty condition, want e.g. \"> 80%%\" or \"> 80%% for 5m\"")
	}
	switch {
	case strings.HasPrefix(s[i:], ">="), strings.HasPrefix(s[i:], "<="),
		strings.HasPrefix(s[i:], "=="), strings.HasPrefix(s[i:], "!="):
		t.Op = s[i : i+2]
	case s[i] == '>' || s[i] == '<':
		t.Op = s[i : i+1]
	default:
		return fail(i, "want a comparison (>, >=, <, <=, == or !=) first, e.g. \"> 80%%\"")
	}
	i = skipBlanks(s, i+len(t.Op))

	start := i
	for i < len(s) && ('0' <= s[i] && s[i] <= '9' || s[i] == '.') {
		i++
	}
	if i == start {
		if i < len(s) && s[i] == '-' {
			return fail(i, "the value must not be negative")
		}
		return fail(i, "want a number after %s", t.Op)
	}
	v, err := strconv.ParseFloat(s[start:i], 64)
	if err != nil || math.IsInf(v, 0) || strings.Count(s[start:i], ".") > 1 || s[i-1] == '.' || s[start] == '.' {
		return fail(start, "invalid number %q", s[start:i])
	}
	t.Value = v

	// The unit follows the number, with or without a blank.
	j := skipBlanks(s, i)
	u := j
	for u < len(s) && (isLetter(s[u]) || s[u] == '%' || s[u] == '/') {
		u++
	}
	unit := s[j:u]
	if strings.EqualFold(unit, "for") {
		u, unit = j, ""
	}
	switch {
	case unit == "":
	case unit == "%":
		if v > 100 {
			return fail(start, "a percentage must not be more than 100")
		}
		t.Unit = "%"
	default:
		size := strings.TrimSuffix(strings.ToLower(unit), "/s")
		mult := sizeUnit(size)
		if mult == 0 || size == "" {
			return fail(j, "unknown unit %q, want %% or a size like MB or GiB", unit)
		}
		t.Unit, t.Value = "B", v*float64(mult)
	}
	if unit != "" {
		i = u
	}

	i = skipBlanks(s, i)
	if i == len(s) {
		return t, nil
	}
	if !strings.HasPrefix(strings.ToLower(s[i:]), "for") || (i+3 < len(s) && !isBlank(s[i+3])) || i+3 == len(s) {
		if i+3 == len(s) && strings.EqualFold(s[i:], "for") {
			return fail(len(s), "want a duration after for, e.g. for 5m")
		}
		return fail(i, "unexpected %q, want end or \"for DURATION\"", s[i:])
	}
	if i > 0 && !isBlank(s[i-1]) {
		return fail(i, "want a blank before for")
	}
	i = skipBlanks(s, i+3)
	end := i
	for end < len(s) && !isBlank(s[end]) {
		end++
	}
	if i == end {
		return fail(i, "want a duration after for, e.g. for 5m")
	}
	d, err := parseDuration(s[i:end])
	if err != nil {
		return fail(i, "%v", err)
	}
	t.For = d
	if rest := skipBlanks(s, end); rest != len(s) {
		return fail(rest, "unexpected %q after the duration", s[rest:])
	}
	return t, nil
}

func skipBlanks(s string, i int) int {
	for i < len(s) && isBlank(s[i]) {
		i++
	}
	return i
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
