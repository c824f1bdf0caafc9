package notify

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// Secret is a string that must not be shown: a password, a token, a URL
// with a key in it. Printing it with any fmt verb, logging it with slog and
// marshalling it to JSON, YAML or text all give Redacted, or "" when it is
// empty. Reveal returns the value.
type Secret string

// Redacted is what a non-empty Secret prints as.
const Redacted = "[redacted]"

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

func (s Secret) redacted() string {
	if s == "" {
		return ""
	}
	return Redacted
}

// String returns Redacted, or "" for an empty secret.
func (s Secret) String() string { return s.redacted() }

// GoString returns the redacted value quoted, for %#v.
func (s Secret) GoString() string { return fmt.Sprintf("%q", s.redacted()) }

// Format prints the redacted value for every verb, so that %d or %x cannot
// show the value either.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'q' || (verb == 'v' && f.Flag('#')) {
		fmt.Fprintf(f, "%q", s.redacted())
		return
	}
	fmt.Fprint(f, s.redacted())
}

// LogValue returns the redacted value, for slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.redacted()) }

// MarshalText returns the redacted value; encoding/json and YAML use it too.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.redacted()), nil }

// UnmarshalText sets s to text, unchanged, so that a configuration can be
// decoded into a Secret.
func (s *Secret) UnmarshalText(text []byte) error {
	*s = Secret(text)
	return nil
}

// Resolver says where ExpandSecrets finds the values of references. Its
// zero value reads the process environment and files relative to the
// working directory.
type Resolver struct {
	// Dir is the directory that relative ${file:PATH} paths start from:
	// the configuration file's directory.
	Dir string
	// LookupEnv returns an environment variable; nil means os.LookupEnv.
	LookupEnv func(name string) (string, bool)
	// ReadFile returns a file's content; nil means os.ReadFile.
	ReadFile func(path string) ([]byte, error)
}

// ExpandSecrets returns s with every reference replaced by its value:
//
//   - ${env:NAME} by the environment variable NAME, which must be set;
//     NAME is letters, digits and underscores, not starting with a digit;
//   - ${file:PATH} by the content of the file PATH, less one trailing
//     newline (\n or \r\n); a relative PATH starts from r.Dir;
//   - $${ by a literal ${.
//
// Any other $ is kept as it is, so "pa$$w0rd" and "a$b" need no escaping.
// Errors name the reference, never a value.
func ExpandSecrets(s Secret, r Resolver) (Secret, error) {
	out, err := expand(string(s), r.lookup)
	return Secret(out), err
}

// CheckSecretRefs reports whether every reference in s is well formed,
// without resolving any: what Validate methods check.
func CheckSecretRefs(s Secret) error {
	_, err := expand(string(s), func(kind, arg string) (string, error) { return "", nil })
	return err
}

// HasSecretRefs reports whether s holds a reference to expand.
func HasSecretRefs(s Secret) bool {
	v := string(s)
	for {
		i := strings.Index(v, "${")
		if i < 0 {
			return false
		}
		if i == 0 || v[i-1] != '$' {
			return true
		}
		v = v[i+2:]
	}
}

func (r Resolver) lookup(kind, arg string) (string, error) {
	switch kind {
	case "env":
		look := r.LookupEnv
		if look == nil {
			look = os.LookupEnv
		}
		v, ok := look(arg)
		if !ok {
			return "", fmt.Errorf("environment variable %s is not set", arg)
		}
		return v, nil
	default: // "file"
		read := r.ReadFile
		if read == nil {
			read = os.ReadFile
		}
		p := arg
		if !filepath.IsAbs(p) && r.Dir != "" {
			p = filepath.Join(r.Dir, p)
		}
		b, err := read(p)
		if err != nil {
			return "", fmt.Errorf("read secret file: %w", err)
		}
		v := string(b)
		if strings.HasSuffix(v, "\r\n") {
			v = v[:len(v)-2]
		} else {
			v = strings.TrimSuffix(v, "\n")
		}
		return v, nil
	}
}

// expand replaces the references in s by what look returns for them.
func expand(s string, look func(kind, arg string) (string, error)) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	at := 0 // offset of s in the original
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		if i > 0 && s[i-1] == '$' { // $${ is a literal ${
			b.WriteString(s[:i-1])
			b.WriteString("${")
			s = s[i+2:]
			at += i + 2
			continue
		}
		b.WriteString(s[:i])
		at += i
		// The messages give the offset, not the text: a malformed
		// reference may be part of a literal password.
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return "", fmt.Errorf("unterminated ${ at offset %d: %s", at, refHelp)
		}
		ref := s[i+2 : i+end]
		kind, arg, ok := strings.Cut(ref, ":")
		switch {
		case !ok || (kind != "env" && kind != "file"):
			return "", fmt.Errorf("invalid reference at offset %d: %s", at, refHelp)
		case kind == "env" && !validEnvName(arg):
			return "", fmt.Errorf("invalid environment variable name at offset %d: %s", at, refHelp)
		case kind == "file" && arg == "":
			return "", fmt.Errorf("empty path in ${file:} at offset %d", at)
		}
		v, err := look(kind, arg)
		if err != nil {
			return "", err
		}
		b.WriteString(v)
		s = s[i+end+1:]
		at += end + 1
	}
}

const refHelp = "want ${env:NAME} or ${file:PATH}, or $${ for a literal ${"

func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_', 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
