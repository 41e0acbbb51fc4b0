package controller

import (
	"context"
	"fmt"
	"strconv"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// retire passes the point of no return and retires the old slot: the weights are read back once more
// (the old slot is retired only when the ALB really sends it nothing), a trigger that arrived
// meanwhile still rolls back, then retire_at is stored, auto scaling is handed over, the old slot is
// scaled to zero (its task definition is kept) and the test listener is pointed at it, now idle.
func (r *runner) retire(ctx context.Context) error {
	d, svc := r.d, r.svc
	if d.RetireAt == nil {
		cctx, cancel := awsCtx(ctx)
		live, consistent, _, err := r.c.shifter.Live(cctx, svc)
		cancel()
		if err != nil {
			return deploy.Wrap("finalize", "", err, "verify weights before scale-down")
		}
		if !consistent || live != deploy.AllOn(d.To) {
			return deploy.Errorf("finalize", deploy.KindPrecondition, "weights changed outside switchyard (%s); not scaling %s down", live, d.From)
		}
		ev, _ := r.evaluate()
		if t := ev.trigger(); t != nil {
			return r.startRollback(ctx, *t, "")
		}
		if !ev.verdict.Fresh {
			return errInterrupted // evidence went stale while the weights were read: decide again
		}
		r.unwatch()
		now := r.now()
		d.RetireAt = &now
		if err := r.save(ctx, "", "retire", fmt.Sprintf("weights verified on %s; retiring %s (no rollback past this point)", d.To, d.From), nil); err != nil {
			return err
		}
		r.failures = 0
	}
	if err := r.handoffScaling(ctx); err != nil {
		return deploy.Wrap("finalize", "", err, "hand auto scaling over")
	}
	cctx, cancel := awsCtx(ctx)
	err := r.c.o.Containers.UpdateService(cctx, svc.Cluster, svc.ECSServices[d.From], "", 0)
	cancel()
	if err != nil {
		return deploy.Wrap("finalize", "", err, "scale old slot down")
	}
	// The test listener reaches only the idle colour: after a release that is the old one. A failure
	// is retried like any other phase failure (the phase is idempotent), so it never stays on the live
	// colour; only after maxAttempts of a non-transient error does the release finish without it.
	if err := r.pointTestListener(ctx, d.From); err != nil && (transient(deploy.KindOf(err)) || r.failures < maxAttempts-1) {
		return deploy.Wrap("finalize", "", err, "point the test listener at the idle "+string(d.From))
	}
	now := r.now()
	d.State, d.FinishedAt = deploy.StateSucceeded, &now
	delay := r.deregDelayRead()
	return r.save(ctx, "", "succeeded", fmt.Sprintf("%s live on %s; %s scaled down after %s deregistration delay", d.ImageTag, d.To, d.From, delay),
		map[string]string{"previous_task_definition": d.PreviousTaskDef})
}

func (r *runner) deregDelayRead() string {
	if r.dereg != nil {
		return r.dereg.String()
	}
	return r.svc.DeregDelay.String()
}

// handoffScaling gives the new live slot the old one's auto scaling floor and ceiling with scaling
// active, then suspends the old slot at a floor of 0, so that neither target tracking nor the
// market-hours schedule scales the old slot back up. It is idempotent: once the old slot is suspended
// the hand-over has happened and is not repeated (its floor is 0 by then and must not be copied).
func (r *runner) handoffScaling(ctx context.Context) error {
	sc := r.c.o.Scaling
	if sc == nil {
		return nil
	}
	d, svc := r.d, r.svc
	cctx, cancel := awsCtx(ctx)
	defer cancel()
	from, err := sc.GetScaling(cctx, svc.Cluster, svc.ECSServices[d.From])
	if err != nil {
		return err
	}
	if !from.Registered || from.Suspended {
		return nil
	}
	to := deploy.ScalableTarget{Registered: true, Min: from.Min, Max: from.Max}
	if err := sc.SetScaling(cctx, svc.Cluster, svc.ECSServices[d.To], to); err != nil {
		return err
	}
	if err := sc.SetScaling(cctx, svc.Cluster, svc.ECSServices[d.From], deploy.ScalableTarget{Registered: true, Max: from.Max, Suspended: true}); err != nil {
		return err
	}
	r.c.event(ctx, d, "", "scaling.handoff", fmt.Sprintf("auto scaling %d-%d active on %s, suspended on %s", from.Min, from.Max, d.To, d.From),
		map[string]string{"min": strconv.Itoa(from.Min), "max": strconv.Itoa(from.Max)})
	return nil
}
