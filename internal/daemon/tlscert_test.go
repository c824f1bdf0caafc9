package daemon

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// writePair writes a new self-signed key pair to cert and key, stamped
// with mod, and returns the certificate's DER bytes.
func writePair(t *testing.T, cert, key string, mod time.Time) []byte {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(mod.UnixNano()), NotBefore: mod, NotAfter: mod.Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	writeStamped(t, cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), mod)
	writeStamped(t, key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), mod)
	return der
}

func writeStamped(t *testing.T, path string, b []byte, mod time.Time) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mod, mod); err != nil {
		t.Fatal(err)
	}
}

func TestCertFilesReload(t *testing.T) {
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	start := time.Now().Add(-time.Hour).Truncate(time.Second)
	first := writePair(t, cert, key, start)
	c, err := loadCertFiles(cert, key, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	served := func() string {
		t.Helper()
		pair, err := c.GetCertificate(nil)
		if err != nil || pair == nil {
			t.Fatalf("GetCertificate: %v, %v", pair, err)
		}
		return string(pair.Certificate[0])
	}
	if served() != string(first) {
		t.Error("GetCertificate does not serve the pair loaded")
	}
	// A renewal half written: the last good pair is served.
	writeStamped(t, cert, []byte("not yet"), start.Add(time.Minute))
	if served() != string(first) {
		t.Error("a pair that does not load replaced the good one")
	}
	renewed := writePair(t, cert, key, start.Add(2*time.Minute))
	if served() != string(renewed) {
		t.Error("GetCertificate serves the old pair after the files changed")
	}
	if _, err := loadCertFiles(filepath.Join(dir, "missing.pem"), key, nil); err == nil {
		t.Error("loadCertFiles of a missing file: no error")
	}
}
