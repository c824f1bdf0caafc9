package client

import (
	"context"
	"net/url"
	"strconv"
	"time"

	"github.com/stewardhq/steward"
)

// CreateToken creates the token req asks for and returns it with its
// secret, which the API shows this once.
func (c *Client) CreateToken(ctx context.Context, req steward.TokenRequest) (steward.NewToken, error) {
	rq, err := jsonRequest("POST", "/v1/tokens", req)
	if err != nil {
		return steward.NewToken{}, err
	}
	var out steward.NewToken
	err = c.call(ctx, rq, &out)
	return out, err
}

// Tokens returns every token, never a secret.
func (c *Client) Tokens(ctx context.Context) ([]steward.Token, error) {
	var out []steward.Token
	err := c.call(ctx, request{method: "GET", path: "/v1/tokens"}, &out)
	return out, err
}

// RevokeToken revokes the token with accessor (or that name) at once.
func (c *Client) RevokeToken(ctx context.Context, accessor string) (steward.Token, error) {
	var out steward.Token
	err := c.call(ctx, request{method: "DELETE", path: "/v1/tokens/" + url.PathEscape(accessor)}, &out)
	return out, err
}

// Audit returns the audit records at or after since (all when zero),
// newest first, at most limit (0: the API's default).
func (c *Client) Audit(ctx context.Context, since time.Time, limit int) ([]steward.AuditRecord, error) {
	q := url.Values{}
	if !since.IsZero() {
		q.Set("since", since.UTC().Format(time.RFC3339Nano))
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out []steward.AuditRecord
	err := c.call(ctx, request{method: "GET", path: "/v1/audit", query: q}, &out)
	return out, err
}

// VerifyAudit checks the audit log's chain and its tail against the
// latest checkpoint.
func (c *Client) VerifyAudit(ctx context.Context) (steward.AuditVerification, error) {
	var out steward.AuditVerification
	err := c.call(ctx, request{method: "POST", path: "/v1/audit/verify"}, &out)
	return out, err
}

// CheckpointAudit signs a checkpoint of the audit log as it is.
func (c *Client) CheckpointAudit(ctx context.Context) (steward.AuditCheckpoint, error) {
	var out steward.AuditCheckpoint
	err := c.call(ctx, request{method: "POST", path: "/v1/audit/checkpoint"}, &out)
	return out, err
}
