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
	"github.com/stewardhq/steward/internal/client"
	"github.com/stewardhq/steward/internal/ipc"
)

func TestTCPAuth(t *testing.T) {
	f := newFixture(t)
	l, err := ipc.ListenTCP("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: f.server.TCPHandler(api.StaticToken("s3cret")), ConnContext: api.ConnContext}
	go srv.Serve(l)
	defer srv.Close()
	url := "http://" + l.Addr().String()
	ctx := context.Background()

	for _, tok := range []string{"", "wrong", "s3cret2", "s3cre"} {
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
	if got := f.configs.Who; !slices.Equal(got, []string{"tcp:127.0.0.1"}) {
		t.Errorf("who on TCP = %q, want tcp:127.0.0.1", got)
	}
	if got := api.StaticToken("").CheckToken(""); got {
		t.Errorf("an empty StaticToken accepts the empty token")
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
	if !api.StaticToken(tok).CheckToken(again) {
		t.Errorf("StaticToken rejects its own token")
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
