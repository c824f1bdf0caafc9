//go:build unix

package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/notify"
	"github.com/stewardhq/steward/internal/testwait"
)

// TestCheckpointCopies: every signed checkpoint — at start, on request, at
// stop — is copied to a webhook (through the outbox: a receiver that is
// down at first gets it once it answers) and to syslog (here a unix
// datagram socket the test listens on), with its number, hash, signature
// and key.
func TestCheckpointCopies(t *testing.T) {
	var mu sync.Mutex
	var got []notify.Checkpoint
	refused := 0
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if refused < 2 { // an outage: the first two attempts fail
			refused++
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		var m struct {
			Checkpoint *notify.Checkpoint `json:"checkpoint"`
		}
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &m); err != nil || m.Checkpoint == nil {
			t.Errorf("webhook body %s: %v, want a checkpoint", b, err)
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		got = append(got, *m.Checkpoint)
	}))
	defer hook.Close()
	dir, err := os.MkdirTemp("", "ck") // socket paths are limited to about 100 bytes
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "log")
	ux, err := net.ListenPacket("unixgram", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ux.Close()
	lines := make(chan string, 16)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, _, err := ux.ReadFrom(buf)
			if err != nil {
				return
			}
			lines <- string(buf[:n])
		}
	}()

	d := newTestDaemon(t, fmt.Sprintf(`notify:
  hook: {webhook: {url: %q}}
  log: {syslog: {network: unixgram, address: %q}}
notifications: {min_backoff: 50ms, max_backoff: 100ms}
audit: {checkpoint: {notify: [hook, log]}}
services: {}
`, hook.URL, sock))
	stop := runTestDaemon(t, d)
	var line string
	select {
	case line = <-lines:
	case <-time.After(10 * time.Second):
		t.Fatal("no syslog record of the checkpoint at start")
	}
	keyID, pub := d.audit.Signer.KeyID(), d.audit.Signer.PublicKey()
	for _, want := range []string{"audit checkpoint seq=0 hash=", "key_id=" + keyID, "signature=", "public_key=" + pub} {
		if !strings.Contains(line, want) {
			t.Errorf("syslog record %q does not hold %q", line, want)
		}
	}
	asked, err := (auditLog{d.audit, d}).Checkpoint(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	// The outbox goes on delivering until the daemon closes: start it
	// again to deliver what is queued (the stop's copy, the retries).
	d2, err := New(context.Background(), d.Current(), d.opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d2.Close() })
	runTestDaemon(t, d2)
	testwait.For(t, 20*time.Second, "the copies at start, on request and at stop", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) >= 4 // this start's too
	})
	mu.Lock()
	defer mu.Unlock()
	var found bool
	for _, c := range got {
		if c.KeyID != keyID || c.PublicKey != pub || len(c.Signature) != 128 || c.Hash == "" {
			t.Errorf("webhook copy %+v: want key %s and a signature", c, keyID)
		}
		if c.Seq == asked.Seq && c.Signature == asked.Signature {
			found = true
		}
	}
	if !found {
		t.Errorf("the checkpoint asked for (%+v) is not among the copies %+v", asked, got)
	}
	if refused != 2 {
		t.Errorf("the receiver refused %d attempts, want 2", refused)
	}
}
