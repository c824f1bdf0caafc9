package backup

import (
	"path"
	"strings"
	"testing"
)

// FuzzCheckName checks that every name restore accepts stays below the
// target directory: cleaning it joined below a root never leaves it.
func FuzzCheckName(f *testing.F) {
	for _, seed := range []string{
		"srv/data/a.txt", // an ordinary entry
		"../escape",      // leaves the target
		"a/../../b",      // leaves it from below
		"/etc/passwd",    // absolute
		`..\evil`,        // a Windows separator
		"C:/Windows",     // a volume
		"a//b", "./a", "a/.", "a\x00b", "", "...", "..a", "a..",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if checkName(name) != nil {
			return
		}
		joined := path.Join("/root", name)
		if !strings.HasPrefix(joined, "/root/") {
			t.Fatalf("checkName accepted %q, which joins to %q", name, joined)
		}
		if joined != "/root/"+name {
			t.Fatalf("checkName accepted %q, which is not clean (%q)", name, joined)
		}
	})
}

// FuzzParseManifest checks that the manifest parser never panics and
// that every entry of a manifest it accepts has a name restore accepts.
func FuzzParseManifest(f *testing.F) {
	for _, seed := range []string{
		// A valid manifest with one of each type.
		`{"version":1,"id":"j-1","job":"j","time":"2026-12-06T03:00:00Z","paths":["/srv"],"entries":[` +
			`{"name":"srv","type":"dir","mode":493,"mtime":"2026-12-06T03:00:00Z"},` +
			`{"name":"srv/a","type":"file","mode":420,"mtime":"2026-12-06T03:00:00Z","size":1,"sha256":"` + strings.Repeat("ab", 32) + `"},` +
			`{"name":"srv/l","type":"symlink","mode":511,"mtime":"2026-12-06T03:00:00Z","target":"a"}]}`,
		`{"version":1,"entries":[{"name":"../x","type":"dir"}]}`,                        // a hostile name
		`{"version":1,"entries":[{"name":"a","type":"fifo"}]}`,                          // an unknown type
		`{"version":1,"entries":[{"name":"a","type":"file","size":-1}]}`,                // a negative size
		`{"version":1,"entries":[{"name":"a","type":"dir"},{"name":"a","type":"dir"}]}`, // listed twice
		`{"version":2}`, `{"version":1,"extra":true}`, `{} {}`, `[`, ``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseManifest(data)
		if err != nil {
			return
		}
		for _, e := range m.Entries {
			if checkName(e.Name) != nil {
				t.Fatalf("accepted a manifest with the entry %q", e.Name)
			}
		}
		parseInfo(data)
	})
}
