package daemon

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/stewardhq/steward/internal/atomicfile"
	"github.com/stewardhq/steward/internal/config"
)

// The lifetimes of api.tls: auto's certificates; the server's is made anew
// within renewBefore of its end, at a start or reload.
const (
	caLifetime     = 20 * 365 * 24 * time.Hour
	serverLifetime = 397 * 24 * time.Hour // what browsers accept
	renewBefore    = 30 * 24 * time.Hour
)

// listenerCerts returns the key pair of cfg's TCP listeners: api.tls's
// files, made first with api.tls: auto.
func listenerCerts(cfg *config.Config, log *slog.Logger) (*certFiles, error) {
	if cfg.API.TLS.Auto {
		pin, err := autoTLS(config.AutoTLSDir(cfg.DataDir), autoHosts(cfg), time.Now())
		if err != nil {
			return nil, fmt.Errorf("api.tls auto: %w", err)
		}
		log.Info("api.tls auto: clients trust steward's own CA by its pin (steward --tls-pin PIN, or STEWARD_TLS_PIN)", "pin", pin)
	}
	return loadCertFiles(cfg.API.TLS.Cert, cfg.API.TLS.Key, log)
}

// autoHosts are the names the server certificate of cfg is for: the
// loopback ones, the node's, and the hosts of its listeners.
func autoHosts(cfg *config.Config) []string {
	hosts := []string{"localhost", "127.0.0.1", "::1", cfg.Node}
	listens := []string{cfg.API.Listen, cfg.Web.Listen}
	if cfg.Bus != nil {
		listens = append(listens, cfg.Bus.Listen)
	}
	for _, l := range listens {
		host, _, err := net.SplitHostPort(l)
		if ip := net.ParseIP(host); err != nil || host == "" || (ip != nil && ip.IsUnspecified()) {
			continue
		}
		if !slices.Contains(hosts, host) {
			hosts = append(hosts, host)
		}
	}
	return hosts
}

// autoTLS keeps, in dir, what api.tls: auto serves: a CA of this steward's
// own (ca.pem, ca.key), made once, and server.pem (the server certificate,
// then the CA's) with server.key, signed by it for hosts, made anew when
// missing, within renewBefore of its end at now, or not naming every host.
// Keys are 0600. It returns the pin of the CA, which clients check.
func autoTLS(dir string, hosts []string, now time.Time) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	ca, caKey, err := loadOrMakeCA(dir, now)
	if err != nil {
		return "", err
	}
	pin := certPin(ca.Raw)
	if leaf, err := readCert(filepath.Join(dir, "server.pem")); err == nil && covers(leaf, hosts) &&
		now.Add(renewBefore).Before(leaf.NotAfter) && leaf.CheckSignatureFrom(ca) == nil {
		if _, err := tls.LoadX509KeyPair(filepath.Join(dir, "server.pem"), filepath.Join(dir, "server.key")); err == nil {
			return pin, nil
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: hosts[len(hosts)-1]},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(serverLifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return "", err
	}
	chain := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw})...)
	// The key first: certFiles loads the pair again once the certificate
	// changes.
	if err := writeKey(filepath.Join(dir, "server.key"), key); err != nil {
		return "", err
	}
	return pin, atomicfile.Write(filepath.Join(dir, "server.pem"), chain, 0o644)
}

// loadOrMakeCA returns the CA in dir, made first when there is none.
func loadOrMakeCA(dir string, now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	certPath, keyPath := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca.key")
	ca, err := readCert(certPath)
	if err == nil {
		pair, err := tls.LoadX509KeyPair(certPath, keyPath)
		if err != nil {
			return nil, nil, fmt.Errorf("the CA in %s: %w", dir, err)
		}
		key, ok := pair.PrivateKey.(*ecdsa.PrivateKey)
		if !ok {
			return nil, nil, fmt.Errorf("the CA key %s is not an ECDSA key", keyPath)
		}
		return ca, key, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	host, _ := os.Hostname()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "steward CA " + host, Organization: []string{"steward"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(caLifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	if err := writeKey(keyPath, key); err != nil {
		return nil, nil, err
	}
	if err := atomicfile.Write(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return nil, nil, err
	}
	ca, err = x509.ParseCertificate(der)
	return ca, key, err
}

// certPin is the pin of a certificate: "sha256:" and the hex SHA-256 of
// its DER bytes.
func certPin(der []byte) string {
	sum := sha256.Sum256(der)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// readCert reads the first certificate of a PEM file.
func readCert(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return x509.ParseCertificate(block.Bytes)
}

// covers reports whether c is valid for every host.
func covers(c *x509.Certificate, hosts []string) bool {
	for _, h := range hosts {
		if c.VerifyHostname(h) != nil {
			return false
		}
	}
	return true
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	return n
}

func writeKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	return atomicfile.Write(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
}
