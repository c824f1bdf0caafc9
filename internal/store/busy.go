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
	return hasCode(err, sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
}

// IsFull reports whether err says that the database could not grow
// because its file system is full (SQLite's FULL): the database is sound,
// and the same call may succeed once there is space.
func IsFull(err error) bool {
	return hasCode(err, sqlite3.SQLITE_FULL)
}

// hasCode reports whether err carries a SQLite result code whose primary
// code is one of codes.
func hasCode(err error, codes ...int) bool {
	var e interface{ Code() int }
	if !errors.As(err, &e) {
		return false
	}
	for _, c := range codes {
		if e.Code()&0xff == c {
			return true
		}
	}
	return false
}
