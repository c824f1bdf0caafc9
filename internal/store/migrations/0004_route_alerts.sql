-- 0004: what the alert router notified, per route and alert.
-- Times are INTEGER Unix nanoseconds (UTC).

-- One row per route and alert (by fingerprint) whose firing the route
-- enqueued for its notifiers, with the alert as it was last notified (a
-- JSON notify.Alert) and when. The row goes when the route enqueues the
-- alert's resolution. After a restart the router takes these alerts as
-- notified: one still firing is not notified again, its resolution is, and
-- the route's repeats keep their schedule.
CREATE TABLE route_alerts (
	route       TEXT    NOT NULL,
	fingerprint TEXT    NOT NULL,
	alert       BLOB    NOT NULL,
	notified    INTEGER NOT NULL,
	PRIMARY KEY (route, fingerprint)
) WITHOUT ROWID;
