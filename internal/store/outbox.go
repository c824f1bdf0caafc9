package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stewardhq/steward"

	sqlite3 "modernc.org/sqlite/lib"
)

// Notification states.
const (
	NotificationPending   = "pending"   // waiting for its next attempt
	NotificationDelivered = "delivered" // a notifier accepted it
	NotificationFailed    = "failed"    // given up on; can be retried by hand
)

// DefaultNotificationLimit is how many notifications Notifications returns
// when the filter sets no Limit.
const DefaultNotificationLimit = 1000

// Notification is one message queued for one notifier in the outbox.
type Notification struct {
	ID       int64
	Key      string // unique, stable across attempts: the idempotency key
	Notifier string // name of the notifier it is for
	Body     []byte // the message, as its owner encoded it
	State    string // NotificationPending, NotificationDelivered or NotificationFailed
	Created  time.Time
	// Since is when the current run of attempts began: Created, or the time
	// of the last RetryNotification.
	Since       time.Time
	Attempts    int       // attempts since Since
	NextAttempt time.Time // when a pending notification is due
	LastAttempt time.Time // zero before the first attempt
	LastError   string    // why the last attempt failed, or why it was given up
	Done        time.Time // when it was delivered or given up; zero while pending
}

const notificationColumns = `SELECT id, key, notifier, body, state, created, since, attempts,
	next_attempt, last_attempt, last_error, done FROM outbox`

// AddNotification stores n as pending and sets its ID. A zero n.Created is
// set to the current time; a zero NextAttempt to Created, so that it is due
// at once. Adding a Key that is already stored is an error with code
// steward.ECONFLICT.
func (s *Store) AddNotification(ctx context.Context, n *Notification) error {
	switch {
	case n.Key == "":
		return fmt.Errorf("add notification: %w", steward.Errorf(steward.EINVALID, "notification key is empty"))
	case n.Notifier == "":
		return fmt.Errorf("add notification: %w", steward.Errorf(steward.EINVALID, "notification has no notifier"))
	}
	if n.Created.IsZero() {
		n.Created = time.Now().UTC()
	}
	if n.NextAttempt.IsZero() {
		n.NextAttempt = n.Created
	}
	body := n.Body
	if body == nil {
		body = []byte{}
	}
	res, err := s.w.ExecContext(ctx, `INSERT INTO outbox (key, notifier, body, state, created, since, next_attempt)
VALUES (?, ?, ?, ?, ?, ?, ?)`, n.Key, n.Notifier, body, NotificationPending,
		unixNano(n.Created), unixNano(n.Created), unixNano(n.NextAttempt))
	if err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("add notification: %w", steward.Errorf(steward.ECONFLICT, "notification key %q is already stored", n.Key))
		}
		return fmt.Errorf("add notification: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("add notification: %w", err)
	}
	s.wrote()
	n.ID, n.State, n.Since, n.Attempts = id, NotificationPending, n.Created, 0
	return nil
}

// DueNotifications returns up to limit pending notifications whose next
// attempt is at or before now, the earliest due first.
func (s *Store) DueNotifications(ctx context.Context, now time.Time, limit int) ([]Notification, error) {
	ns, err := s.queryNotifications(ctx, notificationColumns+` WHERE state = ? AND next_attempt <= ?
ORDER BY next_attempt, id LIMIT ?`, NotificationPending, unixNano(now), limit)
	if err != nil {
		return nil, fmt.Errorf("list due notifications: %w", err)
	}
	return ns, nil
}

// NextNotificationDue returns when the earliest pending notification is
// due, and false when none is pending.
func (s *Store) NextNotificationDue(ctx context.Context) (time.Time, bool, error) {
	var ns sql.NullInt64
	err := s.r.QueryRowContext(ctx, `SELECT MIN(next_attempt) FROM outbox WHERE state = ?`, NotificationPending).Scan(&ns)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next notification due: %w", err)
	}
	if !ns.Valid {
		return time.Time{}, false, nil
	}
	return time.Unix(0, ns.Int64).UTC(), true, nil
}

// NotificationAttemptFailed records a failed attempt at a pending
// notification: one more attempt, at at, failing with errText, the next one
// due at next.
func (s *Store) NotificationAttemptFailed(ctx context.Context, id int64, at, next time.Time, errText string) error {
	err := s.updatePending(ctx, id, `UPDATE outbox SET attempts = attempts + 1, last_attempt = ?,
	next_attempt = ?, last_error = ? WHERE id = ? AND state = ?`,
		unixNano(at), unixNano(next), errText, id, NotificationPending)
	if err != nil {
		return fmt.Errorf("record notification attempt: %w", err)
	}
	return nil
}

// NotificationDelivered marks a pending notification delivered at at.
func (s *Store) NotificationDelivered(ctx context.Context, id int64, at time.Time) error {
	err := s.updatePending(ctx, id, `UPDATE outbox SET state = ?, attempts = attempts + 1,
	last_attempt = ?, done = ?, last_error = '' WHERE id = ? AND state = ?`,
		NotificationDelivered, unixNano(at), unixNano(at), id, NotificationPending)
	if err != nil {
		return fmt.Errorf("mark notification delivered: %w", err)
	}
	return nil
}

// NotificationGivenUp records the last, failed attempt at a pending
// notification, at at, and marks it failed for reason.
func (s *Store) NotificationGivenUp(ctx context.Context, id int64, at time.Time, reason string) error {
	err := s.updatePending(ctx, id, `UPDATE outbox SET state = ?, attempts = attempts + 1, last_attempt = ?,
	done = ?, last_error = ? WHERE id = ? AND state = ?`,
		NotificationFailed, unixNano(at), unixNano(at), reason, id, NotificationPending)
	if err != nil {
		return fmt.Errorf("give up notification: %w", err)
	}
	return nil
}

// RetryNotification makes a failed notification pending again, due at now,
// with a new run of attempts beginning at now. It returns the notification
// as updated; code steward.ENOTFOUND when there is no such notification and
// steward.ECONFLICT when it is not failed.
func (s *Store) RetryNotification(ctx context.Context, id int64, now time.Time) (Notification, error) {
	n, err := s.retryNotification(ctx, id, now)
	if err != nil {
		return Notification{}, fmt.Errorf("retry notification: %w", err)
	}
	return n, nil
}

// retryNotification updates and reads back in one transaction, so that
// what it returns is the notification as retried, not as a delivery that
// began at once has left it.
func (s *Store) retryNotification(ctx context.Context, id int64, now time.Time) (Notification, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return Notification{}, err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE outbox SET state = ?, since = ?, attempts = 0,
	next_attempt = ?, done = 0 WHERE id = ? AND state = ?`,
		NotificationPending, unixNano(now), unixNano(now), id, NotificationFailed)
	if err != nil {
		return Notification{}, err
	}
	k, err := res.RowsAffected()
	if err != nil {
		return Notification{}, err
	}
	n, err := s.notificationFrom(ctx, tx, id)
	if err != nil {
		return Notification{}, err
	}
	if k == 0 {
		return Notification{}, steward.Errorf(steward.ECONFLICT, "notification %d is %s, not failed", id, n.State)
	}
	if err := tx.Commit(); err != nil {
		return Notification{}, err
	}
	s.wrote()
	return n, nil
}

// Notification returns the notification with the given ID, or an error
// with code steward.ENOTFOUND.
func (s *Store) Notification(ctx context.Context, id int64) (Notification, error) {
	n, err := s.notificationFrom(ctx, s.r, id)
	if err != nil {
		return Notification{}, fmt.Errorf("get notification: %w", err)
	}
	return n, nil
}

func (s *Store) notificationFrom(ctx context.Context, db querier, id int64) (Notification, error) {
	ns, err := queryNotifications(ctx, db, notificationColumns+` WHERE id = ?`, id)
	if err != nil {
		return Notification{}, err
	}
	if len(ns) == 0 {
		return Notification{}, steward.Errorf(steward.ENOTFOUND, "notification %d not found", id)
	}
	return ns[0], nil
}

// NotificationFilter selects notifications for Notifications. Its zero
// value selects the newest DefaultNotificationLimit of any state.
type NotificationFilter struct {
	States   []string // any of these states; none means all
	Notifier string   // "" means all
	Limit    int      // 0 means DefaultNotificationLimit
}

// Notifications returns the notifications f selects, newest first.
func (s *Store) Notifications(ctx context.Context, f NotificationFilter) ([]Notification, error) {
	limit := f.Limit
	switch {
	case limit == 0:
		limit = DefaultNotificationLimit
	case limit < 0:
		return nil, fmt.Errorf("list notifications: %w", steward.Errorf(steward.EINVALID, "notification limit %d is negative", limit))
	}
	var (
		where []string
		args  []any
	)
	if len(f.States) > 0 {
		where = append(where, "state IN (?"+strings.Repeat(", ?", len(f.States)-1)+")")
		for _, st := range f.States {
			args = append(args, st)
		}
	}
	if f.Notifier != "" {
		where = append(where, "notifier = ?")
		args = append(args, f.Notifier)
	}
	q := notificationColumns
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, limit)
	ns, err := s.queryNotifications(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list notifications: %w", err)
	}
	return ns, nil
}

// PruneNotifications deletes the delivered and failed notifications that
// were done before before, and returns how many it deleted. Pending ones
// are never pruned.
func (s *Store) PruneNotifications(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM outbox WHERE state != ? AND done < ?`,
		NotificationPending, unixNano(before))
	if err != nil {
		return 0, fmt.Errorf("prune notifications: %w", err)
	}
	s.wrote()
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("prune notifications: %w", err)
	}
	return n, nil
}

// updatePending runs an update of one pending notification; it fails with
// steward.ENOTFOUND or steward.ECONFLICT when id names no pending one.
func (s *Store) updatePending(ctx context.Context, id int64, q string, args ...any) error {
	res, err := s.w.ExecContext(ctx, q, args...)
	if err != nil {
		return err
	}
	s.wrote()
	k, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if k == 0 {
		n, err := s.notificationFrom(ctx, s.w, id)
		if err != nil {
			return err
		}
		return steward.Errorf(steward.ECONFLICT, "notification %d is %s, not pending", id, n.State)
	}
	return nil
}

func (s *Store) queryNotifications(ctx context.Context, q string, args ...any) ([]Notification, error) {
	return queryNotifications(ctx, s.r, q, args...)
}

func queryNotifications(ctx context.Context, db querier, q string, args ...any) ([]Notification, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ns := []Notification{}
	for rows.Next() {
		var (
			n                                Notification
			created, since, next, last, done int64
		)
		if err := rows.Scan(&n.ID, &n.Key, &n.Notifier, &n.Body, &n.State, &created, &since,
			&n.Attempts, &next, &last, &n.LastError, &done); err != nil {
			return nil, err
		}
		if n.Body == nil {
			n.Body = []byte{}
		}
		n.Created, n.Since, n.NextAttempt = nanoTime(created), nanoTime(since), nanoTime(next)
		n.LastAttempt, n.Done = nanoTime(last), nanoTime(done)
		ns = append(ns, n)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return ns, nil
}

// isUniqueViolation reports whether err is SQLite's UNIQUE constraint error.
func isUniqueViolation(err error) bool {
	var e interface{ Code() int }
	return errors.As(err, &e) && e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
}

// nanoTime is the UTC time of Unix nanoseconds ns, and the zero time for 0.
func nanoTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}
