-- 0005: runs of jobs, and the last scheduled time of each job.
-- Times are INTEGER Unix nanoseconds (UTC), 0 for none.

-- One row per run, written (queued or running) before the run's side
-- effect and updated as it goes. output is what the run wrote, bounded
-- (a command's last 64 KiB).
CREATE TABLE runs (
	id        INTEGER PRIMARY KEY,
	kind      TEXT    NOT NULL,
	name      TEXT    NOT NULL,
	status    TEXT    NOT NULL,
	trigger   TEXT    NOT NULL,
	scheduled INTEGER NOT NULL DEFAULT 0,
	created   INTEGER NOT NULL,
	started   INTEGER NOT NULL DEFAULT 0,
	ended     INTEGER NOT NULL DEFAULT 0,
	exit_code INTEGER,
	attempt   INTEGER NOT NULL DEFAULT 1,
	error     TEXT    NOT NULL DEFAULT '',
	output    BLOB,
	truncated INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_name ON runs (name, id);

-- The last scheduled time each job has taken (run, skipped or let pass),
-- from which a steward that was down finds the runs it missed.
CREATE TABLE job_marks (
	name      TEXT    PRIMARY KEY,
	scheduled INTEGER NOT NULL
) WITHOUT ROWID;
