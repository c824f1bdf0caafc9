-- 0003: the notification outbox and the read offsets of watched log files.
-- Times are INTEGER Unix nanoseconds (UTC).

-- One row per notification to one notifier, written before the first
-- attempt to deliver it. state is 'pending', 'delivered' or 'failed'.
-- since is when the current run of attempts began (created, or the time of
-- a manual retry): the outbox gives up when it is older than its max age.
CREATE TABLE outbox (
	id           INTEGER PRIMARY KEY,
	key          TEXT    NOT NULL UNIQUE,
	notifier     TEXT    NOT NULL,
	body         BLOB    NOT NULL,
	state        TEXT    NOT NULL DEFAULT 'pending',
	created      INTEGER NOT NULL,
	since        INTEGER NOT NULL,
	attempts     INTEGER NOT NULL DEFAULT 0,
	next_attempt INTEGER NOT NULL,
	last_attempt INTEGER NOT NULL DEFAULT 0,
	last_error   TEXT    NOT NULL DEFAULT '',
	done         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX outbox_due ON outbox (state, next_attempt);

-- Where a log watch stopped reading each file, by the file's identity
-- (device and inode; volume serial and file index on Windows), not its
-- name. head_hash is the SHA-256 of the file's first head_len bytes: a
-- reused identity whose first bytes differ is another file.
CREATE TABLE log_offsets (
	watch     TEXT    NOT NULL,
	identity  TEXT    NOT NULL,
	path      TEXT    NOT NULL DEFAULT '',
	offset    INTEGER NOT NULL,
	head_len  INTEGER NOT NULL DEFAULT 0,
	head_hash TEXT    NOT NULL DEFAULT '',
	updated   INTEGER NOT NULL,
	PRIMARY KEY (watch, identity)
) WITHOUT ROWID;
