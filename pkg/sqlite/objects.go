package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/switchyard/switchyard/pkg/deploy"
)

var _ deploy.ObjectStore = (*Store)(nil)

// PutObject creates (Version 0) or replaces (Version = the stored one) a calendar object.
func (s *Store) PutObject(ctx context.Context, o *deploy.Object) error {
	const op = "sqlite.PutObject"
	if err := deploy.CheckObject(op, o); err != nil {
		return err
	}
	var res sql.Result
	var err error
	if o.Version == 0 {
		res, err = s.w.ExecContext(ctx, `INSERT INTO objects (kind, id, version, body) VALUES (?, ?, 1, ?) ON CONFLICT DO NOTHING`,
			string(o.Kind), o.ID, string(o.Body))
	} else {
		res, err = s.w.ExecContext(ctx, `UPDATE objects SET version = version + 1, body = ? WHERE kind = ? AND id = ? AND version = ?`,
			string(o.Body), string(o.Kind), o.ID, o.Version)
	}
	if err != nil {
		return deploy.StoreFailure(op, err, "write "+string(o.Kind)+" "+o.ID)
	}
	if n, err := res.RowsAffected(); err != nil {
		return deploy.StoreFailure(op, err, "write "+string(o.Kind)+" "+o.ID)
	} else if n == 0 {
		if o.Version == 0 {
			return deploy.Errorf(op, deploy.KindConflict, "%s %s already exists", o.Kind, o.ID)
		}
		return deploy.Errorf(op, deploy.KindConflict, "%s %s was changed or deleted concurrently (version %d is stale)", o.Kind, o.ID, o.Version)
	}
	o.Version++
	return nil
}

// DeleteObject removes a calendar object (KindNotFound when absent).
func (s *Store) DeleteObject(ctx context.Context, kind deploy.ObjectKind, id string) error {
	const op = "sqlite.DeleteObject"
	res, err := s.w.ExecContext(ctx, `DELETE FROM objects WHERE kind = ? AND id = ?`, string(kind), id)
	if err != nil {
		return deploy.StoreFailure(op, err, "delete "+string(kind)+" "+id)
	}
	if n, err := res.RowsAffected(); err != nil {
		return deploy.StoreFailure(op, err, "delete "+string(kind)+" "+id)
	} else if n == 0 {
		return deploy.Errorf(op, deploy.KindNotFound, "%s %s not found", kind, id)
	}
	return nil
}

// ListObjects returns every object of kind, by id.
func (s *Store) ListObjects(ctx context.Context, kind deploy.ObjectKind) ([]deploy.Object, error) {
	const op = "sqlite.ListObjects"
	rows, err := s.r.QueryContext(ctx, `SELECT id, version, body FROM objects WHERE kind = ? ORDER BY id`, string(kind))
	if err != nil {
		return nil, deploy.StoreFailure(op, err, "list "+string(kind))
	}
	defer rows.Close()
	out := make([]deploy.Object, 0)
	for rows.Next() {
		o := deploy.Object{Kind: kind}
		var body string
		if err := rows.Scan(&o.ID, &o.Version, &body); err != nil {
			return nil, deploy.StoreFailure(op, err, "list "+string(kind))
		}
		o.Body = []byte(body)
		out = append(out, o)
	}
	if err := errors.Join(rows.Err()); err != nil {
		return nil, deploy.StoreFailure(op, err, "list "+string(kind))
	}
	return out, nil
}
