package client_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/client"
)

func pinOf(der []byte) string {
	sum := sha256.Sum256(der)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// TestPinnedTLS: a pinned client trusts the server whose certificate the
// pinned one is, or signed; not one whose chain only carries it, nor one
// with another certificate; a malformed pin is EINVALID.
func TestPinnedTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(steward.Info{Version: "pinned"})
	}))
	srv.StartTLS()
	t.Cleanup(srv.Close)
	leaf := srv.Certificate()

	info := func(pin string) error {
		conf, err := client.PinnedTLS(pin)
		if err != nil {
			t.Fatal(err)
		}
		c := client.New(srv.URL, client.WithTLSConfig(conf))
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		got, err := c.Info(ctx)
		if err == nil && got.Version != "pinned" {
			t.Errorf("info %+v", got)
		}
		return err
	}
	if err := info(pinOf(leaf.Raw)); err != nil {
		t.Errorf("the server's own certificate pinned: %v", err)
	}
	if err := info(pinOf([]byte("another"))); err == nil || !strings.Contains(err.Error(), "does not hold the pinned certificate") {
		t.Errorf("another pin: %v, want refused", err)
	}

	// A chain that carries an unrelated certificate, pinned, is refused:
	// the server's certificate must verify against the pinned one.
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "other CA"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	other, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pair := srv.TLS.Certificates[0]
	pair.Certificate = append(pair.Certificate[:1:1], other)
	srv.TLS.Certificates = []tls.Certificate{pair}
	if err := info(pinOf(other)); err == nil || !strings.Contains(err.Error(), "does not verify against the pinned one") {
		t.Errorf("a pinned certificate that did not sign the server's: %v, want refused", err)
	}

	for _, bad := range []string{"", "abc", "sha256:xyz", "sha1:" + strings.Repeat("0", 40), "sha256:" + strings.Repeat("0", 62)} {
		if _, err := client.PinnedTLS(bad); steward.ErrorCode(err) != steward.EINVALID {
			t.Errorf("PinnedTLS(%q) = %v, want EINVALID", bad, err)
		}
	}
}
