package backup

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/stewardhq/steward"
)

// manifestVersion is the version of the manifest and sidecar formats.
const manifestVersion = 1

// manifestName is the name of the archive's last entry, its manifest.
const manifestName = ".steward-manifest.json"

// maxManifest bounds the size of a manifest or sidecar that is read.
const maxManifest = 256 << 20

// Entry types.
const (
	typeFile    = "file"
	typeDir     = "dir"
	typeSymlink = "symlink"
)

// Manifest lists what an archive holds: the archive's last entry.
type Manifest struct {
	Version int                  `json:"version"`
	ID      string               `json:"id"`
	Job     string               `json:"job"`
	Time    time.Time            `json:"time"`
	Paths   []string             `json:"paths"`
	Entries []Entry              `json:"entries"`
	Skipped []steward.BackupSkip `json:"skipped,omitempty"`
}

// Entry is one entry of an archive.
type Entry struct {
	// Name is slash-separated and relative: a path of the backup without
	// its leading separator.
	Name   string    `json:"name"`
	Type   string    `json:"type"` // typeFile, typeDir or typeSymlink
	Mode   uint32    `json:"mode"` // permission bits
	MTime  time.Time `json:"mtime"`
	Size   int64     `json:"size,omitempty"`   // of a file
	SHA256 string    `json:"sha256,omitempty"` // of a file, hex
	Target string    `json:"target,omitempty"` // of a symlink
}

// Info is an archive's sidecar: ID.backup.json beside it. It is written
// after the archive, so a backup is listed only once it is complete.
type Info struct {
	Version   int       `json:"version"`
	ID        string    `json:"id"`
	Job       string    `json:"job"`
	Time      time.Time `json:"time"`
	Format    string    `json:"format"`
	Encrypted bool      `json:"encrypted"`
	// Archive is the archive's file name in the same directory.
	Archive string               `json:"archive"`
	Size    int64                `json:"size"`
	SHA256  string               `json:"sha256"`
	Files   int                  `json:"files"`
	Bytes   int64                `json:"bytes"`
	Skipped []steward.BackupSkip `json:"skipped,omitempty"`

	// Dir is the directory the sidecar was read from.
	Dir string `json:"-"`
}

// parseManifest parses an archive's manifest and checks it: each entry
// has a name restore accepts, a known type, and the fields of its type.
func parseManifest(data []byte) (*Manifest, error) {
	var m Manifest
	if err := decodeStrict(data, &m); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	if m.Version != manifestVersion {
		return nil, fmt.Errorf("manifest: version %d, want %d", m.Version, manifestVersion)
	}
	seen := make(map[string]bool, len(m.Entries))
	for i, e := range m.Entries {
		if err := checkName(e.Name); err != nil {
			return nil, fmt.Errorf("manifest: entry %d: %w", i, err)
		}
		if seen[e.Name] {
			return nil, fmt.Errorf("manifest: entry %q is listed twice", e.Name)
		}
		seen[e.Name] = true
		switch e.Type {
		case typeFile:
			if e.Size < 0 || !isDigest(e.SHA256) {
				return nil, fmt.Errorf("manifest: file %q needs a size and a SHA-256", e.Name)
			}
		case typeDir:
		case typeSymlink:
			if e.Target == "" {
				return nil, fmt.Errorf("manifest: symlink %q has no target", e.Name)
			}
		default:
			return nil, fmt.Errorf("manifest: entry %q has type %q, want file, dir or symlink", e.Name, e.Type)
		}
	}
	return &m, nil
}

// parseInfo parses a sidecar.
func parseInfo(data []byte) (*Info, error) {
	var in Info
	if err := decodeStrict(data, &in); err != nil {
		return nil, err
	}
	switch {
	case in.Version != manifestVersion:
		return nil, fmt.Errorf("version %d, want %d", in.Version, manifestVersion)
	case in.ID == "" || strings.ContainsAny(in.ID, `/\`) || in.Archive == "" || strings.ContainsAny(in.Archive, `/\`) ||
		in.Archive == "." || in.Archive == "..":
		return nil, errors.New("no id or archive file name, or one with a separator")
	case !isDigest(in.SHA256):
		return nil, errors.New("no SHA-256 of the archive")
	}
	return &in, nil
}

func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("more than one JSON value")
	}
	return nil
}

func isDigest(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == 32
}

// checkName returns an error unless name is a relative, clean,
// slash-separated path that stays below the directory it is restored to:
// no "..", ".", or empty part, no leading slash, no backslash or volume
// name, no NUL.
func checkName(name string) error {
	switch {
	case name == "":
		return errors.New("an empty name")
	case strings.ContainsAny(name, "\\\x00"):
		return fmt.Errorf("name %q has a backslash or a NUL byte", name)
	case strings.HasPrefix(name, "/"):
		return fmt.Errorf("name %q is absolute", name)
	case len(name) >= 2 && name[1] == ':':
		return fmt.Errorf("name %q has a volume name", name)
	}
	for part := range strings.SplitSeq(name, "/") {
		switch part {
		case "":
			return fmt.Errorf("name %q has an empty part", name)
		case ".", "..":
			return fmt.Errorf("name %q has a %q part: it could leave the target directory", name, part)
		}
	}
	return nil
}
