package api_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/auth"
	"github.com/stewardhq/steward/internal/client"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/testwait"
)

// TestEveryRouteNamesAnAction: the authorizer decides on every route, so a
// route whose action it does not know, or a change that reads with an
// action meant for reading, fails here.
func TestEveryRouteNamesAnAction(t *testing.T) {
	for route, action := range api.RouteActions(newFixture(t).server) {
		if !auth.Known(action) {
			t.Errorf("%s: action %q is not one the authorizer knows", route, action)
			continue
		}
		method, _, _ := strings.Cut(route, " ")
		read := method == "GET" || method == "HEAD"
		// A fleet route carries a request the target authorizes against
		// its own route, whatever the method.
		if !read && !auth.Mutates(action) && route != "POST /v1/config/validate" && action != auth.ActionFleet {
			t.Errorf("%s changes something but names the action %q, which is not audited", route, action)
		}
		if read && auth.Mutates(action) {
			t.Errorf("%s reads but names the action %q, which needs more than reading", route, action)
		}
	}
}

// withAuth gives a fixture's server tokens and an audit log over a real
// store, and returns them.
func withAuth(t *testing.T) (*auth.Tokens, *auth.Log, func(*api.Options)) {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(context.Background(), filepath.Join(dir, "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	signer, err := auth.LoadOrCreateSigner(filepath.Join(dir, "audit.key"))
	if err != nil {
		t.Fatal(err)
	}
	tokens := &auth.Tokens{Store: st}
	log := &auth.Log{Store: st, Signer: signer, Path: filepath.Join(dir, "audit.chk")}
	return tokens, log, func(o *api.Options) { o.Tokens, o.Audit = tokens, log }
}

// TestUnknownActionRefused: a route whose action the authorizer does not
// know is refused with a 403 before its handler runs, for every caller.
func TestUnknownActionRefused(t *testing.T) {
	f := newFixture(t)
	ran := false
	h := api.Endpoint(f.server, auth.Action("launch-missiles"), func(w http.ResponseWriter, r *http.Request) error {
		ran = true
		return nil
	})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/v1/test", nil))
	if w.Code != http.StatusForbidden || ran || !strings.Contains(w.Body.String(), "launch-missiles") {
		t.Errorf("unknown action: %d %s, handler ran %v; want 403 naming it, handler not run", w.Code, w.Body, ran)
	}
}

func TestTokenRoutes(t *testing.T) {
	tokens, log, opt := withAuth(t)
	f := newFixture(t, opt)
	ctx := context.Background()
	created, err := f.client.CreateToken(ctx, steward.TokenRequest{Name: "deploy", Role: steward.RoleOperator, Expires: "1h"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := auth.ParseToken(created.Secret); err != nil || created.Role != steward.RoleOperator || created.Expires.IsZero() {
		t.Errorf("created = %+v, %v", created, err)
	}
	if p, err := tokens.Authenticate(ctx, created.Secret); err != nil || p.Role != steward.RoleOperator || p.Who != "token:deploy" {
		t.Errorf("Authenticate(new secret) = %+v, %v", p, err)
	}
	for _, req := range []steward.TokenRequest{
		{Name: "x", Role: "root"},
		{Name: "bad name", Role: steward.RoleViewer},
		{Name: "y", Role: steward.RoleViewer, Expires: "soon"},
		{Name: "z", Role: steward.RoleViewer, Tenant: "acme"},
	} {
		_, err := f.client.CreateToken(ctx, req)
		wantCode(t, err, steward.EINVALID)
	}
	_, err = f.client.CreateToken(ctx, steward.TokenRequest{Name: "deploy", Role: steward.RoleViewer})
	wantCode(t, err, steward.ECONFLICT)

	status, _, body := f.do(t, "GET", "/v1/tokens", nil)
	secretPart := created.Secret[len(auth.TokenPrefix)+10:]
	if status != 200 || !strings.Contains(string(body), created.Accessor) || strings.Contains(string(body), secretPart) ||
		strings.Contains(string(body), auth.HashToken(created.Secret)) || strings.Contains(string(body), "secret") {
		t.Errorf("GET /v1/tokens = %d %s: want the accessor, never the secret or its hash", status, body)
	}
	revoked, err := f.client.RevokeToken(ctx, created.Accessor)
	if err != nil || revoked.Revoked.IsZero() {
		t.Fatalf("RevokeToken = %+v, %v", revoked, err)
	}
	if _, err := tokens.Authenticate(ctx, created.Secret); err == nil {
		t.Error("a revoked token still authenticates")
	}
	_, err = f.client.RevokeToken(ctx, created.Accessor)
	wantCode(t, err, steward.ECONFLICT)
	_, err = f.client.RevokeToken(ctx, "nosuch")
	wantCode(t, err, steward.ENOTFOUND)

	// Every change is in the audit log, the refused ones too, and never
	// the secret.
	recs, err := f.client.Audit(ctx, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var outcomes []string
	for _, r := range slices.Backward(recs) {
		if r.Action != string(auth.ActionTokens) || !strings.Contains(r.Principal, "via socket") {
			t.Errorf("record %+v: want the tokens action by the socket's caller", r)
		}
		if strings.Contains(r.Target+r.Outcome+r.Principal, secretPart) {
			t.Errorf("record %+v holds the secret", r)
		}
		outcomes = append(outcomes, r.Outcome)
	}
	want := []string{"attempt", "ok"}
	for range 4 {
		want = append(want, "attempt", "failed: 400 invalid")
	}
	want = append(want, "attempt", "failed: 409 conflict", "attempt", "ok", "attempt", "failed: 409 conflict", "attempt", "failed: 404 not_found")
	if !slices.Equal(outcomes, want) {
		t.Errorf("outcomes = %q\nwant %q", outcomes, want)
	}
	if v, err := log.Verify(ctx); err != nil || !v.OK {
		t.Errorf("Verify = %+v, %v", v, err)
	}
}

func TestAuthRoutesDisabled(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.client.Tokens(ctx)
	wantCode(t, err, steward.EUNAVAILABLE)
	_, err = f.client.CreateToken(ctx, steward.TokenRequest{Name: "a", Role: steward.RoleAdmin})
	wantCode(t, err, steward.EUNAVAILABLE)
	_, err = f.client.RevokeToken(ctx, "a")
	wantCode(t, err, steward.EUNAVAILABLE)
	_, err = f.client.Audit(ctx, time.Time{}, 0)
	wantCode(t, err, steward.EUNAVAILABLE)
	_, err = f.client.VerifyAudit(ctx)
	wantCode(t, err, steward.EUNAVAILABLE)
	_, err = f.client.CheckpointAudit(ctx)
	wantCode(t, err, steward.EUNAVAILABLE)
}

func TestAuditRoutes(t *testing.T) {
	_, _, opt := withAuth(t)
	f := newFixture(t, opt)
	ctx := context.Background()
	if _, err := f.client.Stop(ctx, "web"); err != nil {
		t.Fatal(err)
	}
	cp, err := f.client.CheckpointAudit(ctx)
	if err != nil || cp.Seq != 3 || cp.File == "" { // stop: attempt, ok; checkpoint: attempt, then signed
		t.Fatalf("CheckpointAudit = %+v, %v", cp, err)
	}
	v, err := f.client.VerifyAudit(ctx)
	if err != nil || !v.OK || v.Checkpoint != 3 || v.Records != 5 {
		t.Errorf("VerifyAudit = %+v, %v; want ok, 5 records, checkpoint 3", v, err)
	}
	recs, err := f.client.Audit(ctx, time.Time{}, 2)
	if err != nil || len(recs) != 2 || recs[0].Seq != 6 || recs[0].Outcome != "ok" || recs[0].Action != string(auth.ActionAudit) {
		t.Errorf("Audit(limit 2) = %+v, %v", recs, err)
	}
	recs, err = f.client.Audit(ctx, time.Now().Add(time.Hour), 0)
	if err != nil || len(recs) != 0 {
		t.Errorf("Audit(since later) = %+v, %v; want none", recs, err)
	}
	status, _, body := f.do(t, "GET", "/v1/audit?since=yesterday", nil)
	if status != 400 {
		t.Errorf("since=yesterday: %d %s", status, body)
	}
	status, _, body = f.do(t, "GET", "/v1/audit?limit=-1", nil)
	if status != 400 {
		t.Errorf("limit=-1: %d %s", status, body)
	}
}

// failingAudit is an audit log that cannot be written.
type failingAudit struct{ api.AuditLog }

func (failingAudit) Append(context.Context, steward.AuditRecord) (steward.AuditRecord, error) {
	return steward.AuditRecord{}, errors.New("disk full")
}

// TestAuditFailureChangesNothing: when the attempt cannot be recorded, the
// change is refused with a 503 and does not happen; reads still work.
func TestAuditFailureChangesNothing(t *testing.T) {
	f := newFixture(t, func(o *api.Options) { o.Audit = failingAudit{} })
	ctx := context.Background()
	_, err := f.client.Stop(ctx, "web")
	wantCode(t, err, steward.EUNAVAILABLE)
	if st, _ := f.services.Get("web"); st.State != steward.StateRunning {
		t.Errorf("web is %s after a change that could not be audited, want running", st.State)
	}
	if _, err := f.client.Services(ctx); err != nil {
		t.Errorf("a read with a broken audit log: %v", err)
	}
	if log := f.serverLog(); !strings.Contains(log, "write audit record") || !strings.Contains(log, "disk full") {
		t.Errorf("server log = %q, want the audit failure", log)
	}
}

// TestRevokeEndsStreams: a token's streams end as soon as it is revoked.
func TestRevokeEndsStreams(t *testing.T) {
	tf := newTCPFixture(t)
	tok := tf.create(t, "follower", steward.RoleViewer)
	c := client.New(tf.url, client.WithToken(tok.Secret))
	defer c.Close()
	lg := tf.services.LogOf("db")
	done := make(chan error, 1)
	go func() {
		done <- c.FollowLogs(context.Background(), "db", 0, true, func(steward.LogLine) error { return nil })
	}()
	testwait.For(t, 5*time.Second, "the stream", func() bool { return lg.Subscribers() == 1 })
	if n := api.Streams(tf.server, tok.Accessor); n != 1 {
		t.Fatalf("streams of the token = %d, want 1", n)
	}
	if _, err := tf.tokens.Revoke(context.Background(), tok.Accessor); err != nil {
		t.Fatal(err)
	}
	tf.server.RevokeToken(tok.Accessor)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the stream of a revoked token goes on")
	}
	testwait.For(t, 5*time.Second, "the subscription to end", func() bool { return lg.Subscribers() == 0 })
	testwait.For(t, 5*time.Second, "the stream to be forgotten", func() bool { return api.Streams(tf.server, tok.Accessor) == 0 })
	_, err := c.Services(context.Background())
	wantCode(t, err, steward.EUNAUTHORIZED)
}
