package api

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// TokenChecker decides whether a bearer token grants access to the API.
type TokenChecker interface {
	CheckToken(token string) bool
}

// StaticToken is a TokenChecker that accepts one token. An empty
// StaticToken accepts none.
type StaticToken string

var _ TokenChecker = StaticToken("")

// CheckToken reports whether token is t, in time that does not depend on
// where they differ nor on their lengths.
func (t StaticToken) CheckToken(token string) bool {
	want := sha256.Sum256([]byte(t))
	got := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(want[:], got[:]) == 1 && t != ""
}

// bearer returns the token of an "Authorization: Bearer TOKEN" header value.
func bearer(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// LoadOrCreateToken returns the API token stored in the file at path,
// first creating the file (0600, in a 0750 directory made when missing)
// with a random 32-byte token in hex when it does not exist.
func LoadOrCreateToken(path string) (string, error) {
	tok, err := readToken(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return tok, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return "", fmt.Errorf("create token file: %w", err)
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("create token: %w", err)
	}
	tok = hex.EncodeToString(b[:])
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return readToken(path) // made meanwhile by another process
	}
	if err != nil {
		return "", fmt.Errorf("create token file: %w", err)
	}
	_, err = f.WriteString(tok + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return "", fmt.Errorf("write token file: %w", err)
	}
	return tok, nil
}

// readToken reads the token in the file at path.
func readToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read token file: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("read token file: %s is empty", path)
	}
	return tok, nil
}
