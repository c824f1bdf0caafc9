-- 0006: every exit of a service, for `steward why` and GET
-- /v1/services/{name}/exits. Times are INTEGER Unix nanoseconds (UTC).

-- One row per ended run: how it ended (exit_code NULL after a signal,
-- signal named as "SIGKILL"), whether the kernel's OOM killer did it
-- ('yes', 'no', 'unknown' with how steward knows), the tree's peak RSS and
-- CPU time as last sampled, its last lines of output (a JSON array of
-- strings), the failing probe and the supervisor's reason.
CREATE TABLE exits (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	service     TEXT    NOT NULL,
	pid         INTEGER NOT NULL,
	started     INTEGER NOT NULL,
	ended       INTEGER NOT NULL,
	exit_code   INTEGER,
	signal      TEXT    NOT NULL DEFAULT '',
	status      TEXT    NOT NULL,
	oom         TEXT    NOT NULL,
	oom_detail  TEXT    NOT NULL DEFAULT '',
	peak_rss    INTEGER NOT NULL DEFAULT 0,
	cpu_seconds REAL    NOT NULL DEFAULT 0,
	last_lines  TEXT    NOT NULL DEFAULT '[]',
	probe       TEXT    NOT NULL DEFAULT '',
	reason      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX exits_service ON exits (service, id);
