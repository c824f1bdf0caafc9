package importer

import (
	"fmt"
	"strings"
)

// iniSection is one [section] of an INI file: its keys in file order,
// a key given twice kept twice.
type iniSection struct {
	Name string
	Line int
	Keys []iniKey
}

// iniKey is one key = value line.
type iniKey struct {
	Name, Value string
	Line        int
}

// get returns the last value of key, and whether it is set.
func (s *iniSection) get(key string) (string, bool) {
	for i := len(s.Keys) - 1; i >= 0; i-- {
		if s.Keys[i].Name == key {
			return s.Keys[i].Value, true
		}
	}
	return "", false
}

// iniDialect is what differs between supervisord's INI (Python's
// ConfigParser) and systemd's unit files.
type iniDialect struct {
	// indentContinues: an indented line continues the value above
	// (ConfigParser); else a trailing backslash does (systemd).
	indentContinues bool
	// colon: "key: value" is a key too (ConfigParser).
	colon bool
	// inlineComments: " ;" starts a comment after a value (supervisord).
	inlineComments bool
}

// parseINI reads data as INI text in dialect d.
func parseINI(file string, data []byte, d iniDialect) ([]*iniSection, error) {
	var (
		sections []*iniSection
		cur      *iniSection
		last     *iniKey
		joining  bool // the last line ended with a backslash
	)
	for n, line := range strings.Split(string(data), "\n") {
		n++
		line = strings.TrimSuffix(line, "\r")
		trimmed := strings.TrimSpace(line)
		if joining && last != nil {
			if t, ok := strings.CutSuffix(trimmed, "\\"); ok {
				last.Value += " " + strings.TrimSpace(t)
			} else {
				last.Value += " " + trimmed
				joining = false
			}
			continue
		}
		if trimmed == "" || trimmed[0] == '#' || trimmed[0] == ';' {
			if trimmed == "" && d.indentContinues {
				last = nil
			}
			continue
		}
		if d.indentContinues && last != nil && (line[0] == ' ' || line[0] == '\t') {
			last.Value += "\n" + stripComment(trimmed, d)
			continue
		}
		if trimmed[0] == '[' {
			end := strings.IndexByte(trimmed, ']')
			if end < 0 {
				return nil, fmt.Errorf("%s:%d: a section header needs a closing ]", file, n)
			}
			cur = &iniSection{Name: strings.TrimSpace(trimmed[1:end]), Line: n}
			sections = append(sections, cur)
			last = nil
			continue
		}
		sep := strings.IndexByte(trimmed, '=')
		if c := strings.IndexByte(trimmed, ':'); d.colon && c >= 0 && (sep < 0 || c < sep) {
			sep = c
		}
		if sep <= 0 {
			return nil, fmt.Errorf("%s:%d: want key = value, got %q", file, n, clip(trimmed))
		}
		if cur == nil {
			return nil, fmt.Errorf("%s:%d: %q is outside any [section]", file, n, clip(trimmed))
		}
		value := strings.TrimSpace(trimmed[sep+1:])
		if !d.indentContinues {
			if t, ok := strings.CutSuffix(value, "\\"); ok {
				value, joining = strings.TrimSpace(t), true
			}
		}
		cur.Keys = append(cur.Keys, iniKey{Name: strings.TrimSpace(trimmed[:sep]), Value: stripComment(value, d), Line: n})
		last = &cur.Keys[len(cur.Keys)-1]
	}
	return sections, nil
}

// stripComment removes an inline comment from value, where d has them.
func stripComment(value string, d iniDialect) string {
	if !d.inlineComments {
		return value
	}
	for i := 1; i < len(value); i++ {
		if value[i] == ';' && (value[i-1] == ' ' || value[i-1] == '\t') {
			return strings.TrimSpace(value[:i])
		}
	}
	return value
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}
