package store

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/auth"
)

func TestTokens(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	secret, acc := auth.NewSecret()
	tok := steward.Token{Name: "deploy", Accessor: acc, Role: steward.RoleOperator, Tenant: "shop", Created: now, Expires: now.Add(time.Hour)}
	if err := s.CreateToken(ctx, tok, auth.HashToken(secret)); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateToken(ctx, steward.Token{Name: "deploy", Accessor: "other", Role: "viewer", Created: now}, "h"); steward.ErrorCode(err) != steward.ECONFLICT {
		t.Errorf("a second token named deploy: %v, want a conflict", err)
	}
	got, hash, err := s.TokenByAccessor(ctx, acc)
	if err != nil || got != tok || hash != auth.HashToken(secret) {
		t.Fatalf("TokenByAccessor = %+v %q %v, want %+v and the hash", got, hash, err, tok)
	}
	if _, _, err := s.TokenByAccessor(ctx, "nope"); steward.ErrorCode(err) != steward.ENOTFOUND {
		t.Errorf("unknown accessor: %v", err)
	}
	rev, err := s.RevokeToken(ctx, "deploy", now.Add(time.Minute))
	if err != nil || !rev.Revoked.Equal(now.Add(time.Minute)) {
		t.Fatalf("RevokeToken = %+v, %v", rev, err)
	}
	if _, err := s.RevokeToken(ctx, acc, now); steward.ErrorCode(err) != steward.ECONFLICT {
		t.Errorf("revoke twice: %v, want a conflict", err)
	}
	if _, err := s.RevokeToken(ctx, "ghost", now); steward.ErrorCode(err) != steward.ENOTFOUND {
		t.Errorf("revoke unknown: %v, want not found", err)
	}
	list, err := s.Tokens(ctx)
	if err != nil || len(list) != 1 || list[0].Revoked.IsZero() {
		t.Errorf("Tokens = %+v, %v", list, err)
	}
}

// TestAuditTamperingBehindStewardsBack appends records through the store,
// then edits, deletes and cuts them with SQL on the file, as an attacker
// with the database but not the key would: Verify finds each.
func TestAuditTamperingBehindStewardsBack(t *testing.T) {
	ctx := context.Background()
	signer, err := auth.LoadOrCreateSigner(t.TempDir() + "/key")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, sql string
		firstBad  int64
	}{
		{"edited", `UPDATE audit SET outcome = 'ok' WHERE seq = 3`, 3},
		{"deleted", `DELETE FROM audit WHERE seq = 2`, 2},
		{"reordered", `UPDATE audit SET seq = 100 WHERE seq = 2; UPDATE audit SET seq = 2 WHERE seq = 3; UPDATE audit SET seq = 3 WHERE seq = 100`, 2},
		{"tail cut", `DELETE FROM audit WHERE seq >= 4`, 4},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, path := openTest(t)
			t0 := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
			var last steward.AuditRecord
			for i := range 5 {
				last, err = s.AppendAudit(ctx, steward.AuditRecord{Time: t0.Add(time.Duration(i) * time.Second),
					Principal: "uid:0:root (admin, via socket)", Action: "control", Target: "services/api", Outcome: "denied"})
				if err != nil {
					t.Fatal(err)
				}
			}
			if last.Seq != 5 {
				t.Fatalf("last seq %d, want 5", last.Seq)
			}
			cp := signer.Sign(last.Seq, last.Hash, last.Time)
			if v, err := auth.Verify(s.AuditAll(ctx), &cp); err != nil || !v.OK || v.Records != 5 {
				t.Fatalf("before tampering: %+v, %v", v, err)
			}
			db, err := sql.Open("sqlite", path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec(tt.sql); err != nil {
				t.Fatal(err)
			}
			v, err := auth.Verify(s.AuditAll(ctx), &cp)
			if err != nil || v.OK || v.FirstBad != tt.firstBad {
				t.Errorf("after %s: %+v, %v; want first bad %d", tt.name, v, err, tt.firstBad)
			}
		})
	}
}

func TestAuditList(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	if r, err := s.LastAudit(ctx); err != nil || r.Seq != 0 {
		t.Fatalf("LastAudit of none: %+v, %v", r, err)
	}
	t0 := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	for i := range 3 {
		if _, err := s.AppendAudit(ctx, steward.AuditRecord{Time: t0.Add(time.Duration(i) * time.Hour), Principal: "p", Action: "a", Target: "t", Outcome: "ok"}); err != nil {
			t.Fatal(err)
		}
	}
	list, err := s.Audit(ctx, t0.Add(time.Hour), 0)
	if err != nil || len(list) != 2 || list[0].Seq != 3 || list[1].Seq != 2 {
		t.Errorf("Audit since +1h = %+v, %v; want 3 and 2", list, err)
	}
	if r, _ := s.LastAudit(ctx); r.Seq != 3 || r.Hash == "" {
		t.Errorf("LastAudit = %+v", r)
	}
}
