-- 0008: the steps of workflow runs, and what each workflow run was
-- started with. Times are INTEGER Unix nanoseconds (UTC), 0 for none.

-- One row per step of a workflow run, written (queued) with the run and
-- updated before the step's side effect (running, with its attempt) and
-- after it. outputs is the step's outputs as a JSON object; output what
-- it wrote, bounded.
CREATE TABLE steps (
	run_id    INTEGER NOT NULL,
	name      TEXT    NOT NULL,
	seq       INTEGER NOT NULL,
	status    TEXT    NOT NULL,
	attempt   INTEGER NOT NULL DEFAULT 0,
	started   INTEGER NOT NULL DEFAULT 0,
	ended     INTEGER NOT NULL DEFAULT 0,
	exit_code INTEGER,
	error     TEXT    NOT NULL DEFAULT '',
	outputs   TEXT    NOT NULL DEFAULT '',
	output    BLOB,
	truncated INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (run_id, name)
) WITHOUT ROWID;

-- The trigger and inputs a workflow run was started with (JSON), from
-- which a steward that died resumes it.
CREATE TABLE run_params (
	run_id INTEGER PRIMARY KEY,
	params TEXT    NOT NULL
);

CREATE TRIGGER runs_delete_steps AFTER DELETE ON runs BEGIN
	DELETE FROM steps WHERE run_id = old.id;
	DELETE FROM run_params WHERE run_id = old.id;
END;
