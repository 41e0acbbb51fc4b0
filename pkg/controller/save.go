package controller

import (
	"context"
	"errors"
	"time"

	"go.uber.org/zap"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// conflictWindow: two version conflicts this close together mean another writer is active.
const conflictWindow = 10 * time.Second

// errYield stops a runner because another daemon is driving its deployment.
var errYield = errors.New("another writer drives this deployment")

// storeError marks a failed write of the record; the in-memory record has been restored to what is stored.
type storeError struct{ err error }

func (e *storeError) Error() string { return "store: " + e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }

// save persists the record and appends an audit event. While the store is unavailable the identical
// write is retried (stores accept a retry of a write that committed although its caller saw an error),
// because no side effect may run before its transition is stored. A version conflict re-reads the
// record: the runner adopts what is stored and dispatches again, it never walks away from it.
func (r *runner) save(ctx context.Context, actor, action, reason string, detail map[string]string) error {
	r.d.UpdatedAt = r.now()
	r.d.Guard, r.d.Live = nil, nil
	if r.analysisNotify != nil {
		if a, ok := r.c.analysis.Status(r.d.ID); ok {
			r.d.Analysis = &a
		}
	}
	delay := 50 * time.Millisecond
	for {
		err := r.c.store.UpdateDeployment(context.WithoutCancel(ctx), r.d)
		if err == nil {
			break
		}
		kind := deploy.KindOf(err)
		if errors.Is(err, deploy.ErrLeaseLost) {
			// Fenced out: another daemon owns the deployment. Nothing of this write happened.
			*r.d = r.stored
			r.deferring, r.deferred = false, nil
			r.c.leases.Lost(r.d.ID)
			return err
		}
		if kind == deploy.KindConflict {
			return r.adopt(ctx, err)
		}
		if kind != deploy.KindUnavailable || !r.sleep(ctx, delay) {
			// Nothing in memory may run ahead of the store: forget what this write announced.
			*r.d = r.stored
			r.deferring, r.deferred = false, nil
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return &storeError{err: err}
		}
		r.logger().Warn("store unavailable; retrying", zap.Error(err))
		delay = min(2*delay, 2*time.Second)
	}
	r.stored = *r.d
	if action != "" {
		r.logger().Info(action, zap.String("reason", reason), zap.Any("detail", detail))
		if r.deferring {
			r.deferred = append(r.deferred, deferredEvent{actor, action, reason, r.d.State, detail})
		} else {
			r.c.event(ctx, r.d, actor, action, reason, detail)
		}
	}
	return nil
}

// adopt replaces the in-memory record with the stored one after a version conflict, so the reconciler
// continues from what is really stored (level-triggered) instead of from what it wished it had written.
//
// A second conflict soon after the first means another daemon is writing this record right now (a
// shared DynamoDB store, before leases exist): that daemon drives it, and this runner yields rather
// than fight it.
func (r *runner) adopt(ctx context.Context, cause error) error {
	r.deferring, r.deferred = false, nil
	now := r.now()
	if !r.lastConflict.IsZero() && now.Sub(r.lastConflict) < conflictWindow {
		*r.d = r.stored
		return errYield
	}
	r.lastConflict = now
	for {
		stored, err := r.c.store.GetDeployment(context.WithoutCancel(ctx), r.d.ID)
		if err == nil {
			r.logger().Warn("record changed under this runner; continuing from the stored record",
				zap.Error(cause), zap.String("stored_state", string(stored.State)), zap.Int64("stored_version", stored.Version))
			*r.d, r.stored = *stored, *stored
			r.svc = stored.Spec
			return errInterrupted
		}
		if !r.sleep(ctx, time.Second) {
			*r.d = r.stored
			return ctx.Err()
		}
	}
}

// flush writes deferred audit events, in order, with the state they were recorded in.
func (r *runner) flush(ctx context.Context) {
	r.deferring = false
	for _, e := range r.deferred {
		state := r.d.State
		r.d.State = e.state
		r.c.event(ctx, r.d, e.actor, e.action, e.reason, e.detail)
		r.d.State = state
	}
	r.deferred = nil
}

func (r *runner) sleep(ctx context.Context, d time.Duration) bool {
	c, stop := r.c.clock.After(d)
	defer stop()
	select {
	case <-ctx.Done():
		return false
	case <-c:
		return true
	}
}
