package controller

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/rollback"
)

// prepare registers the new task definition, brings the idle service up on it and waits until it is
// stable with every target healthy. Each part is idempotent, so a restart simply runs it again.
func (r *runner) prepare(ctx context.Context) error {
	d, svc := r.d, r.svc
	if d.State == deploy.StatePending {
		// The create check may have answered from the route cache: nothing moves until the ALB itself
		// says the live slot carries everything.
		cctx, cancel := awsCtx(ctx)
		live, consistent, routes, err := r.c.shifter.Live(cctx, svc)
		cancel()
		if err != nil {
			return deploy.Wrap("prepare", "", err, "read live weights")
		}
		if !consistent || live != d.Weights {
			r.fail(ctx, fmt.Sprintf("live weights changed since the deployment was accepted (%s, expected %s); nothing was changed", describeRoutes(routes), d.Weights))
			return nil
		}
		d.State = deploy.StatePreparing
		now := r.now()
		d.StepStartedAt = &now
		if err := r.save(ctx, "", "prepare", "bringing "+string(d.To)+" up", nil); err != nil {
			return err
		}
	}
	// Both colours in one batched read: it serves the registration and the update check.
	cctx, cancel := awsCtx(ctx)
	both, err := r.c.o.Containers.DescribeServices(cctx, svc.Cluster, []string{svc.ECSServices[d.From], svc.ECSServices[d.To]})
	cancel()
	if err != nil {
		return deploy.Wrap("prepare", "", err, "describe the live and idle services")
	}
	from, okFrom := both[svc.ECSServices[d.From]]
	to, okTo := both[svc.ECSServices[d.To]]
	if !okFrom || !okTo {
		return deploy.Errorf("prepare", deploy.KindPrecondition, "ECS services %s and %s must both exist in %s", svc.ECSServices[d.From], svc.ECSServices[d.To], svc.Cluster)
	}
	if d.TaskDef == "" {
		if err := r.registerTaskDef(ctx, from, to); err != nil {
			return err
		}
	}
	if to.TaskDefinition != d.TaskDef || to.DesiredCount != d.DesiredCount {
		cctx, cancel := awsCtx(ctx)
		err := r.c.o.Containers.UpdateService(cctx, svc.Cluster, svc.ECSServices[d.To], d.TaskDef, d.DesiredCount)
		cancel()
		if err != nil {
			return deploy.Wrap("prepare", "", err, "update idle service")
		}
		r.c.event(ctx, d, "", "service.updated", "", map[string]string{"ecs_service": svc.ECSServices[d.To],
			"task_definition": d.TaskDef, "desired_count": strconv.Itoa(d.DesiredCount)})
	}
	if err := r.awaitReady(ctx); err != nil {
		return err
	}
	hold := d.Strategy.PauseBeforeTraffic && !d.Promote
	if err := r.pointTestListener(ctx, d.To); err != nil && hold {
		// The release is held so that it can be checked on the test listener: that must work.
		return deploy.Wrap("prepare", "", err, "point the test listener at "+string(d.To))
	}
	now := r.now()
	d.State, d.Step, d.StepStartedAt, d.StepReadyAt = deploy.StateShifting, 0, nil, &now
	if hold {
		// One write: a crash or a failed write can never let traffic move past the hold.
		d.PausedFrom, d.State = deploy.StateShifting, deploy.StatePaused
	}
	if err := r.save(ctx, "", "ready", fmt.Sprintf("%s stable and healthy with %d task(s)", svc.ECSServices[d.To], d.DesiredCount), nil); err != nil {
		return err
	}
	if hold {
		r.c.event(ctx, d, "", "pause", "pause_before_traffic: check the release on the test listener, then resume or promote", nil)
	}
	return nil
}

func (r *runner) registerTaskDef(ctx context.Context, from, to deploy.ECSService) error {
	d, svc := r.d, r.svc
	cctx, cancel := awsCtx(ctx)
	defer cancel()
	td, err := r.c.o.Containers.RegisterTaskDefinition(cctx, from.TaskDefinition, svc.Container, d.Image, map[string]string{
		"switchyard:deployment-id": d.ID, "switchyard:service": d.Service, "switchyard:image-tag": d.ImageTag})
	if err != nil {
		return deploy.Wrap("prepare", "", err, "register task definition")
	}
	d.PreviousTaskDef, d.PreviousToTaskDef, d.TaskDef = from.TaskDefinition, to.TaskDefinition, td
	d.DesiredCount = max(from.DesiredCount, 1)
	return r.save(ctx, "", "taskdef.registered", "", map[string]string{"task_definition": td,
		"previous": from.TaskDefinition, "desired_count": strconv.Itoa(d.DesiredCount)})
}

// awaitReady waits, on the observer's batched readings, until the new slot is stable on the new task
// definition with every target healthy, or rolls back on an ECS failure or when ready_timeout passes.
func (r *runner) awaitReady(ctx context.Context) error {
	d, svc := r.d, r.svc
	start := r.now()
	if d.StepStartedAt != nil {
		start = *d.StepStartedAt
	}
	deadline := start.Add(svc.ReadyTimeout.D())
	r.watch(false)
	last := ""
	var demanded time.Time // the service reading the last target demand was made for
	overdue := false       // past the deadline, waiting for a current reading
	for {
		rd := r.c.obs.Readings(d.ID)
		now := r.now()
		why := "waiting for the first reading"
		if rd.ServicePresent {
			if t, failed := rollback.ECSFailure(rd.Service, now); failed && rd.Service.TaskDefinition == d.TaskDef {
				return r.startRollback(ctx, t, "")
			}
			var ready bool
			ready, why = rollback.Ready(rd.Service, d.TaskDef, rd.Targets)
			if ready && rd.TargetsAt.After(start) {
				return nil
			}
			if rd.Service.Stable() && rd.Service.TaskDefinition == d.TaskDef && rd.ServiceAt.After(demanded) && !rd.TargetsAt.After(rd.ServiceAt) {
				// Targets are the last thing to come up: look once per new service reading.
				r.c.obs.DemandTargets(d.ID)
				demanded = rd.ServiceAt
			}
		} else if rd.ServiceErr != "" {
			why = rd.ServiceErr
		}
		if why != last {
			r.logger().Info("waiting for new slot", zap.String("why", why))
			last = why
		}
		if !now.Before(deadline) {
			// Only a current reading proves "not ready": readings held up by the API budget (a burst of
			// deployments in a shared account) extend the wait, up to guard_stale_after more.
			current := rd.ServiceAt.After(deadline.Add(-r.c.o.PollInterval)) && rd.TargetsAt.After(deadline.Add(-r.c.o.PollInterval))
			if current || now.Sub(deadline) > r.guardSpec().StaleAfter {
				return r.startRollback(ctx, rollback.Trigger{Cause: deploy.CauseTimeout, ObservedAt: now,
					Reason: fmt.Sprintf("%s not ready within %s: %s", svc.ECSServices[d.To], svc.ReadyTimeout, why)}, "")
			}
			if !overdue {
				r.c.obs.Demand(d.ID)
				overdue = true
			}
		}
		wait := r.c.o.PollInterval
		if d := deadline.Sub(now); d > 0 {
			wait = min(wait, d)
		}
		wake, stop := r.c.clock.After(wait)
		state := d.State
		select {
		case <-ctx.Done():
			stop()
			return ctx.Err()
		case <-wake:
		case <-r.notify:
		case cmd := <-r.cmds:
			r.apply(ctx, cmd)
			if d.State != state || d.Promote {
				stop()
				return errInterrupted
			}
		}
		stop()
	}
}

func (r *runner) pointTestListener(ctx context.Context, slot deploy.Slot) error {
	route := r.svc.TestRoute
	if route == nil {
		return nil
	}
	tg := r.svc.TargetGroups[slot]
	err := r.forwardTestListener(ctx, *route, tg)
	if err != nil {
		r.logger().Warn("test listener not re-pointed", zap.Error(err))
		r.c.event(ctx, r.d, "", "test_listener.failed", deploy.MessageOf(err), map[string]string{"slot": string(slot)})
		return err
	}
	r.c.event(ctx, r.d, "", "test_listener", "test listener forwards to "+string(slot)+" only", map[string]string{"target_group": tg})
	return nil
}

func (r *runner) forwardTestListener(ctx context.Context, route deploy.Route, tg string) error {
	const op = "testListener"
	for _, prod := range r.svc.Routes {
		if prod.ListenerARN == route.ListenerARN {
			// Never: forwarding a production listener to one colour would bypass every weight step.
			return deploy.Errorf(op, deploy.KindPrecondition, "test listener %s is a production listener", route.ListenerARN)
		}
	}
	cctx, cancel := awsCtx(ctx)
	defer cancel()
	if err := r.c.o.Router.ForwardTo(cctx, route, tg); err != nil {
		return err
	}
	w, err := r.c.o.Router.GetWeights(cctx, route)
	if err != nil {
		return err
	}
	for arn, weight := range w {
		if (arn == tg) != (weight > 0) {
			return deploy.Errorf(op, deploy.KindPrecondition, "test listener reads back %v", w)
		}
	}
	if w[tg] == 0 {
		return deploy.Errorf(op, deploy.KindPrecondition, "test listener reads back %v, without %s", w, tg)
	}
	return nil
}
