package auth

import (
	"strings"
	"testing"
)

func TestTokenRoundTrip(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		secret, accessor := NewSecret()
		if seen[secret] {
			t.Fatalf("secret %s made twice", secret)
		}
		seen[secret] = true
		got, err := ParseToken(secret)
		if err != nil || got != accessor {
			t.Fatalf("ParseToken(%s) = %q, %v; want %q", secret, got, err, accessor)
		}
		if len(secret) != tokenLen || !strings.HasPrefix(secret, "stwd_") {
			t.Fatalf("secret %q: want %d characters starting stwd_", secret, tokenLen)
		}
	}
}

func TestParseTokenRefuses(t *testing.T) {
	secret, _ := NewSecret()
	flipped := []byte(secret)
	if flipped[10] == 'a' {
		flipped[10] = 'b'
	} else {
		flipped[10] = 'a'
	}
	for _, bad := range []string{
		"", "stwd_", secret[:len(secret)-1], secret + "0", "ghp_" + secret[4:],
		string(flipped), strings.Replace(secret, secret[6:7], "-", 1),
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", // a bootstrap token
	} {
		if _, err := ParseToken(bad); err != ErrMalformedToken {
			t.Errorf("ParseToken(%q) = %v, want ErrMalformedToken", bad, err)
		}
	}
}

func TestHashToken(t *testing.T) {
	a, _ := NewSecret()
	b, _ := NewSecret()
	if h := HashToken(a); h == HashToken(b) || len(h) != 64 || strings.Contains(h, a) {
		t.Error("HashToken is not a stable hash of the secret")
	}
}

func FuzzParseToken(f *testing.F) {
	secret, _ := NewSecret()
	f.Add(secret)
	f.Add("stwd_")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		acc, err := ParseToken(s)
		if err != nil {
			return
		}
		if len(acc) != accessorLen || !strings.HasPrefix(s, TokenPrefix+acc) || checksum(s[:tokenLen-checksumLen]) != s[tokenLen-checksumLen:] {
			t.Fatalf("ParseToken(%q) accepted it with accessor %q", s, acc)
		}
	})
}
