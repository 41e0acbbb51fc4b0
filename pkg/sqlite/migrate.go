package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// migrations are applied in order; migrations[i] brings the schema to version i+1. Never edit or reorder
// an entry once released: databases in the field record which versions they have applied. Add new ones
// at the end.
var migrations = []string{
	// 1: deployments with the one-active-per-service lock, and the audit trail.
	`
CREATE TABLE deployments (
	id         TEXT    NOT NULL PRIMARY KEY,
	service    TEXT    NOT NULL,
	state      TEXT    NOT NULL,
	active     INTEGER NOT NULL CHECK (active IN (0, 1)),
	created_at TEXT    NOT NULL, -- UTC, fixed-width nanoseconds: sorts as text
	updated_at TEXT    NOT NULL,
	version    INTEGER NOT NULL,
	data       TEXT    NOT NULL  -- the whole deploy.Deployment as JSON
) STRICT;

-- The deployment lock: at most one active deployment per service, enforced by the database so that it
-- also holds across processes sharing the file.
CREATE UNIQUE INDEX deployments_one_active ON deployments (service) WHERE active = 1;
CREATE INDEX deployments_created ON deployments (created_at DESC, id DESC);
CREATE INDEX deployments_service_created ON deployments (service, created_at DESC, id DESC);

-- No foreign key to deployments: the audit trail must accept every entry the controller writes.
CREATE TABLE events (
	seq           INTEGER PRIMARY KEY AUTOINCREMENT, -- AUTOINCREMENT: a seq is never reused
	deployment_id TEXT    NOT NULL,
	service       TEXT    NOT NULL,
	time          TEXT    NOT NULL,
	actor         TEXT    NOT NULL,
	action        TEXT    NOT NULL,
	state         TEXT    NOT NULL,
	reason        TEXT    NOT NULL,
	detail        TEXT              -- JSON object, NULL when empty
) STRICT;

CREATE INDEX events_deployment ON events (deployment_id, seq);
`,
	// 2: the writer's event id, which makes a retried AppendEvent store nothing new.
	`
ALTER TABLE events ADD COLUMN event_id TEXT; -- NULL: the writer gave none
CREATE UNIQUE INDEX events_event_id ON events (event_id) WHERE event_id IS NOT NULL;
`,
	// 3: calendar objects (freezes, closures, recurring schedules), each a JSON body with a version.
	`
CREATE TABLE objects (
	kind    TEXT    NOT NULL,
	id      TEXT    NOT NULL,
	version INTEGER NOT NULL,
	body    TEXT    NOT NULL,
	PRIMARY KEY (kind, id)
) STRICT;
`,
}

// SchemaVersion is the schema version this binary creates and understands.
func SchemaVersion() int { return len(migrations) }

// ErrSchemaTooNew is returned by Open when the database was migrated by a newer switchyard.
var ErrSchemaTooNew = errors.New("database schema is newer than this binary supports")

// migrate applies the pending migrations, each in its own transaction together with its
// schema_migrations row, so that a crash mid-way leaves the database at a known version.
func migrate(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER NOT NULL PRIMARY KEY,
	applied_at TEXT    NOT NULL
) STRICT`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	for {
		done, err := migrateOne(ctx, db)
		if err != nil || done {
			return err
		}
	}
}

// migrateOne applies the next pending migration, if any. The version is read inside the (immediate)
// transaction, so two processes opening the same file cannot apply a migration twice.
func migrateOne(ctx context.Context, db *sql.DB) (done bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("begin migration: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return false, fmt.Errorf("read schema version: %w", err)
	}
	if current > len(migrations) {
		return false, fmt.Errorf("%w: database is at version %d, this binary knows up to %d; upgrade switchyard or point it at another database",
			ErrSchemaTooNew, current, len(migrations))
	}
	if current == len(migrations) {
		return true, tx.Commit()
	}
	next := current + 1
	if _, err := tx.ExecContext(ctx, migrations[current]); err != nil {
		return false, fmt.Errorf("apply migration %d: %w", next, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
		next, deploy.FormatSortableTime(time.Now())); err != nil {
		return false, fmt.Errorf("record migration %d: %w", next, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("commit migration %d: %w", next, err)
	}
	return false, nil
}
