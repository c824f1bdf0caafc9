package client

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/stewardhq/steward"
)

// PinnedTLS returns the TLS configuration of a client that trusts the
// server whose certificate chain holds the certificate pin names —
// "sha256:" and the hex SHA-256 of its DER bytes, as steward info shows
// the CA of api.tls: auto — and whose certificate that one signed (or is),
// in place of the system's roots and the host name. A chain that merely
// carries the pinned certificate does not pass: the server's own
// certificate must verify against it.
func PinnedTLS(pin string) (*tls.Config, error) {
	hexSum, ok := strings.CutPrefix(pin, "sha256:")
	want, err := hex.DecodeString(hexSum)
	if !ok || err != nil || len(want) != sha256.Size {
		return nil, steward.Errorf(steward.EINVALID, "TLS pin %q: want sha256: and 64 hex digits, as steward info shows it", pin)
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		// The chain is verified against the pin in VerifyConnection.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			certs := cs.PeerCertificates
			for _, c := range certs {
				if sum := sha256.Sum256(c.Raw); !bytes.Equal(sum[:], want) {
					continue
				}
				roots, inter := x509.NewCertPool(), x509.NewCertPool()
				roots.AddCert(c)
				for _, x := range certs[1:] {
					inter.AddCert(x)
				}
				if _, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter}); err != nil {
					return fmt.Errorf("the server's certificate does not verify against the pinned one %s: %w", pin, err)
				}
				return nil
			}
			return fmt.Errorf("the server's certificate chain does not hold the pinned certificate %s", pin)
		},
	}, nil
}
