-- 0002: alerts, their transitions, silences, and the metrics history.
-- Times are INTEGER Unix nanoseconds (UTC), except metric times, which are
-- Unix milliseconds.

CREATE TABLE alerts (
	id          INTEGER PRIMARY KEY,
	rule        TEXT    NOT NULL,
	subject     TEXT    NOT NULL DEFAULT '',
	severity    TEXT    NOT NULL,
	state       TEXT    NOT NULL,
	message     TEXT    NOT NULL DEFAULT '',
	started     INTEGER NOT NULL,
	fired       INTEGER NOT NULL DEFAULT 0,
	resolved    INTEGER NOT NULL DEFAULT 0,
	updated     INTEGER NOT NULL,
	flapping    INTEGER NOT NULL DEFAULT 0,
	reminders   INTEGER NOT NULL DEFAULT 0,
	acked_by    TEXT    NOT NULL DEFAULT '',
	acked_at    INTEGER NOT NULL DEFAULT 0,
	ack_comment TEXT    NOT NULL DEFAULT ''
);
-- At most one open alert per identity.
CREATE UNIQUE INDEX alerts_open_identity ON alerts (rule, subject) WHERE state != 'resolved';
CREATE INDEX alerts_resolved ON alerts (resolved);

CREATE TABLE alert_transitions (
	id         INTEGER PRIMARY KEY,
	alert      INTEGER NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
	time       INTEGER NOT NULL,
	from_state TEXT    NOT NULL DEFAULT '',
	to_state   TEXT    NOT NULL,
	message    TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX alert_transitions_alert ON alert_transitions (alert, id);

CREATE TABLE silences (
	id       INTEGER PRIMARY KEY,
	matchers TEXT    NOT NULL, -- JSON object: label → glob
	starts   INTEGER NOT NULL,
	ends     INTEGER NOT NULL,
	by       TEXT    NOT NULL DEFAULT '',
	comment  TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX silences_ends ON silences (ends);

-- A series is a metric name with its labels (a JSON object, keys sorted).
CREATE TABLE metric_series (
	id     INTEGER PRIMARY KEY,
	name   TEXT NOT NULL,
	labels TEXT NOT NULL DEFAULT '{}',
	UNIQUE (name, labels)
);

-- Raw samples, and 1-minute and 1-hour aggregates keyed by the start of
-- their interval.
CREATE TABLE metric_raw (
	series INTEGER NOT NULL,
	time   INTEGER NOT NULL,
	value  REAL    NOT NULL,
	PRIMARY KEY (series, time)
) WITHOUT ROWID;

CREATE TABLE metric_1m (
	series INTEGER NOT NULL,
	time   INTEGER NOT NULL,
	sum    REAL    NOT NULL,
	count  INTEGER NOT NULL,
	min    REAL    NOT NULL,
	max    REAL    NOT NULL,
	PRIMARY KEY (series, time)
) WITHOUT ROWID;

CREATE TABLE metric_1h (
	series INTEGER NOT NULL,
	time   INTEGER NOT NULL,
	sum    REAL    NOT NULL,
	count  INTEGER NOT NULL,
	min    REAL    NOT NULL,
	max    REAL    NOT NULL,
	PRIMARY KEY (series, time)
) WITHOUT ROWID;
