package notify

import (
	"fmt"
	"strings"
	"time"
)

// Checkpoint is a signed checkpoint of steward's audit log, as a message
// copies it off the machine: the number and hash of the last record, when
// it was signed, the Ed25519 signature and the key that made it, so that
// a receiver can check it and later compare a node's log with it.
type Checkpoint struct {
	Seq       int64     `json:"seq"`
	Hash      string    `json:"hash"`
	Time      time.Time `json:"time"`
	Signature string    `json:"signature"`
	// KeyID names the signing key: "ed25519:" and the first 16 hex
	// digits of the SHA-256 of PublicKey.
	KeyID string `json:"key_id"`
	// PublicKey is the key that checks Signature, in hex.
	PublicKey string `json:"public_key"`
}

// title is the subject of a checkpoint's message.
func (c *Checkpoint) title(node string) string {
	s := fmt.Sprintf("steward audit checkpoint: record %d", c.Seq)
	if node != "" {
		s += " on node " + node
	}
	return s
}

// text says what c is, one field a line.
func (c *Checkpoint) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "The audit log held %d records at %s.\n", c.Seq, c.Time.UTC().Format(time.RFC3339Nano))
	fmt.Fprintf(&b, "  hash of the last: %s\n", c.Hash)
	fmt.Fprintf(&b, "  signature: %s\n", c.Signature)
	fmt.Fprintf(&b, "  key: %s (public key %s)\n", c.KeyID, c.PublicKey)
	return b.String()
}
