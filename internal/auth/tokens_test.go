package auth_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/auth"
	"github.com/stewardhq/steward/internal/store"
)

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestTokensAuthenticate(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)
	tokens := &auth.Tokens{Store: openStore(t), Now: func() time.Time { return now }}
	boot := tokens.WithBootstrap("b00tstrap")
	if tokens.Bootstrap != "" {
		t.Error("WithBootstrap changed its receiver")
	}
	if p, err := boot.Authenticate(ctx, "b00tstrap"); err != nil || p.Who != "token:bootstrap" || p.Role != steward.RoleAdmin {
		t.Errorf("bootstrap = %+v, %v", p, err)
	}
	if _, err := tokens.Authenticate(ctx, "b00tstrap"); err == nil {
		t.Error("a Tokens without Bootstrap accepts the bootstrap secret")
	}
	op, err := tokens.Create(ctx, steward.TokenRequest{Name: "deploy", Role: steward.RoleOperator, Expires: "1h"})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := boot.Authenticate(ctx, op.Secret); err != nil || p.Who != "token:deploy" || p.Role != steward.RoleOperator {
		t.Errorf("Authenticate(deploy) = %+v, %v", p, err)
	}
	// A secret with the right accessor and checksum but another body: the
	// hash differs.
	other, _ := auth.NewSecret()
	forged := op.Secret[:len(auth.TokenPrefix)+10] + other[len(auth.TokenPrefix)+10:]
	for name, secret := range map[string]string{
		"empty": "", "garbage": "hello", "unknown": other, "forged": forged,
		"bootstrap-ish": "b00tstrap ", "typo": typo(op.Secret),
	} {
		_, err := boot.Authenticate(ctx, secret)
		if err != auth.ErrBadToken {
			t.Errorf("Authenticate(%s) = %v, want ErrBadToken", name, err)
		}
		if err != nil && secret != "" && strings.Contains(err.Error(), secret) {
			t.Errorf("the error of %s names the secret", name)
		}
	}
	now = now.Add(time.Hour)
	if _, err := tokens.Authenticate(ctx, op.Secret); err != auth.ErrBadToken {
		t.Errorf("an expired token: %v, want ErrBadToken", err)
	}
	never, err := tokens.Create(ctx, steward.TokenRequest{Name: "ro", Role: steward.RoleViewer})
	if err != nil || !never.Expires.IsZero() {
		t.Fatalf("Create(no expiry) = %+v, %v", never, err)
	}
	now = now.Add(1000 * time.Hour)
	if _, err := tokens.Authenticate(ctx, never.Secret); err != nil {
		t.Errorf("a token without expiry, much later: %v", err)
	}
	if _, err := tokens.Revoke(ctx, "ro"); err != nil {
		t.Fatal(err)
	}
	if _, err := tokens.Authenticate(ctx, never.Secret); err != auth.ErrBadToken {
		t.Errorf("a revoked token: %v, want ErrBadToken", err)
	}
	list, err := tokens.List(ctx)
	if err != nil || len(list) != 2 {
		t.Errorf("List = %+v, %v", list, err)
	}
}

func TestTokensCreateRefuses(t *testing.T) {
	tokens := &auth.Tokens{Store: openStore(t)}
	for _, req := range []steward.TokenRequest{
		{Name: "", Role: steward.RoleViewer},
		{Name: strings.Repeat("a", 65), Role: steward.RoleViewer},
		{Name: "a/b", Role: steward.RoleViewer},
		{Name: "a", Role: "superuser"},
		{Name: "a", Role: ""},
		{Name: "a", Role: steward.RoleViewer, Expires: "-1h"},
		{Name: "a", Role: steward.RoleViewer, Expires: "0s"},
		{Name: "a", Role: steward.RoleViewer, Expires: "tomorrow"},
	} {
		if _, err := tokens.Create(context.Background(), req); steward.ErrorCode(err) != steward.EINVALID {
			t.Errorf("Create(%+v) = %v, want EINVALID", req, err)
		}
	}
	if _, err := tokens.Create(context.Background(), steward.TokenRequest{Name: "Ok-1.x_y", Role: steward.RoleAdmin}); err != nil {
		t.Errorf("Create(valid name): %v", err)
	}
	// A tenant's token (the API checks that the config declares it).
	nt, err := tokens.Create(context.Background(), steward.TokenRequest{Name: "acme-ops", Role: steward.RoleOperator, Tenant: "acme"})
	if err != nil {
		t.Fatalf("Create(tenant): %v", err)
	}
	if p, err := tokens.Authenticate(context.Background(), nt.Secret); err != nil || p.Tenant != "acme" || p.Role != steward.RoleOperator {
		t.Errorf("the tenant's token authenticates as %+v, %v; want operator of tenant acme", p, err)
	}
}

func TestTokensStoreFailure(t *testing.T) {
	st := openStore(t)
	tokens := &auth.Tokens{Store: st}
	tok, err := tokens.Create(context.Background(), steward.TokenRequest{Name: "a", Role: steward.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if _, err := tokens.Authenticate(context.Background(), tok.Secret); err == nil || err == auth.ErrBadToken {
		t.Errorf("Authenticate on a closed store = %v, want the store's error", err)
	}
	if _, err := tokens.Create(context.Background(), steward.TokenRequest{Name: "b", Role: steward.RoleAdmin}); err == nil {
		t.Error("Create on a closed store succeeded")
	}
}

func TestLog(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	signer, err := auth.LoadOrCreateSigner(filepath.Join(dir, "audit.key"))
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t)
	now := time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)
	l := &auth.Log{Store: st, Signer: signer, Path: filepath.Join(dir, "audit.chk"), Now: func() time.Time { return now }}
	// No checkpoint yet: an empty log verifies.
	if v, err := l.Verify(ctx); err != nil || !v.OK || v.Records != 0 {
		t.Errorf("Verify(empty) = %+v, %v", v, err)
	}
	cp, err := l.Checkpoint(ctx)
	if err != nil || cp.Seq != 0 || cp.Hash != auth.GenesisHash {
		t.Fatalf("Checkpoint(empty) = %+v, %v", cp, err)
	}
	if v, err := l.Verify(ctx); err != nil || !v.OK {
		t.Errorf("Verify(checkpoint of the empty log) = %+v, %v", v, err)
	}
	for _, o := range []string{"attempt", "ok"} {
		r, err := l.Append(ctx, steward.AuditRecord{Principal: "p", Action: "config", Target: "PUT /v1/config", Outcome: o})
		if err != nil || !r.Time.Equal(now) {
			t.Fatalf("Append = %+v, %v", r, err)
		}
	}
	if cp, err = l.Checkpoint(ctx); err != nil || cp.Seq != 2 || !cp.Time.Equal(now) {
		t.Fatalf("Checkpoint = %+v, %v", cp, err)
	}
	// The signature checks, off the machine, with the public key over
	// the message docs/security.md spells out; the key id is its hash's.
	pub, _ := hex.DecodeString(signer.PublicKey())
	sig, _ := hex.DecodeString(cp.Signature)
	msg := binary.BigEndian.AppendUint64([]byte("steward audit checkpoint\x00"), uint64(cp.Seq))
	msg = append(msg, cp.Hash+"\x00"+cp.Time.UTC().Format(time.RFC3339Nano)...)
	if len(pub) != ed25519.PublicKeySize || !ed25519.Verify(pub, msg, sig) {
		t.Errorf("checkpoint %+v does not verify with public key %s", cp, signer.PublicKey())
	}
	if sum := sha256.Sum256(pub); cp.KeyID != "ed25519:"+hex.EncodeToString(sum[:8]) || cp.KeyID != signer.KeyID() {
		t.Errorf("key id %q, want ed25519: and the first 8 bytes of the public key's SHA-256", cp.KeyID)
	}
	recs, err := l.Records(ctx, time.Time{}, 0)
	if err != nil || len(recs) != 2 || recs[0].Hash != cp.Hash {
		t.Errorf("Records = %+v, %v", recs, err)
	}
	if v, err := l.Verify(ctx); err != nil || !v.OK || v.Checkpoint != 2 || v.Records != 2 {
		t.Errorf("Verify = %+v, %v", v, err)
	}
	// A checkpoint file that does not check is a problem, not an error.
	bad := &auth.Log{Store: st, Signer: signer, Path: filepath.Join(dir, "nosuchdir", "x", "audit.chk")}
	if _, err := bad.Checkpoint(ctx); err == nil {
		t.Error("Checkpoint into a missing directory succeeded")
	}
	other, err := auth.LoadOrCreateSigner(filepath.Join(dir, "other.key"))
	if err != nil {
		t.Fatal(err)
	}
	forged := &auth.Log{Store: st, Signer: other, Path: l.Path}
	if v, err := forged.Verify(ctx); err != nil || v.OK || v.Problem == "" {
		t.Errorf("Verify with another key = %+v, %v; want a problem", v, err)
	}
	st.Close()
	if _, err := l.Checkpoint(ctx); err == nil {
		t.Error("Checkpoint on a closed store succeeded")
	}
}

// typo is secret with its last character changed.
func typo(secret string) string {
	last := "x"
	if strings.HasSuffix(secret, last) {
		last = "y"
	}
	return secret[:len(secret)-1] + last
}
