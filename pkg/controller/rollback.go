package controller

import (
	"context"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/rollback"
	"github.com/switchyard/switchyard/pkg/shifter"
)

// startRollback records the decision; rollBack carries it out.
func (r *runner) startRollback(ctx context.Context, t rollback.Trigger, actor string) error {
	d := r.d
	if d.State == deploy.StateRollingBack || d.State.Terminal() {
		return errInterrupted
	}
	if d.RetireAt != nil {
		// The old slot is being scaled down: sending traffic back to it would be an outage.
		r.logger().Warn("rollback trigger ignored past the point of no return", zap.String("reason", t.Reason))
		return errInterrupted
	}
	from := d.State
	r.stopAnalysis()
	d.State, d.Cause, d.Reason = deploy.StateRollingBack, t.Cause, t.Reason
	detail := map[string]string{"cause": string(t.Cause), "from_state": string(from)}
	for k, v := range t.Detail {
		detail[k] = v
	}
	// The decision and the intended weights go to the store in one write, and its audit event is written
	// after the weight change is sent: one fsync between seeing the trigger and sending ModifyListener.
	if target := deploy.AllOn(d.From); d.Weights != target || d.Intended != nil {
		d.Intended = &target
		detail["weights"] = shifter.Describe(target)
		r.deferring = true
	}
	if err := r.save(ctx, actor, "rollback", t.Reason, detail); err != nil {
		return err
	}
	r.pending, r.sentAt, r.failures = &t, time.Time{}, 0
	r.logger().Warn("rolling back", zap.String("cause", string(t.Cause)), zap.String("reason", t.Reason))
	return errInterrupted
}

// rollBack sends all traffic back to the previous slot, then scales the new slot down and restores its
// previous task definition. Transient failures of the weight change are retried without limit (traffic
// safety comes first); other failures end in failed after maxAttempts (see recoverPhase).
func (r *runner) rollBack(ctx context.Context) error {
	d, svc := r.d, r.svc
	r.unwatch()
	ctx = deploy.Urgent(ctx) // the daemon's rate limiter serves rollbacks first
	target := deploy.AllOn(d.From)
	needed := d.Weights != target || d.Intended != nil
	if !needed {
		// The record says traffic is already back; the ALB must say so too (a route edited by hand, or
		// a rollback decided before any weight change, is not trusted).
		routes, err := r.c.shifter.Read(ctx, svc)
		if err != nil {
			return deploy.Wrap("rollback", "", err, "read live weights")
		}
		for _, rw := range routes {
			needed = needed || rw.Weights != target
		}
	}
	for attempt := 1; needed; attempt++ {
		err := r.setWeights(ctx, target, "rollback to "+string(d.From))
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !transient(deploy.KindOf(err)) {
			return err
		}
		r.logger().Error("rollback weight change failed; retrying", zap.Error(err), zap.Int("attempt", attempt))
		r.idle(ctx, r.backoff(attempt))
	}
	if t := r.pending; t != nil {
		verified := r.c.clock.Now().Sub(t.ObservedAt)
		detail := map[string]string{"verified_ms": strconv.FormatFloat(float64(verified.Microseconds())/1000, 'f', 3, 64)}
		if m := r.c.o.Metrics; m != nil {
			m.RollbackTotal.WithLabelValues(string(t.Cause)).Observe(verified.Seconds())
		}
		if !r.sentAt.IsZero() {
			decision := r.sentAt.Sub(t.ObservedAt)
			detail["decision_ms"] = strconv.FormatFloat(float64(decision.Microseconds())/1000, 'f', 3, 64)
			if m := r.c.o.Metrics; m != nil {
				m.RollbackDecision.WithLabelValues(string(t.Cause)).Observe(decision.Seconds())
			}
		}
		r.c.event(ctx, d, "", "rollback.traffic_restored", "all traffic on "+string(d.From), detail)
		r.pending = nil
	}
	cctx, cancel := awsCtx(ctx)
	err := r.c.o.Containers.UpdateService(cctx, svc.Cluster, svc.ECSServices[d.To], d.PreviousToTaskDef, 0)
	cancel()
	if err != nil {
		return deploy.Wrap("rollback", "", err, "traffic restored to "+string(d.From)+" but scaling "+string(d.To)+" down failed")
	}
	now := r.now()
	d.State, d.FinishedAt = deploy.StateRolledBack, &now
	return r.save(ctx, "", "rolled_back", d.Reason, map[string]string{"cause": string(d.Cause)})
}
