package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/client"
	"github.com/stewardhq/steward/internal/testwait"
)

// TestTCPNeedsToken checks both TCP listeners: api.listen and the
// dashboard's own web.listen, which serve the same token-guarded API.
func TestTCPNeedsToken(t *testing.T) {
	port, webPort := freePort(t), freePort(t)
	e := newEnv(t, fmt.Sprintf(`
api: {listen: "127.0.0.1:%d"}
web: {listen: "127.0.0.1:%d"}
services:
  a: {command: ["{{prog}}"]}
`, port, webPort))
	e.run()
	token, err := os.ReadFile(filepath.Join(e.dir, "api.token"))
	if err != nil {
		t.Fatalf("no token generated: %v", err)
	}
	if fi, _ := os.Stat(filepath.Join(e.dir, "api.token")); fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v, want 0600", fi.Mode().Perm())
	}
	// The socket answers ps before the TCP listeners open.
	for _, p := range []int{port, webPort} {
		testwait.NoError(t, 10*time.Second, func() error {
			c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", p))
			if err == nil {
				c.Close()
			}
			return err
		})
	}
	for _, tt := range []struct {
		port int
		auth string
		want int
	}{
		{port, "", http.StatusUnauthorized},
		{port, "Bearer wrong", http.StatusUnauthorized},
		{port, "Bearer " + strings.TrimSpace(string(token)), http.StatusOK},
		{webPort, "", http.StatusUnauthorized},
		{webPort, "Bearer " + strings.TrimSpace(string(token)), http.StatusOK},
	} {
		url := fmt.Sprintf("http://127.0.0.1:%d/v1/services", tt.port)
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if tt.auth != "" {
			req.Header.Set("Authorization", tt.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("port %d, auth %q: status %d, want %d: %s", tt.port, tt.auth, resp.StatusCode, tt.want, body)
		}
		if tt.want == http.StatusUnauthorized && !strings.Contains(string(body), `"code":"unauthorized"`) {
			t.Errorf("401 body = %s", body)
		}
	}
	// The dashboard answers on web.listen: without a session, its login page.
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", webPort))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/login" || !strings.Contains(string(body), "<form") {
		t.Errorf("GET / on web.listen: %d at %s:\n%.300s", resp.StatusCode, resp.Request.URL, body)
	}
}

func TestListenRefusesNonLoopbackWithoutTLS(t *testing.T) {
	e := newEnv(t, "services:\n  a: {command: [\"{{prog}}\"]}\n")
	os.WriteFile(e.config, []byte("data_dir: .\napi: {listen: \"0.0.0.0:7070\"}\nservices:\n  a: {command: [\""+testprog+"\"]}\n"), 0o600)
	code, _, stderr := e.steward("run")
	if code != 1 || !strings.Contains(stderr, "TLS") {
		t.Errorf("run with a non-loopback listen and no TLS: exit %d: %s", code, stderr)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestExamplesAreValid(t *testing.T) {
	files, err := filepath.Glob("../../examples/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	for _, f := range files {
		cmd := command("validate", "-c", f)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("validate %s: %v\n%s", f, err, out)
		}
	}
}

func TestOSServicesThroughTheAPI(t *testing.T) {
	e := newEnv(t, "services:\n  a: {command: [\"{{prog}}\"]}\n")
	e.run()
	c := client.New(filepath.Join(e.dir, "steward.sock"))
	defer c.Close()
	list, err := c.OSServices(context.Background())
	if _, statErr := os.Stat("/run/systemd/system"); statErr != nil {
		// No systemd here: the API says so plainly.
		if steward.ErrorCode(err) != steward.EUNAVAILABLE || !strings.Contains(err.Error(), "systemd") {
			t.Errorf("os-services without systemd: err = %v, want unavailable naming systemd", err)
		}
		return
	}
	if err != nil || len(list) == 0 {
		t.Errorf("os-services with systemd: %d services, %v", len(list), err)
	}
}
