package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/switchyard/switchyard/pkg/deploy"
	sqlite3 "modernc.org/sqlite/lib"
)

// AppendEvent stores e and sets e.Seq, which increases across the whole store and is never reused. An
// e.ID that is already stored (a retry of an append that committed) stores nothing and sets e.Seq to
// the stored event's; the same id on another deployment's event is KindConflict.
func (s *Store) AppendEvent(ctx context.Context, e *deploy.Event) error {
	const op = "sqlite.AppendEvent"
	if err := deploy.ValidateEvent(op, e); err != nil {
		return err
	}
	var detail sql.NullString
	if len(e.Detail) > 0 {
		b, err := json.Marshal(e.Detail)
		if err != nil {
			return deploy.Wrap(op, deploy.KindInternal, err, "encode event detail")
		}
		detail = sql.NullString{String: string(b), Valid: true}
	}
	id := sql.NullString{String: e.ID, Valid: e.ID != ""}
	res, err := s.w.ExecContext(ctx, `INSERT INTO events (deployment_id, service, time, actor, action, state, reason, detail, event_id)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.DeploymentID, e.Service, deploy.FormatSortableTime(e.Time), e.Actor, e.Action, string(e.State), e.Reason, detail, id)
	if id.Valid && constraintCode(err) == sqlite3.SQLITE_CONSTRAINT_UNIQUE {
		return s.storedEvent(ctx, op, e)
	}
	if err != nil {
		return deploy.StoreFailure(op, err, "append event to deployment "+e.DeploymentID)
	}
	seq, err := res.LastInsertId()
	if err != nil {
		return deploy.StoreFailure(op, err, "read event seq")
	}
	e.Seq = seq
	return nil
}

// storedEvent sets e.Seq from the stored event with e.ID (events are never deleted, so it is there).
func (s *Store) storedEvent(ctx context.Context, op string, e *deploy.Event) error {
	var (
		seq        int64
		deployment string
	)
	if err := s.w.QueryRowContext(ctx, `SELECT seq, deployment_id FROM events WHERE event_id = ?`, e.ID).
		Scan(&seq, &deployment); err != nil {
		return deploy.StoreFailure(op, err, "read event "+e.ID)
	}
	if err := deploy.SameEvent(op, e, deployment); err != nil {
		return err
	}
	e.Seq = seq
	return nil
}

// Events returns the events of deploymentID with Seq > afterSeq, oldest first. An unknown deployment
// has no events (an empty slice, not an error).
func (s *Store) Events(ctx context.Context, deploymentID string, afterSeq int64) ([]deploy.Event, error) {
	const op = "sqlite.Events"
	rows, err := s.r.QueryContext(ctx, `SELECT seq, deployment_id, service, time, actor, action, state, reason, detail, event_id
FROM events WHERE deployment_id = ? AND seq > ? ORDER BY seq`, deploymentID, afterSeq)
	if err != nil {
		return nil, deploy.StoreFailure(op, err, "read events of deployment "+deploymentID)
	}
	defer rows.Close()
	out := make([]deploy.Event, 0)
	for rows.Next() {
		var (
			e      deploy.Event
			ts     string
			state  string
			detail sql.NullString
			id     sql.NullString
		)
		if err := rows.Scan(&e.Seq, &e.DeploymentID, &e.Service, &ts, &e.Actor, &e.Action, &state, &e.Reason, &detail, &id); err != nil {
			return nil, deploy.StoreFailure(op, err, "read events of deployment "+deploymentID)
		}
		if e.Time, err = deploy.ParseSortableTime(ts); err != nil {
			return nil, deploy.Wrap(op, deploy.KindInternal, err, "decode event time")
		}
		e.State, e.ID = deploy.State(state), id.String
		if detail.Valid {
			if err := json.Unmarshal([]byte(detail.String), &e.Detail); err != nil {
				return nil, deploy.Wrap(op, deploy.KindInternal, err, "decode event detail")
			}
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, deploy.StoreFailure(op, err, "read events of deployment "+deploymentID)
	}
	return out, nil
}
