package daemon

import (
	"bytes"
	"crypto/x509"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// TestAutoTLS: the CA is made once; the server certificate is signed by
// it for every host, kept while it is good, and made anew for a new host
// or near its end; the keys are 0600.
func TestAutoTLS(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	hosts := []string{"localhost", "127.0.0.1", "::1", "node-a"}
	pin, err := autoTLS(dir, hosts, now)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := readCert(filepath.Join(dir, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if pin != certPin(ca.Raw) || len(pin) != len("sha256:")+64 || !ca.IsCA {
		t.Errorf("pin %q of a CA (IsCA %v)", pin, ca.IsCA)
	}
	verify := func(host string, at time.Time) error {
		leaf, err := readCert(filepath.Join(dir, "server.pem"))
		if err != nil {
			return err
		}
		roots := x509.NewCertPool()
		roots.AddCert(ca)
		_, err = leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: host, CurrentTime: at})
		return err
	}
	for _, h := range hosts {
		if err := verify(h, now); err != nil {
			t.Errorf("the server certificate for %s: %v", h, err)
		}
	}
	if runtime.GOOS != "windows" {
		for _, k := range []string{"ca.key", "server.key"} {
			if fi, err := os.Stat(filepath.Join(dir, k)); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: %v, %v; want mode 0600", k, fi, err)
			}
		}
	}
	server := func() []byte {
		b, err := os.ReadFile(filepath.Join(dir, "server.pem"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	first := server()
	if again, err := autoTLS(dir, hosts, now.Add(24*time.Hour)); err != nil || again != pin || !bytes.Equal(server(), first) {
		t.Errorf("a second start: pin %q, %v, certificate changed %v; want both kept", again, err, !bytes.Equal(server(), first))
	}
	if _, err := autoTLS(dir, append(hosts, "10.1.2.3"), now); err != nil || bytes.Equal(server(), first) {
		t.Errorf("a new host: %v, certificate kept %v; want a new one", err, bytes.Equal(server(), first))
	}
	if err := verify("10.1.2.3", now); err != nil {
		t.Errorf("the certificate for the new host: %v", err)
	}
	late := now.Add(serverLifetime - renewBefore/2)
	before := server()
	if p, err := autoTLS(dir, hosts, late); err != nil || p != pin || bytes.Equal(server(), before) {
		t.Errorf("near its end: pin %q, %v, renewed %v; want the same CA and a new certificate", p, err, !bytes.Equal(server(), before))
	}
	if err := verify("localhost", late.Add(renewBefore)); err != nil {
		t.Errorf("the renewed certificate a while later: %v", err)
	}

	// A CA that does not load is an error, not a new CA.
	if err := os.WriteFile(filepath.Join(dir, "ca.key"), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := autoTLS(dir, hosts, now); err == nil {
		t.Error("autoTLS with a broken CA key succeeded")
	}
}
