package steward

import "time"

// Roles, additive: an operator may do what a viewer may, an admin what an
// operator may.
const (
	RoleViewer   = "viewer"   // reads
	RoleOperator = "operator" // start, stop, restart, ack, silence, run jobs
	RoleAdmin    = "admin"    // config, tokens, audit, OS services
)

// Principal is who makes a request: the caller named by its socket peer
// credentials, by its token, by a dashboard session, or forwarded by a
// fleet node.
type Principal struct {
	// Who names the caller: "uid:1000:alice", "token:deploy",
	// "token:bootstrap".
	Who  string `json:"who"`
	Role string `json:"role"`
	// Tenant scopes what the principal sees and acts on; "" is every
	// tenant.
	Tenant string `json:"tenant,omitempty"`
	// Via is how the request came: "socket", "tcp:HOST" (a bearer token
	// from the TCP peer HOST), "web:HOST" (a dashboard session) or
	// "node:NAME".
	Via string `json:"via"`
}

// String is the principal as audit records and events name it:
// "token:deploy (operator, tenant shop, via tcp:10.0.0.5)".
func (p Principal) String() string {
	s := p.Who + " (" + p.Role
	if p.Tenant != "" {
		s += ", tenant " + p.Tenant
	}
	return s + ", via " + p.Via + ")"
}

// Token is what is known of an API token, never its secret: the items of
// GET /v1/tokens.
type Token struct {
	Name string `json:"name"`
	// Accessor identifies the token without granting anything: the part
	// of the secret after its prefix that `token list` shows.
	Accessor string    `json:"accessor"`
	Role     string    `json:"role"`
	Tenant   string    `json:"tenant,omitempty"`
	Created  time.Time `json:"created"`
	Expires  time.Time `json:"expires,omitzero"`
	Revoked  time.Time `json:"revoked,omitzero"`
}

// NewToken is the answer to POST /v1/tokens: the token and its secret,
// shown this once.
type NewToken struct {
	Token
	Secret string `json:"secret"`
}

// TokenRequest is the body of POST /v1/tokens.
type TokenRequest struct {
	Name   string `json:"name"`
	Role   string `json:"role"`
	Tenant string `json:"tenant,omitempty"`
	// Expires is a duration from now ("720h"); "" never expires.
	Expires string `json:"expires,omitempty"`
}

// AuditRecord is one entry of the audit log: the items of GET /v1/audit.
type AuditRecord struct {
	Seq       int64     `json:"seq"`
	Time      time.Time `json:"time"`
	Principal string    `json:"principal"`
	Action    string    `json:"action"`
	Target    string    `json:"target"`
	Outcome   string    `json:"outcome"`
	// Hash chains the record to the one before it (hex SHA-256).
	Hash string `json:"hash"`
}

// AuditCheckpoint is the answer of POST /v1/audit/checkpoint: a signed
// statement, appended to File, that the audit log held Seq records, the
// last with hash Hash.
type AuditCheckpoint struct {
	Seq  int64     `json:"seq"`
	Hash string    `json:"hash"`
	Time time.Time `json:"time"`
	File string    `json:"file"`
	// Signature is the checkpoint's Ed25519 signature, in hex; KeyID
	// names the key that made it.
	Signature string `json:"signature"`
	KeyID     string `json:"key_id"`
}

// AuditVerification is the answer of POST /v1/audit/verify.
type AuditVerification struct {
	OK      bool  `json:"ok"`
	Records int64 `json:"records"`
	// Checkpoint is the sequence number of the latest signed checkpoint
	// checked against; 0 when there is none.
	Checkpoint int64 `json:"checkpoint"`
	// FirstBad is the sequence number of the first record that fails.
	FirstBad int64 `json:"first_bad,omitempty"`
	// Problem says what is wrong, in words.
	Problem string `json:"problem,omitempty"`
}
