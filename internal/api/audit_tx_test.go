package api_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/auth"
	"github.com/stewardhq/steward/internal/store"
)

// TestAuditRecordInTheChangesTransaction: a token made through the API is
// stored with its "ok" record in one transaction: when the database
// refuses that record, the request fails and there is no token; else
// there is one "ok" record, not two.
func TestAuditRecordInTheChangesTransaction(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "steward.db")
	st, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	signer, err := auth.LoadOrCreateSigner(filepath.Join(dir, "audit.key"))
	if err != nil {
		t.Fatal(err)
	}
	log := &auth.Log{Store: st, Signer: signer, Path: filepath.Join(dir, "audit.chk")}
	f := newFixture(t, func(o *api.Options) { o.Tokens, o.Audit = &auth.Tokens{Store: st}, log })
	// Behind steward's back, the database refuses a token's "ok" record.
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TRIGGER refuse BEFORE INSERT ON audit WHEN NEW.outcome = 'ok' BEGIN SELECT RAISE(ABORT, 'refused'); END`); err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.CreateToken(ctx, steward.TokenRequest{Name: "deploy", Role: steward.RoleViewer}); err == nil {
		t.Error("a token whose audit record is refused was made")
	}
	if list, err := f.client.Tokens(ctx); err != nil || len(list) != 0 {
		t.Errorf("tokens after the refusal: %+v, %v; want none", list, err)
	}
	if _, err := db.Exec(`DROP TRIGGER refuse`); err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.CreateToken(ctx, steward.TokenRequest{Name: "deploy", Role: steward.RoleViewer}); err != nil {
		t.Fatal(err)
	}
	recs, err := log.Records(ctx, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var outcomes []string
	for _, r := range slices.Backward(recs) {
		outcomes = append(outcomes, r.Outcome)
	}
	if want := []string{"attempt", "failed: 500 internal", "attempt", "ok"}; !slices.Equal(outcomes, want) {
		t.Errorf("outcomes %q, want %q", outcomes, want)
	}
	if v, err := log.Verify(ctx); err != nil || !v.OK {
		t.Errorf("verify: %+v, %v", v, err)
	}
}
