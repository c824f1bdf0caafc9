package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/testwait"
)

// writeCert writes a new self-signed certificate for 127.0.0.1 and its key
// to cert and key, and returns the certificate's DER bytes.
func writeCert(t *testing.T, cert, key string, serial int64) []byte {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "steward test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	// The key first, as a renewal would write it; each through a rename.
	for path, b := range map[string]*pem.Block{key: {Type: "PRIVATE KEY", Bytes: kder}, cert: {Type: "CERTIFICATE", Bytes: der}} {
		if err := os.WriteFile(path+".new", pem.EncodeToMemory(b), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(path+".new", path); err != nil {
			t.Fatal(err)
		}
	}
	return der
}

// servedCert returns the DER bytes of the certificate served at addr.
func servedCert(addr string) ([]byte, error) {
	c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].Raw, nil
}

// TestRenewedCertificateIsServed replaces api.tls's certificate and key
// files while steward runs: new connections get the new certificate.
func TestRenewedCertificateIsServed(t *testing.T) {
	port := freePort(t)
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	first := writeCert(t, cert, key, 1)
	e := newEnv(t, fmt.Sprintf(`
api: {listen: "127.0.0.1:%d", tls: {cert: %s, key: %s}}
services:
  a: {command: ["{{prog}}"]}
`, port, cert, key))
	e.run()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	if got, err := servedCert(addr); err != nil || !bytes.Equal(got, first) {
		t.Fatalf("before the renewal: %v; want the first certificate", err)
	}
	// A later modification time, whatever the file system's resolution.
	renewed := writeCert(t, cert, key, 2)
	later := time.Now().Add(2 * time.Second)
	for _, p := range []string{cert, key} {
		if err := os.Chtimes(p, later, later); err != nil {
			t.Fatal(err)
		}
	}
	testwait.NoError(t, 10*time.Second, func() error {
		got, err := servedCert(addr)
		if err != nil {
			return err
		}
		if !bytes.Equal(got, renewed) {
			return fmt.Errorf("steward serves the old certificate after the renewal")
		}
		return nil
	})
}
