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
		if constraintCode(err) != 0 {
			// A retry of a create that committed (the caller saw an error) finds its own record.
			if same, rerr := sameRecord(ctx, tx, op, d, 1); rerr != nil || same {
				if rerr == nil {
					d.Version = 1
				}
				return rerr
			}
		}
		return lockConflict(ctx, tx, op, d, err)
	}
	if err = tx.Commit(); err != nil {
		return deploy.StoreFailure(op, err, "commit")
	}
	d.Version = 1
	return nil
}

// sameRecord reports whether the stored record d.ID is at version and holds exactly what d would
// store (deploy.SameStored), and, when d is active, holds its service's lock: d is then a retry of a
// write that committed. It ends tx when it returns true, or an error.
func sameRecord(ctx context.Context, tx *sql.Tx, op string, d *deploy.Deployment, version int64) (bool, error) {
	var (
		data    string
		stored  int64
		service string
		active  bool
	)
	err := tx.QueryRowContext(ctx, `SELECT data, version, service, active FROM deployments WHERE id = ?`, d.ID).
		Scan(&data, &stored, &service, &active)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, deploy.StoreFailure(op, err, "read deployment "+d.ID)
	}
	if stored != version || service != d.Service || active != d.State.Active() || !deploy.SameStored([]byte(data), d) {
		return false, nil
	}
	_ = tx.Rollback() // nothing was written
	return true, nil
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
		// A retry of an update that committed (the caller saw an error) finds its own record one
		// version on; anything else is a real conflict.
		if same, rerr := sameRecord(ctx, tx, op, d, next); rerr != nil || same {
			if rerr == nil {
				d.Version = next
			}
			return rerr
		}
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

// GetDeployment returns the deployment with id, or KindNotFound. A record that cannot be read back is
// returned quarantined (deploy.ReadStored), not as an error.
func (s *Store) GetDeployment(ctx context.Context, id string) (*deploy.Deployment, error) {
	const op = "sqlite.GetDeployment"
	d, err := scanDeployment(s.r.QueryRowContext(ctx, `SELECT `+deploymentCols+` FROM deployments WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, deploy.DeploymentNotFoundError(op, id)
	}
	if err != nil {
		return nil, deploy.StoreFailure(op, err, "read deployment "+id)
	}
	return d, nil
}

// ActiveDeployment returns the service's active deployment, or KindNotFound. It reads the unique
// partial index that is the service's lock.
func (s *Store) ActiveDeployment(ctx context.Context, service string) (*deploy.Deployment, error) {
	const op = "sqlite.ActiveDeployment"
	d, err := scanDeployment(s.r.QueryRowContext(ctx,
		`SELECT `+deploymentCols+` FROM deployments WHERE service = ? AND active = 1`, service))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, deploy.Errorf(op, deploy.KindNotFound, "service %s has no active deployment", service)
	}
	if err != nil {
		return nil, deploy.StoreFailure(op, err, "read active deployment of service "+service)
	}
	return d, nil
}

// ListDeployments returns deployments newest first (created_at, then id, both descending), at most
// deploy.ListLimit(f). Records that cannot be read back are listed quarantined.
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
	q := `SELECT ` + deploymentCols + ` FROM deployments`
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
		d, err := scanDeployment(rows)
		if err != nil {
			return nil, deploy.StoreFailure(op, err, "list deployments")
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, deploy.StoreFailure(op, err, "list deployments")
	}
	return out, nil
}

// deploymentCols are the columns scanDeployment reads.
const deploymentCols = `id, service, state, version, data`

// scanDeployment reads one row of deploymentCols. Only a failure of the database is an error.
func scanDeployment(row interface{ Scan(...any) error }) (*deploy.Deployment, error) {
	var (
		id, service, state, data string
		version                  int64
	)
	if err := row.Scan(&id, &service, &state, &version, &data); err != nil {
		return nil, err
	}
	return deploy.ReadStored([]byte(data), id, service, deploy.State(state), version), nil
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
