-- 0007: API tokens and the audit log. Times are INTEGER Unix nanoseconds
-- (UTC); 0 is none.

-- A token is kept as the SHA-256 of its secret, never the secret; the
-- accessor (part of the secret that grants nothing) finds it.
CREATE TABLE tokens (
	accessor TEXT    PRIMARY KEY,
	name     TEXT    NOT NULL UNIQUE,
	hash     TEXT    NOT NULL,
	role     TEXT    NOT NULL,
	tenant   TEXT    NOT NULL DEFAULT '',
	created  INTEGER NOT NULL,
	expires  INTEGER NOT NULL DEFAULT 0,
	revoked  INTEGER NOT NULL DEFAULT 0
);

-- The audit log: one row per mutating action, hash-chained in seq order
-- (internal/auth). Rows are only ever appended.
CREATE TABLE audit (
	seq       INTEGER PRIMARY KEY,
	time      INTEGER NOT NULL,
	principal TEXT    NOT NULL,
	action    TEXT    NOT NULL,
	target    TEXT    NOT NULL,
	outcome   TEXT    NOT NULL,
	hash      TEXT    NOT NULL
);
