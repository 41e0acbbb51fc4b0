package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
	sqlite3 "modernc.org/sqlite/lib"
)

const (
	defaultListLimit = 100
	maxListLimit     = 1000
)

// CreateDeployment inserts d with Version 1. It fails with KindConflict (ActiveID set) when d is active
// and its service already has an active deployment, and with KindConflict when d.ID exists.
func (s *Store) CreateDeployment(ctx context.Context, d *deploy.Deployment) (err error) {
	const op = "sqlite.CreateDeployment"
	if err := validate(op, d); err != nil {
		return err
	}
	data, err := encode(op, d, 1)
	if err != nil {
		return err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return dbErr(op, err, "begin")
	}
	defer rollbackOnError(tx, &err)
	_, err = tx.ExecContext(ctx, `INSERT INTO deployments (id, service, state, active, created_at, updated_at, version, data)
VALUES (?, ?, ?, ?, ?, ?, 1, ?)`,
		d.ID, d.Service, string(d.State), d.State.Active(), formatTime(d.CreatedAt), formatTime(d.UpdatedAt), data)
	if err != nil {
		return lockConflict(ctx, tx, op, d, err)
	}
	if err = tx.Commit(); err != nil {
		return dbErr(op, err, "commit")
	}
	d.Version = 1
	return nil
}

// UpdateDeployment stores d if d.Version is the stored version, then sets d.Version to the new one.
// A stale version is KindConflict, an unknown id KindNotFound; making d active while its service has
// another active deployment is KindConflict with ActiveID.
func (s *Store) UpdateDeployment(ctx context.Context, d *deploy.Deployment) (err error) {
	const op = "sqlite.UpdateDeployment"
	if err := validate(op, d); err != nil {
		return err
	}
	next := d.Version + 1
	data, err := encode(op, d, next)
	if err != nil {
		return err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return dbErr(op, err, "begin")
	}
	defer rollbackOnError(tx, &err)
	res, err := tx.ExecContext(ctx, `UPDATE deployments
SET service = ?, state = ?, active = ?, created_at = ?, updated_at = ?, version = ?, data = ?
WHERE id = ? AND version = ?`,
		d.Service, string(d.State), d.State.Active(), formatTime(d.CreatedAt), formatTime(d.UpdatedAt), next, data,
		d.ID, d.Version)
	if err != nil {
		return lockConflict(ctx, tx, op, d, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return dbErr(op, err, "update")
	}
	if n == 0 {
		var stored int64
		switch err = tx.QueryRowContext(ctx, `SELECT version FROM deployments WHERE id = ?`, d.ID).Scan(&stored); {
		case errors.Is(err, sql.ErrNoRows):
			err = deploy.Errorf(op, deploy.KindNotFound, "deployment %s not found", d.ID)
		case err != nil:
			err = dbErr(op, err, "read version")
		default:
			err = deploy.Errorf(op, deploy.KindConflict,
				"deployment %s was changed concurrently: version %d is stale, stored version is %d", d.ID, d.Version, stored)
		}
		return err
	}
	if err = tx.Commit(); err != nil {
		return dbErr(op, err, "commit")
	}
	d.Version = next
	return nil
}

// GetDeployment returns the deployment with id, or KindNotFound.
func (s *Store) GetDeployment(ctx context.Context, id string) (*deploy.Deployment, error) {
	const op = "sqlite.GetDeployment"
	var (
		data    string
		version int64
	)
	err := s.r.QueryRowContext(ctx, `SELECT data, version FROM deployments WHERE id = ?`, id).Scan(&data, &version)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, deploy.Errorf(op, deploy.KindNotFound, "deployment %s not found", id)
	}
	if err != nil {
		return nil, dbErr(op, err, "read deployment "+id)
	}
	return decode(op, data, version)
}

// ListDeployments returns deployments newest first (created_at, then id, both descending), at most
// f.Limit (default 100, capped at 1000).
func (s *Store) ListDeployments(ctx context.Context, f deploy.ListFilter) ([]*deploy.Deployment, error) {
	const op = "sqlite.ListDeployments"
	limit := f.Limit
	switch {
	case limit < 0:
		return nil, deploy.Errorf(op, deploy.KindInvalid, "limit must not be negative, got %d", limit)
	case limit == 0:
		limit = defaultListLimit
	case limit > maxListLimit:
		limit = maxListLimit
	}
	var (
		where []string
		args  []any
	)
	if f.Service != "" {
		where, args = append(where, "service = ?"), append(args, f.Service)
	}
	if f.ActiveOnly {
		where = append(where, "active = 1")
	}
	q := `SELECT data, version FROM deployments`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += ` ORDER BY created_at DESC, id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, dbErr(op, err, "list deployments")
	}
	defer rows.Close()
	out := make([]*deploy.Deployment, 0)
	for rows.Next() {
		var (
			data    string
			version int64
		)
		if err := rows.Scan(&data, &version); err != nil {
			return nil, dbErr(op, err, "list deployments")
		}
		d, err := decode(op, data, version)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr(op, err, "list deployments")
	}
	return out, nil
}

func validate(op string, d *deploy.Deployment) error {
	switch {
	case d == nil:
		return deploy.Errorf(op, deploy.KindInvalid, "deployment is nil")
	case d.ID == "":
		return deploy.Errorf(op, deploy.KindInvalid, "deployment id is empty")
	case d.Service == "":
		return deploy.Errorf(op, deploy.KindInvalid, "deployment %s has no service", d.ID)
	case d.State == "":
		return deploy.Errorf(op, deploy.KindInvalid, "deployment %s has no state", d.ID)
	}
	return nil
}

// lockConflict maps a failed INSERT/UPDATE: the partial unique index on active deployments becomes the
// conflict naming the active deployment; a duplicate id a plain conflict.
func lockConflict(ctx context.Context, tx *sql.Tx, op string, d *deploy.Deployment, err error) error {
	switch constraintCode(err) {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		// The failed statement was rolled back on its own; the transaction still reads consistently.
		var active string
		if qerr := tx.QueryRowContext(ctx, `SELECT id FROM deployments WHERE service = ? AND active = 1`,
			d.Service).Scan(&active); qerr != nil && !errors.Is(qerr, sql.ErrNoRows) {
			return dbErr(op, qerr, "read active deployment")
		}
		return &deploy.Error{Op: op, Kind: deploy.KindConflict, ActiveID: active,
			Message: "service " + d.Service + " already has an active deployment " + active}
	case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return deploy.Errorf(op, deploy.KindConflict, "deployment %s already exists", d.ID)
	}
	return dbErr(op, err, "write deployment "+d.ID)
}

func rollbackOnError(tx *sql.Tx, err *error) {
	if *err != nil {
		_ = tx.Rollback()
	}
}

// encode marshals a copy of d with its times in UTC and the given version, so that what is read back
// equals what was written regardless of the writer's time zone. Guard is dropped.
func encode(op string, d *deploy.Deployment, version int64) (string, error) {
	c := *d
	c.Version = version
	c.Guard = nil // live alarm states, filled on read by the controller; never stored
	c.CreatedAt = c.CreatedAt.UTC()
	c.UpdatedAt = c.UpdatedAt.UTC()
	c.StepStartedAt = utcPtr(c.StepStartedAt)
	c.ShiftedAt = utcPtr(c.ShiftedAt)
	c.FinishedAt = utcPtr(c.FinishedAt)
	b, err := json.Marshal(&c)
	if err != nil {
		return "", deploy.Wrap(op, deploy.KindInternal, err, "encode deployment "+d.ID)
	}
	return string(b), nil
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func decode(op, data string, version int64) (*deploy.Deployment, error) {
	var d deploy.Deployment
	if err := json.Unmarshal([]byte(data), &d); err != nil {
		return nil, deploy.Wrap(op, deploy.KindInternal, err, "decode stored deployment")
	}
	d.Version = version // the column is authoritative
	return &d, nil
}
