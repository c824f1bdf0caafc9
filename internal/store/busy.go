package store

import (
	"errors"

	sqlite3 "modernc.org/sqlite/lib"
)

// IsBusy reports whether err says that another connection held a lock the
// call needed (SQLite's BUSY or LOCKED, in any of their extended forms)
// for longer than the store waits: the database is sound, and the same
// call may succeed later.
func IsBusy(err error) bool {
	var e interface{ Code() int }
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code() & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return true
	}
	return false
}
