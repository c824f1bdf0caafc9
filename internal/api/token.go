package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/auth"
)

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

// Tokens creates, lists and revokes API tokens (auth.Tokens).
type Tokens interface {
	Create(ctx context.Context, req steward.TokenRequest) (steward.NewToken, error)
	List(ctx context.Context) ([]steward.Token, error)
	Revoke(ctx context.Context, name string) (steward.Token, error)
}

var _ Tokens = (*auth.Tokens)(nil)

var errNoTokens = steward.Errorf(steward.EUNAVAILABLE, "tokens are not enabled")

// listTokens serves GET /v1/tokens: every token, never a secret or hash.
func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Tokens == nil {
		return errNoTokens
	}
	list, err := s.opts.Tokens.List(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list)
}

// createToken serves POST /v1/tokens: the new token with its secret, which
// is shown this once.
func (s *Server) createToken(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Tokens == nil {
		return errNoTokens
	}
	var req steward.TokenRequest
	body, err := readBody(r)
	if err != nil {
		return err
	}
	if err := decodeJSON(body, &req); err != nil {
		return err
	}
	t, err := s.opts.Tokens.Create(r.Context(), req)
	if err != nil {
		return err
	}
	s.log.Info("api token created", "token", t.Name, "accessor", t.Accessor, "role", t.Role, "who", s.who(r.Context()))
	return writeJSON(w, http.StatusCreated, t)
}

// revokeToken serves DELETE /v1/tokens/{accessor} (or the token's name):
// the token stops working at once, and its requests under way end.
func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Tokens == nil {
		return errNoTokens
	}
	t, err := s.opts.Tokens.Revoke(r.Context(), r.PathValue("accessor"))
	if err != nil {
		return err
	}
	s.RevokeToken(t.Accessor)
	s.log.Info("api token revoked", "token", t.Name, "accessor", t.Accessor, "who", s.who(r.Context()))
	return writeJSON(w, http.StatusOK, t)
}
