package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"time"

	"github.com/stewardhq/steward"
)

// ErrBadToken is a bearer token that grants nothing: malformed, unknown,
// wrong, expired or revoked. Which of these it is is not told.
var ErrBadToken = steward.Errorf(steward.EUNAUTHORIZED, "missing or invalid bearer token")

// TokenStore keeps the tokens (internal/store).
type TokenStore interface {
	CreateToken(ctx context.Context, t steward.Token, hash string) error
	Tokens(ctx context.Context) ([]steward.Token, error)
	TokenByAccessor(ctx context.Context, accessor string) (steward.Token, string, error)
	RevokeToken(ctx context.Context, name string, now time.Time) (steward.Token, error)
}

// Tokens authenticates bearer tokens and creates, lists and revokes them.
// Bootstrap, when set, is the secret of the token file in the data dir,
// which is an admin's token ("token:bootstrap"). It is safe for
// concurrent use.
type Tokens struct {
	Store     TokenStore
	Bootstrap string
	// Now is the clock of expiry; nil means time.Now.
	Now func() time.Time
}

func (t *Tokens) now() time.Time {
	if t.Now == nil {
		return time.Now()
	}
	return t.Now()
}

// WithBootstrap returns a copy of t that also accepts secret as the
// bootstrap token.
func (t *Tokens) WithBootstrap(secret string) *Tokens {
	c := *t
	c.Bootstrap = secret
	return &c
}

// Authenticate returns the principal of the bearer token secret, without
// its Via; ErrBadToken when it grants nothing.
func (t *Tokens) Authenticate(ctx context.Context, secret string) (steward.Principal, error) {
	if t.Bootstrap != "" && equalSecret(secret, t.Bootstrap) {
		return steward.Principal{Who: "token:bootstrap", Role: steward.RoleAdmin}, nil
	}
	accessor, err := ParseToken(secret)
	if err != nil {
		return steward.Principal{}, ErrBadToken
	}
	tok, hash, err := t.Store.TokenByAccessor(ctx, accessor)
	if steward.ErrorCode(err) == steward.ENOTFOUND {
		return steward.Principal{}, ErrBadToken
	}
	if err != nil {
		return steward.Principal{}, err
	}
	now := t.now()
	if !equalSecret(HashToken(secret), hash) || !tok.Revoked.IsZero() || !tok.Expires.IsZero() && !now.Before(tok.Expires) {
		return steward.Principal{}, ErrBadToken
	}
	return steward.Principal{Who: "token:" + tok.Name, Role: tok.Role, Tenant: tok.Tenant}, nil
}

// equalSecret reports whether a is b, in time that depends on neither.
func equalSecret(a, b string) bool {
	x, y := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(x[:], y[:]) == 1
}

// Create makes the token req asks for and returns it with its secret,
// which nothing keeps.
func (t *Tokens) Create(ctx context.Context, req steward.TokenRequest) (steward.NewToken, error) {
	if err := validName(req.Name); err != nil {
		return steward.NewToken{}, err
	}
	if !ValidRole(req.Role) {
		return steward.NewToken{}, steward.Errorf(steward.EINVALID, "role %q is not one of viewer, operator, admin", req.Role)
	}
	if req.Tenant != "" {
		// Tenants are not enforced yet: a token scoped to one would see
		// every tenant's objects.
		return steward.NewToken{}, steward.Errorf(steward.EINVALID, "tenant-scoped tokens are not supported yet: this steward has no tenants")
	}
	now := t.now().UTC()
	tok := steward.Token{Name: req.Name, Role: req.Role, Tenant: req.Tenant, Created: now}
	if req.Expires != "" {
		d, err := time.ParseDuration(req.Expires)
		if err != nil || d <= 0 {
			return steward.NewToken{}, steward.Errorf(steward.EINVALID, "expires %q is not a positive duration such as 720h", req.Expires)
		}
		tok.Expires = now.Add(d)
	}
	secret, accessor := NewSecret()
	tok.Accessor = accessor
	if err := t.Store.CreateToken(ctx, tok, HashToken(secret)); err != nil {
		return steward.NewToken{}, err
	}
	return steward.NewToken{Token: tok, Secret: secret}, nil
}

// validName checks the name of a new token: 1 to 64 letters, digits, '-',
// '_' and '.'.
func validName(name string) error {
	ok := name != "" && len(name) <= 64
	for i := 0; ok && i < len(name); i++ {
		c := name[i]
		ok = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.'
	}
	if !ok {
		return steward.Errorf(steward.EINVALID, "token name %q must be 1 to 64 letters, digits, '-', '_' or '.'", name)
	}
	return nil
}

// List returns every token, never a secret.
func (t *Tokens) List(ctx context.Context) ([]steward.Token, error) { return t.Store.Tokens(ctx) }

// Revoke revokes the token named name, or with that accessor, at once.
func (t *Tokens) Revoke(ctx context.Context, name string) (steward.Token, error) {
	return t.Store.RevokeToken(ctx, name, t.now())
}
