-- 0001: events, config versions and meta.
-- Times are INTEGER Unix nanoseconds (UTC).

-- An event's id is one more than the greatest stored; PruneEvents always
-- keeps the newest event, so an id is never reused and a client's
-- Last-Event-ID cursor stays valid (without AUTOINCREMENT, whose extra page
-- write per insert is measurable on the restart path).
CREATE TABLE events (
	id         INTEGER PRIMARY KEY,
	time       INTEGER NOT NULL,
	type       TEXT    NOT NULL,
	service    TEXT    NOT NULL DEFAULT '',
	from_state TEXT    NOT NULL DEFAULT '',
	to_state   TEXT    NOT NULL DEFAULT '',
	pid        INTEGER NOT NULL DEFAULT 0,
	reason     TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX events_time ON events (time);
CREATE INDEX events_service_id ON events (service, id);

CREATE TABLE config_versions (
	n      INTEGER PRIMARY KEY,
	time   INTEGER NOT NULL,
	hash   TEXT    NOT NULL,
	source TEXT    NOT NULL DEFAULT '',
	file   TEXT    NOT NULL DEFAULT '',
	text   BLOB    NOT NULL
);

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;
