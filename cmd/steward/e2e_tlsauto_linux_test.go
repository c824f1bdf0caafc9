package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/testwait"
)

// TestTLSAuto: with api.tls: auto steward makes its own CA and server
// certificate; steward info shows the CA's pin; the CLI reaches the https
// API with --tls-pin (or STEWARD_TLS_PIN), and refuses it without the pin
// or with another one.
func TestTLSAuto(t *testing.T) {
	port := freePort(t)
	e := newEnv(t, fmt.Sprintf("api: {listen: \"127.0.0.1:%d\", tls: auto}\nservices:\n  a: {command: [\"{{prog}}\"]}\n", port))
	d := e.run()
	var info steward.Info
	testwait.NoError(t, 10*time.Second, func() error {
		code, out, stderr := e.steward("info", "-o", "json")
		if code != 0 {
			return fmt.Errorf("info: %s", stderr)
		}
		return json.Unmarshal([]byte(out), &info)
	})
	if !strings.HasPrefix(info.TLSPin, "sha256:") || len(info.TLSPin) != 71 {
		t.Fatalf("info's tls pin %q", info.TLSPin)
	}
	if _, out, _ := e.steward("info"); !strings.Contains(out, "tls pin:") || !strings.Contains(out, info.TLSPin) {
		t.Errorf("steward info does not show the pin:\n%s", out)
	}
	if !strings.Contains(d.logs.String(), info.TLSPin) {
		t.Errorf("steward's log does not name the pin:\n%s", d.logs.String())
	}
	for _, f := range []string{"ca.pem", "ca.key", "server.pem", "server.key"} {
		if _, err := os.Stat(filepath.Join(e.dir, "tls", f)); err != nil {
			t.Error(err)
		}
	}
	token, err := os.ReadFile(filepath.Join(e.dir, "api.token"))
	if err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("https://127.0.0.1:%d", port)
	code, out, stderr := e.tcpSteward(url, strings.TrimSpace(string(token)), "--tls-pin", info.TLSPin, "ps")
	want(t, []string{"ps --tls-pin"}, 0, code, out, stderr, "a")
	code, out, stderr = e.tcpSteward(url, strings.TrimSpace(string(token)), "ps")
	want(t, []string{"ps without a pin"}, 1, code, out, stderr, "certificate")
	other := "sha256:" + strings.Repeat("ab", 32)
	code, out, stderr = e.tcpSteward(url, strings.TrimSpace(string(token)), "--tls-pin", other, "ps")
	want(t, []string{"ps with another pin"}, 1, code, out, stderr, "does not hold the pinned certificate")
	code, out, stderr = e.tcpSteward(url, strings.TrimSpace(string(token)), "--tls-pin", "nonsense", "ps")
	want(t, []string{"ps with a bad pin"}, 2, code, out, stderr, "want sha256:")
}
