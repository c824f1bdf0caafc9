package daemon

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// certFiles serves the TLS key pair in a certificate and a key file, and
// loads it again when either file changes, so that a renewed certificate
// at the same path is served without a restart. It is safe for concurrent
// use.
type certFiles struct {
	cert, key string
	log       *slog.Logger

	mu    sync.Mutex
	pair  *tls.Certificate
	stamp [2]fileStamp // of cert and key when pair, or the last failed load, was read
}

// fileStamp tells one version of a file from another.
type fileStamp struct {
	mod  time.Time
	size int64
}

// loadCertFiles loads the key pair in cert and key.
func loadCertFiles(cert, key string, log *slog.Logger) (*certFiles, error) {
	c := &certFiles{cert: cert, key: key, log: log}
	stamp, err := c.stamps()
	if err != nil {
		return nil, fmt.Errorf("load TLS key pair: %w", err)
	}
	pair, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		return nil, fmt.Errorf("load TLS key pair: %w", err)
	}
	c.pair, c.stamp = &pair, stamp
	return c, nil
}

// GetCertificate is the tls.Config hook: the key pair, loaded again first
// when a file has changed since it was read. A pair that does not load (a
// renewal half written) is logged, and the last good one served until the
// files change again.
func (c *certFiles) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	stamp, err := c.stamps()
	if err != nil || stamp == c.stamp {
		return c.pair, nil
	}
	c.stamp = stamp
	pair, err := tls.LoadX509KeyPair(c.cert, c.key)
	if err != nil {
		c.log.Warn("TLS key pair changed but does not load; serving the one loaded before", "cert", c.cert, "err", err)
		return c.pair, nil
	}
	c.log.Info("TLS key pair changed; serving the new one", "cert", c.cert)
	c.pair = &pair
	return c.pair, nil
}

func (c *certFiles) stamps() ([2]fileStamp, error) {
	var s [2]fileStamp
	for i, path := range []string{c.cert, c.key} {
		fi, err := os.Stat(path)
		if err != nil {
			return s, err
		}
		s[i] = fileStamp{fi.ModTime(), fi.Size()}
	}
	return s, nil
}
