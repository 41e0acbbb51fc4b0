package controller

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/rollback"
)

// recover reconciles a deployment found unfinished at start-up with the live listener weights.
//
// Policy (docs/recovery.md):
//   - Every route must carry either the last verified weights or the journalled intended weights; then the
//     split is explained. A route on the intended weights means the change was sent but not verified:
//     it is re-applied and verified (idempotent) before anything else.
//   - Any other split is unexplained: the deployment is rolled back at once (cause "recovery").
//   - Explained deployments resume where they were (preparing re-runs its idempotent parts; a bake
//     continues from its persisted start; paused stays paused), unless RecoveryRollback is set, in which
//     case every deployment that had moved traffic is rolled back.
//   - rolling_back always continues its rollback.
func (r *runner) recover(ctx context.Context) error {
	d := r.d
	var live []deploy.RouteWeights
	var err error
	for attempt := 0; ; attempt++ {
		live, err = r.c.shifter.Read(ctx, r.svc)
		if err == nil || !transient(deploy.KindOf(err)) || attempt >= 20 {
			break
		}
		if !r.sleep(ctx, time.Second) {
			return ctx.Err()
		}
	}
	if err != nil {
		return r.startRollbackOnRecovery(ctx, "cannot read live weights: "+deploy.MessageOf(err))
	}
	if d.RetireAt != nil {
		// Past the point of no return: never roll back to the slot being scaled down.
		for _, rw := range live {
			if rw.Weights != deploy.AllOn(d.To) {
				r.fail(ctx, fmt.Sprintf("restart found %s on %s while %s was being retired; not touching traffic", rw.Weights, rw.Route, d.From))
				return nil
			}
		}
		r.c.event(ctx, d, "", "recover", "daemon restarted while retiring "+string(d.From)+"; finishing", nil)
		return nil
	}
	onIntended := false
	for _, rw := range live {
		switch {
		case rw.Weights == d.Weights:
		case d.Intended != nil && rw.Weights == *d.Intended:
			onIntended = true
		default:
			return r.startRollbackOnRecovery(ctx, fmt.Sprintf("%s carries %s, which no record explains (verified %s, intended %s)",
				rw.Route, rw.Weights, d.Weights, intendedString(d.Intended)))
		}
	}
	r.c.event(ctx, d, "", "recover", "daemon restarted; live weights explained", map[string]string{
		"state": string(d.State), "weights": d.Weights.String(), "intended": intendedString(d.Intended)})
	if d.State == deploy.StateRollingBack {
		r.pending = &rollback.Trigger{Cause: deploy.CauseRecovery, Reason: d.Reason, ObservedAt: r.now()}
		r.ensureRollbackEvent(ctx)
		return nil
	}
	if onIntended || d.Intended != nil {
		// Finish the interrupted change so that the record and the ALB agree again.
		if err := r.setWeights(ctx, *d.Intended, "recovery: completing interrupted weight change"); err != nil {
			return r.startRollbackOnRecovery(ctx, "could not complete interrupted weight change: "+deploy.MessageOf(err))
		}
	}
	moved := d.Weights != deploy.AllOn(d.From)
	if r.c.o.RecoveryRollback && moved {
		return r.startRollbackOnRecovery(ctx, "recovery policy rolls back deployments that had moved traffic")
	}
	r.logger().Info("resuming deployment after restart", zap.String("state", string(d.State)), zap.Stringer("weights", d.Weights))
	return nil
}

func (r *runner) startRollbackOnRecovery(ctx context.Context, reason string) error {
	err := r.startRollback(ctx, rollback.Trigger{Cause: deploy.CauseRecovery, Reason: reason, ObservedAt: r.now()}, "")
	if err == errInterrupted {
		return nil
	}
	return err
}

func intendedString(w *deploy.Weights) string {
	if w == nil {
		return "none"
	}
	return w.String()
}

// ensureRollbackEvent writes the rollback decision's audit event when a crash lost it: that event is
// written after the weight change it announces is sent, so a crash in between leaves only the record.
func (r *runner) ensureRollbackEvent(ctx context.Context) {
	evs, err := r.c.store.Events(ctx, r.d.ID, 0)
	if err != nil {
		return
	}
	for _, e := range evs {
		if e.Action == "rollback" {
			return
		}
	}
	r.c.event(ctx, r.d, "", "rollback", r.d.Reason+" (recorded at recovery: the original event was lost in a crash)",
		map[string]string{"cause": string(r.d.Cause)})
}
