package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"strings"
)

// Token secrets look like
//
//	stwd_AAAAAAAAAASSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSCCCCCC
//
// the prefix "stwd_" (secret scanners key on it), a 10-character accessor
// that names the token without granting anything, a 32-character random
// secret (190 bits), and 6 characters of CRC-32 over everything before
// them, so that a scanner or steward can tell a mistyped or made-up token
// from a real one without a lookup. All but the prefix are base62.
const (
	TokenPrefix    = "stwd_"
	accessorLen    = 10
	secretLen      = 32
	checksumLen    = 6
	tokenLen       = len(TokenPrefix) + accessorLen + secretLen + checksumLen
	base62Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)

// ErrMalformedToken is a string that is not a steward token: wrong prefix,
// length, characters or checksum.
var ErrMalformedToken = errors.New("not a steward token")

// NewSecret returns a new token secret and its accessor.
func NewSecret() (secret, accessor string) {
	body := randomBase62(accessorLen + secretLen)
	s := TokenPrefix + body
	return s + checksum(s), body[:accessorLen]
}

// ParseToken checks the form and checksum of secret and returns its
// accessor. It says nothing of whether the token exists.
func ParseToken(secret string) (accessor string, err error) {
	if len(secret) != tokenLen || !strings.HasPrefix(secret, TokenPrefix) {
		return "", ErrMalformedToken
	}
	for i := len(TokenPrefix); i < len(secret); i++ {
		if strings.IndexByte(base62Alphabet, secret[i]) < 0 {
			return "", ErrMalformedToken
		}
	}
	head := secret[:tokenLen-checksumLen]
	if checksum(head) != secret[tokenLen-checksumLen:] {
		return "", ErrMalformedToken
	}
	return secret[len(TokenPrefix) : len(TokenPrefix)+accessorLen], nil
}

// HashToken is what the store keeps of a secret: its SHA-256, in hex. The
// secret is 190 random bits, so a fast hash is enough.
func HashToken(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// checksum is the CRC-32 of s in 6 base62 characters.
func checksum(s string) string {
	n := crc32.ChecksumIEEE([]byte(s))
	var b [checksumLen]byte
	for i := checksumLen - 1; i >= 0; i-- {
		b[i] = base62Alphabet[n%62]
		n /= 62
	}
	return string(b[:])
}

// randomBase62 returns n characters drawn uniformly from base62Alphabet.
func randomBase62(n int) string {
	out := make([]byte, 0, n)
	var buf [64]byte
	for len(out) < n {
		if _, err := rand.Read(buf[:]); err != nil {
			panic(err) // crypto/rand does not fail on supported systems
		}
		for _, c := range buf {
			if c < 248 && len(out) < n { // 248 = 4×62: no modulo bias
				out = append(out, base62Alphabet[c%62])
			}
		}
	}
	return string(out)
}
