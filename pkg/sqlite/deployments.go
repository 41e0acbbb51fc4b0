package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/switchyard/switchyard/pkg/deploy"
	sqlite3 "modernc.org/sqlite/lib"
)

// CreateDeployment inserts d with Version 1. It fails with KindConflict (ActiveID set) when d is active
// and its service already has an active deployment, and with KindConflict when d.ID exists.
func (s *Store) CreateDeployment(ctx context.Context, d *deploy.Deployment) (err error) {
	const op = "sqlite.CreateDeployment"
	if err := deploy.ValidateStored(op, d); err != nil {
		return err
	}
	data, err := encode(op, d, 1)
	if err != nil {
		return err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return deploy.StoreFailure(op, err, "begin")
	}
	defer rollbackOnError(tx, &err)
	_, err = tx.ExecContext(ctx, `INSERT INTO deployments (id, service, state, active, created_at, updated_at, version, data)
VALUES (?, ?, ?, ?, ?, ?, 1, ?)`,
		d.ID, d.Service, string(d.State), d.State.Active(), deploy.FormatSortableTime(d.CreatedAt), deploy.FormatSortableTime(d.UpdatedAt), data)
	if err != nil {
		return lockConflict(ctx, tx, op, d, err)
	}
	if err = tx.Commit(); err != nil {
		return deploy.StoreFailure(op, err, "commit")
	}
	d.Version = 1
	return nil
}

// UpdateDeployment stores d if d.Version is the stored version, then sets d.Version to the new one.
// A stale version is KindConflict, an unknown id KindNotFound; making d active while its service has
// another active deployment is KindConflict with ActiveID.
func (s *Store) UpdateDeployment(ctx context.Context, d *deploy.Deployment) (err error) {
	const op = "sqlite.UpdateDeployment"
	if err := deploy.ValidateStored(op, d); err != nil {
		return err
	}
	next := d.Version + 1
	data, err := encode(op, d, next)
	if err != nil {
		return err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return deploy.StoreFailure(op, err, "begin")
	}
	defer rollbackOnError(tx, &err)
	res, err := tx.ExecContext(ctx, `UPDATE deployments
SET service = ?, state = ?, active = ?, created_at = ?, updated_at = ?, version = ?, data = ?
WHERE id = ? AND version = ?`,
		d.Service, string(d.State), d.State.Active(), deploy.FormatSortableTime(d.CreatedAt), deploy.FormatSortableTime(d.UpdatedAt), next, data,
		d.ID, d.Version)
	if err != nil {
		return lockConflict(ctx, tx, op, d, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return deploy.StoreFailure(op, err, "update")
	}
	if n == 0 {
		var stored int64
		switch err = tx.QueryRowContext(ctx, `SELECT version FROM deployments WHERE id = ?`, d.ID).Scan(&stored); {
		case errors.Is(err, sql.ErrNoRows):
			err = deploy.DeploymentNotFoundError(op, d.ID)
		case err != nil:
			err = deploy.StoreFailure(op, err, "read version")
		default:
			err = deploy.StaleVersionError(op, d.ID, d.Version, stored)
		}
		return err
	}
	if err = tx.Commit(); err != nil {
		return deploy.StoreFailure(op, err, "commit")
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
		return nil, deploy.DeploymentNotFoundError(op, id)
	}
	if err != nil {
		return nil, deploy.StoreFailure(op, err, "read deployment "+id)
	}
	return decode(op, data, version)
}

// ListDeployments returns deployments newest first (created_at, then id, both descending), at most
// deploy.ListLimit(f).
func (s *Store) ListDeployments(ctx context.Context, f deploy.ListFilter) ([]*deploy.Deployment, error) {
	const op = "sqlite.ListDeployments"
	limit, err := deploy.ListLimit(op, f)
	if err != nil {
		return nil, err
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
		return nil, deploy.StoreFailure(op, err, "list deployments")
	}
	defer rows.Close()
	out := make([]*deploy.Deployment, 0)
	for rows.Next() {
		var (
			data    string
			version int64
		)
		if err := rows.Scan(&data, &version); err != nil {
			return nil, deploy.StoreFailure(op, err, "list deployments")
		}
		d, err := decode(op, data, version)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, deploy.StoreFailure(op, err, "list deployments")
	}
	return out, nil
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
			return deploy.StoreFailure(op, qerr, "read active deployment")
		}
		return deploy.ServiceLockedError(op, d.Service, active)
	case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return deploy.DeploymentExistsError(op, d.ID)
	}
	return deploy.StoreFailure(op, err, "write deployment "+d.ID)
}

func rollbackOnError(tx *sql.Tx, err *error) {
	if *err != nil {
		_ = tx.Rollback()
	}
}

// encode is deploy.EncodeStored as the text the data column holds.
func encode(op string, d *deploy.Deployment, version int64) (string, error) {
	b, err := deploy.EncodeStored(op, d, version)
	return string(b), err
}

func decode(op, data string, version int64) (*deploy.Deployment, error) {
	d, err := deploy.DecodeStored(op, []byte(data))
	if err != nil {
		return nil, err
	}
	d.Version = version // the column is authoritative
	return d, nil
}
