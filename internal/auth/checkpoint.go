package auth

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Checkpoint is a signed statement that the audit log held Seq records,
// the last with hash Hash, at Time. Checkpoints are kept outside the
// database, one JSON object per line of the checkpoint file, so that
// cutting the database's tail or rewriting it is found by comparing it
// with the latest one.
type Checkpoint struct {
	Seq  int64     `json:"seq"`
	Hash string    `json:"hash"`
	Time time.Time `json:"time"`
	// Signature is the Ed25519 signature of the other fields, in hex.
	Signature string `json:"signature"`
}

// message is what a checkpoint's signature covers.
func (c Checkpoint) message() []byte {
	var b bytes.Buffer
	b.WriteString("steward audit checkpoint\x00")
	_ = binary.Write(&b, binary.BigEndian, c.Seq)
	b.WriteString(c.Hash + "\x00" + c.Time.UTC().Format(time.RFC3339Nano))
	return b.Bytes()
}

// Signer signs checkpoints with the node's audit key.
type Signer struct {
	key ed25519.PrivateKey
}

// LoadOrCreateSigner reads the Ed25519 key in the file at path (its seed,
// in hex), first creating it (0600, in a 0700 directory made when missing)
// when it does not exist.
func LoadOrCreateSigner(path string) (*Signer, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("audit key: %w", err)
		}
		seed := make([]byte, ed25519.SeedSize)
		if _, err := rand.Read(seed); err != nil {
			return nil, fmt.Errorf("audit key: %w", err)
		}
		if err := writeFileSync(path, []byte(hex.EncodeToString(seed)+"\n"), 0o600, os.O_EXCL); err != nil {
			return nil, fmt.Errorf("audit key: %w", err)
		}
		return &Signer{key: ed25519.NewKeyFromSeed(seed)}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit key: %w", err)
	}
	seed, err := hex.DecodeString(string(bytes.TrimSpace(data)))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("audit key %s: not an Ed25519 seed in hex", path)
	}
	return &Signer{key: ed25519.NewKeyFromSeed(seed)}, nil
}

// Sign returns the checkpoint of seq records ending in hash at t.
func (s *Signer) Sign(seq int64, hash string, t time.Time) Checkpoint {
	c := Checkpoint{Seq: seq, Hash: hash, Time: t.UTC()}
	c.Signature = hex.EncodeToString(ed25519.Sign(s.key, c.message()))
	return c
}

// PublicKey returns the key that checks the signer's signatures, in hex.
func (s *Signer) PublicKey() string { return hex.EncodeToString(s.key.Public().(ed25519.PublicKey)) }

// KeyID names the signer's key: "ed25519:" and the first 16 hex digits of
// the SHA-256 of its public key.
func (s *Signer) KeyID() string {
	sum := sha256.Sum256(s.key.Public().(ed25519.PublicKey))
	return "ed25519:" + hex.EncodeToString(sum[:8])
}

// Check reports whether c was signed by this signer's key.
func (s *Signer) Check(c Checkpoint) bool {
	sig, err := hex.DecodeString(c.Signature)
	return err == nil && ed25519.Verify(s.key.Public().(ed25519.PublicKey), c.message(), sig)
}

// AppendCheckpoint appends c to the checkpoint file at path and syncs it.
func AppendCheckpoint(path string, c Checkpoint) error {
	line, err := json.Marshal(c)
	if err != nil {
		return err
	}
	if err := writeFileSync(path, append(line, '\n'), 0o600, os.O_APPEND); err != nil {
		return fmt.Errorf("audit checkpoint: %w", err)
	}
	return nil
}

// LatestCheckpoint returns the last checkpoint of the file at path that s
// signed; nil when the file does not exist or holds none. A line that does
// not parse or whose signature fails is an error: someone wrote it.
func LatestCheckpoint(path string, s *Signer) (*Checkpoint, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var latest *Checkpoint
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var c Checkpoint
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			return nil, fmt.Errorf("%s:%d: not a checkpoint: %v", path, n, err)
		}
		if !s.Check(c) {
			return nil, fmt.Errorf("%s:%d: checkpoint of record %s has a bad signature", path, n, strconv.FormatInt(c.Seq, 10))
		}
		if latest == nil || c.Seq >= latest.Seq {
			latest = &c
		}
	}
	return latest, sc.Err()
}

// writeFileSync writes data to path (opened with flag besides
// O_WRONLY|O_CREATE) and syncs it before closing.
func writeFileSync(path string, data []byte, perm os.FileMode, flag int) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|flag, perm)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if serr := f.Sync(); err == nil {
		err = serr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
