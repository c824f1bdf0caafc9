package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/testwait"
)

// testCA is a certificate authority made for a test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	file string // its PEM certificate
}

func newTestCA(t *testing.T, dir, name string) *testCA {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	ca := &testCA{cert: cert, key: k, file: filepath.Join(dir, name+".pem")}
	writePEM(t, ca.file, "CERTIFICATE", der)
	return ca
}

// leaf writes a certificate for 127.0.0.1, for servers and clients, signed
// by ca, and its key, and returns their files.
func (ca *testCA) leaf(t *testing.T, dir, name string) (cert, key string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &k.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	cert, key = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".key")
	writePEM(t, cert, "CERTIFICATE", der)
	writePEM(t, key, "PRIVATE KEY", kder)
	return cert, key
}

func writePEM(t *testing.T, file, kind string, der []byte) {
	t.Helper()
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestFleetTLS: two stewards whose routes carry mutual TLS (bus.cluster.tls)
// form a fleet; a third whose certificate another CA signed is refused by
// both, and says so in its log.
func TestFleetTLS(t *testing.T) {
	dir := t.TempDir()
	secret := fleetSecret(t)
	fleetCA, otherCA := newTestCA(t, dir, "fleet-ca"), newTestCA(t, dir, "other-ca")
	names := []string{"ta", "tb", "tx"}
	cluster := map[string]string{}
	for _, n := range names {
		cluster[n] = freeAddr(t)
	}
	nodes := map[string]*fleetNode{}
	for _, n := range names {
		ca := fleetCA
		if n == "tx" {
			ca = otherCA
		}
		cert, key := ca.leaf(t, dir, n)
		var routes []string
		for _, o := range names {
			if o != n {
				routes = append(routes, "nats-route://"+cluster[o])
			}
		}
		// tx trusts the fleet's CA, but its own certificate is not the
		// fleet's: the others refuse it.
		nodes[n] = &fleetNode{name: n, env: newEnv(t, fmt.Sprintf(`node: %s
bus:
  listen: %s
  cluster:
    name: e2e
    listen: %s
    routes: [%s]
    tls: {cert: %s, key: %s, ca: %s}
  fleet_secret_file: %s
services:
  a: {command: ["{{prog}}"]}
`, n, freeAddr(t), cluster[n], strings.Join(routes, ", "), cert, key, fleetCA.file, secret))}
	}
	for _, n := range names {
		nodes[n].run = nodes[n].env.run()
	}
	waitNodes(t, nodes["ta"].env, "ta=up tb=up")
	waitNodes(t, nodes["tb"].env, "ta=up tb=up")
	testwait.NoError(t, 30*time.Second, func() error {
		logs := nodes["tx"].run.logs.String()
		if !strings.Contains(logs, "TLS") || !strings.Contains(logs, "handshake") {
			return fmt.Errorf("no refused TLS handshake in tx's log yet")
		}
		return nil
	})
	if got, err := nodes["ta"].env.nodeStates(); err != nil || got != "ta=up tb=up" {
		t.Errorf("nodes on ta with tx refused: %s %v", got, err)
	}
}
