// Package sqlite is switchyard's deployment store on a local SQLite file (modernc.org/sqlite, pure Go).
// Every state transition is committed with synchronous=FULL before the side effect it announces, so a
// daemon that crashes finds on restart exactly what it was about to do.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
	sqlite3 "modernc.org/sqlite/lib"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// busyTimeout bounds how long a statement waits for another process's lock before failing with
// SQLITE_BUSY. Within one process the single writer connection already serialises writes.
const busyTimeout = 5 * time.Second

// readConns bounds concurrent readers (API list/get/events); WAL lets them run beside the writer.
const readConns = 4

// Store implements deploy.Store on a SQLite database file.
type Store struct {
	// w is the only connection that writes: one connection means writers queue in database/sql instead
	// of failing with SQLITE_BUSY, and every transaction begins IMMEDIATE so none has to upgrade a read
	// lock (which can deadlock).
	w *sql.DB
	// r serves reads without waiting behind the writer queue. It is w itself for in-memory databases.
	r *sql.DB
}

var _ deploy.Store = (*Store)(nil)

// Open opens (creating if needed) the database at path and migrates it to SchemaVersion. It refuses a
// database whose schema is newer than this binary knows (ErrSchemaTooNew). path ":memory:" gives a
// private in-memory database, for tests.
func Open(path string) (*Store, error) {
	const op = "sqlite.Open"
	if path == "" {
		return nil, deploy.Errorf(op, deploy.KindInvalid, "database path is empty")
	}
	if strings.ContainsAny(path, "?#") {
		// The driver cuts the DSN at '?', so such a path would silently open another file.
		return nil, deploy.Errorf(op, deploy.KindInvalid, "database path %q must not contain '?' or '#'", path)
	}
	ctx := context.Background()
	memory := path == ":memory:"
	if !memory {
		if dir := filepath.Dir(path); dir != "" {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, deploy.Wrap(op, deploy.KindUnavailable, err, "create database directory")
			}
		}
	}

	w, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, deploy.Wrap(op, deploy.KindInternal, err, "open "+path)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0) // an in-memory database lives only as long as its connection
	w.SetConnMaxIdleTime(0)
	s := &Store{w: w, r: w}
	fail := func(err error, msg string) (*Store, error) {
		_ = s.Close()
		if errors.Is(err, ErrSchemaTooNew) {
			return nil, deploy.Wrap(op, deploy.KindPrecondition, err, path)
		}
		return nil, deploy.Wrap(op, deploy.KindUnavailable, err, msg+" "+path)
	}
	if !memory {
		var mode string
		if err := w.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
			return fail(err, "open")
		}
		if !strings.EqualFold(mode, "wal") {
			return fail(fmt.Errorf("journal_mode is %q, want wal (is the file on a network filesystem?)", mode), "open")
		}
	}
	if err := migrate(ctx, w); err != nil {
		return fail(err, "migrate")
	}
	if !memory {
		r, err := sql.Open("sqlite", dsn(path, true))
		if err != nil {
			return fail(err, "open reader")
		}
		r.SetMaxOpenConns(readConns)
		r.SetMaxIdleConns(readConns)
		s.r = r
		if err := r.PingContext(ctx); err != nil {
			return fail(err, "open reader")
		}
	}
	return s, nil
}

// dsn builds the driver's connection string. Pragmas go in the DSN so that every connection the pool
// opens (including re-opened ones) has them.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	if path != ":memory:" {
		q.Add("_pragma", "journal_mode(WAL)")
	}
	// FULL: a committed transition survives power loss, not only a process crash.
	q.Add("_pragma", "synchronous(FULL)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	return path + "?" + q.Encode()
}

// Close closes the database. It is safe to call more than once.
func (s *Store) Close() error {
	var err error
	if s.r != nil && s.r != s.w {
		err = s.r.Close()
	}
	if s.w != nil {
		err = errors.Join(err, s.w.Close())
	}
	if err != nil {
		return deploy.Wrap("sqlite.Close", deploy.KindInternal, err, "close database")
	}
	return nil
}

// constraintCode returns the extended SQLite result code of err when it is a constraint violation.
func constraintCode(err error) int {
	var se interface{ Code() int }
	if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_CONSTRAINT {
		return se.Code()
	}
	return 0
}
