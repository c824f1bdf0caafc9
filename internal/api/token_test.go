package api_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/auth"
	"github.com/stewardhq/steward/internal/client"
	"github.com/stewardhq/steward/internal/ipc"
	"github.com/stewardhq/steward/internal/store"
)

// tcpFixture serves f's API on TCP with tokens kept in a real store; the
// bootstrap token is "s3cret".
type tcpFixture struct {
	*fixture
	url    string
	tokens *auth.Tokens
}

func newTCPFixture(t *testing.T) *tcpFixture {
	t.Helper()
	f := newFixture(t)
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tf := &tcpFixture{fixture: f, tokens: &auth.Tokens{Store: st}}
	l, err := ipc.ListenTCP("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: f.server.TCPHandler(tf.tokens.WithBootstrap("s3cret"), nil), ConnContext: api.ConnContext}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	tf.url = "http://" + l.Addr().String()
	return tf
}

// create makes a token with role in the store and returns its secret.
func (tf *tcpFixture) create(t *testing.T, name, role string) steward.NewToken {
	t.Helper()
	tok, err := tf.tokens.Create(context.Background(), steward.TokenRequest{Name: name, Role: role})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestTCPAuth(t *testing.T) {
	f := newTCPFixture(t)
	url := f.url
	ctx := context.Background()
	revoked := f.create(t, "gone", steward.RoleAdmin)
	if _, err := f.tokens.Revoke(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	forged, _ := auth.NewSecret() // well formed, not in the store
	for _, tok := range []string{"", "wrong", "s3cret2", "s3cre", revoked.Secret, forged} {
		c := client.New(url, client.WithToken(tok))
		_, err := c.Services(ctx)
		wantCode(t, err, steward.EUNAUTHORIZED)
		c.Close()
	}
	for _, h := range []string{"Basic czNjcmV0", "Bearer", "Bearer  ", "s3cret"} {
		req, _ := http.NewRequest("GET", url+"/v1/services", nil)
		req.Header.Set("Authorization", h)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("Authorization %q: %d, want 401 with WWW-Authenticate", h, resp.StatusCode)
		}
	}
	if err := client.New(url).Health(ctx); err != nil {
		t.Errorf("healthz without a token: %v", err)
	}
	c := client.New(url+"/", client.WithToken("s3cret"))
	defer c.Close()
	list, err := c.Services(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("Services with the token = %v, %v", list, err)
	}
	if _, err := c.ApplyConfig(ctx, []byte(configText)); err != nil {
		t.Fatal(err)
	}
	// A viewer's token reads, and is refused a change with a 403 that
	// names the action and the role it needs.
	viewer := f.create(t, "ro", steward.RoleViewer)
	vc := client.New(url, client.WithToken(viewer.Secret))
	defer vc.Close()
	if _, err := vc.Services(ctx); err != nil {
		t.Errorf("Services with a viewer token: %v", err)
	}
	_, err = vc.ApplyConfig(ctx, []byte(configText))
	wantCode(t, err, steward.EFORBIDDEN)
	if err == nil || !strings.Contains(err.Error(), `"config"`) || !strings.Contains(err.Error(), "admin") || strings.Contains(err.Error(), viewer.Secret) {
		t.Errorf("viewer's config change: %v, want a 403 naming the action and the role, not the secret", err)
	}
	want := []string{"token:bootstrap (admin, via tcp:127.0.0.1)"}
	if got := f.configs.Who; !slices.Equal(got, want) {
		t.Errorf("who on TCP = %q, want %q", got, want)
	}
}

func TestLoadOrCreateToken(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "api.token")
	tok, err := api.LoadOrCreateToken(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) != 64 || strings.Trim(tok, "0123456789abcdef") != "" {
		t.Errorf("token %q is not 32 bytes of hex", tok)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode = %v, %v, want 0600", fi.Mode(), err)
	}
	again, err := api.LoadOrCreateToken(path)
	if err != nil || again != tok {
		t.Errorf("second LoadOrCreateToken = %q, %v, want %q", again, err, tok)
	}

	own := filepath.Join(dir, "own.token")
	os.WriteFile(own, []byte("  mine\n"), 0o600)
	if got, err := api.LoadOrCreateToken(own); err != nil || got != "mine" {
		t.Errorf("LoadOrCreateToken(existing) = %q, %v", got, err)
	}
	empty := filepath.Join(dir, "empty.token")
	os.WriteFile(empty, nil, 0o600)
	if _, err := api.LoadOrCreateToken(empty); err == nil {
		t.Errorf("an empty token file was accepted")
	}
	if _, err := api.LoadOrCreateToken(filepath.Join(empty, "x")); err == nil {
		t.Errorf("a token file under a file was accepted")
	}
}
