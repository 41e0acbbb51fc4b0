package controller

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/logging"
	"github.com/switchyard/switchyard/pkg/rollback"
	"github.com/switchyard/switchyard/pkg/shifter"
)

type cmdKind string

const (
	cmdAbort   cmdKind = "Abort"
	cmdPause   cmdKind = "Pause"
	cmdResume  cmdKind = "Resume"
	cmdPromote cmdKind = "Promote"
)

type command struct {
	kind  cmdKind
	req   deploy.ActionRequest
	reply chan cmdResult
}

type deferredEvent struct {
	actor, action, reason string
	state                 deploy.State
	detail                map[string]string
}

type cmdResult struct {
	d   *deploy.Deployment
	err error
}

// storeError marks a failed write of the record; the in-memory record has been restored to what is stored.
type storeError struct{ err error }

func (e *storeError) Error() string { return "store: " + e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }

// Attempts before a failing phase gives up: transient AWS errors (throttling, 5xx, time-outs) are
// retried this many times before a release is rolled back, and a rollback or a final scale-down that
// keeps failing is recorded as failed for an operator after this many attempts (four times as many
// for transient errors; a rollback's weight change itself is retried without limit).
const maxAttempts = 5

// errInterrupted tells a phase that the deployment's state changed under it (rollback, pause, promote)
// and the run loop must dispatch again.
var errInterrupted = errors.New("state changed")

// runner owns one active deployment: only it writes the record, so operator commands and triggers
// reach it through channels.
type runner struct {
	c    *Controller
	d    *deploy.Deployment
	svc  deploy.Service
	trig chan rollback.Trigger
	cmds chan command
	done chan struct{}

	// deferred holds audit events whose writes would otherwise sit between a rollback decision and the
	// weight change it announces; they are written right after the change is sent.
	deferring bool
	deferred  []deferredEvent

	// stored is the record as last written: a failed write restores it, so nothing in memory runs ahead
	// of the store.
	stored   deploy.Deployment
	failures int // consecutive failed phases (transient AWS errors are retried before giving up)

	health  rollback.HealthTracker
	pending *rollback.Trigger // the trigger that started the rollback in progress (for latency metrics)
	sentAt  time.Time
	watched bool
}

func newRunner(c *Controller, d *deploy.Deployment) *runner {
	return &runner{
		c: c, d: d, svc: d.Spec, stored: *d,
		trig:   make(chan rollback.Trigger, 1),
		cmds:   make(chan command),
		done:   make(chan struct{}),
		health: rollback.HealthTracker{Max: d.Spec.UnhealthyMax, After: d.Spec.UnhealthyAfter.D()},
	}
}

func (r *runner) now() time.Time { return r.c.o.Now().UTC() }

// logger is the deployment's logger with its id, service, current step and state.
func (r *runner) logger() *zap.Logger { return logging.ForDeployment(r.c.log, r.d) }

func (r *runner) run(ctx context.Context, recovering bool) {
	defer close(r.done)
	defer r.unwatch()
	if recovering {
		err := r.recover(ctx)
		r.c.recovering.Add(-1)
		if err != nil && ctx.Err() == nil {
			r.logger().Error("recovery failed", zap.Error(err))
		}
	}
	for !r.d.State.Terminal() {
		if ctx.Err() != nil {
			r.logger().Info("daemon stopping; deployment left for recovery")
			return
		}
		if r.guarded() {
			r.watch()
		}
		var err error
		switch r.d.State {
		case deploy.StatePending, deploy.StatePreparing:
			err = r.prepare(ctx)
		case deploy.StateShifting:
			err = r.shift(ctx)
		case deploy.StatePaused:
			err = r.guard(ctx, time.Time{}, true)
		case deploy.StateFinalizing:
			err = r.finalize(ctx)
		case deploy.StateRollingBack:
			err = r.rollBack(ctx)
		default:
			err = fmt.Errorf("unknown state %q", r.d.State)
		}
		if ctx.Err() != nil {
			continue
		}
		if err == nil || errors.Is(err, errInterrupted) {
			r.failures = 0
			continue
		}
		if !r.recoverPhase(ctx, err) {
			return
		}
	}
	r.finished()
}

// recoverPhase decides what a failed phase leads to; false stops the runner.
func (r *runner) recoverPhase(ctx context.Context, err error) bool {
	r.failures++
	kind := deploy.KindOf(err)
	r.logger().Error("deployment phase failed", zap.Error(err), zap.Int("attempt", r.failures))
	var se *storeError
	switch {
	case errors.As(err, &se) && kind == deploy.KindConflict:
		// Another writer changed the record (a second daemon on a shared store): it owns the deployment now.
		r.logger().Error("deployment record changed by another writer; this daemon stops running it")
		return false
	case errors.As(err, &se):
		r.wait(ctx, time.Second)
		return true
	case r.d.State == deploy.StateRollingBack:
		// Transient errors never end a rollback; others do after maxAttempts, for an operator.
		if r.failures >= maxAttempts && (!transient(kind) || r.failures >= 4*maxAttempts) {
			r.fail(ctx, "rollback could not complete: "+deploy.MessageOf(err))
		} else {
			r.wait(ctx, r.backoff(r.failures))
		}
		return true
	case r.d.RetireAt != nil:
		// Past the point of no return: the release is live; only the clean-up is left to finish.
		if r.failures >= maxAttempts && (!transient(kind) || r.failures >= 4*maxAttempts) {
			r.fail(ctx, fmt.Sprintf("%s is live on %s, but retiring %s failed: %s", r.d.ImageTag, r.d.To, r.d.From, deploy.MessageOf(err)))
		} else {
			r.wait(ctx, r.backoff(r.failures))
		}
		return true
	case transient(kind) && r.failures < maxAttempts:
		r.wait(ctx, r.backoff(r.failures))
		return true
	}
	if serr := r.startRollback(ctx, rollback.Trigger{Cause: deploy.CauseError, Reason: deploy.MessageOf(err), ObservedAt: time.Now()}, ""); serr != nil && !errors.Is(serr, errInterrupted) {
		r.logger().Error("could not record rollback", zap.Error(serr))
		r.wait(ctx, time.Second)
	}
	return true
}

func transient(k deploy.Kind) bool { return k == deploy.KindUnavailable || k == deploy.KindTimeout }

func (r *runner) backoff(attempt int) time.Duration {
	base := r.c.o.RetryBackoff
	return min(time.Duration(1<<min(attempt, 6))*base, 50*base)
}

// wait pauses for d while still reacting to rollback triggers and operator commands.
func (r *runner) wait(ctx context.Context, d time.Duration) {
	_ = r.guard(ctx, time.Now().Add(d), false)
}

// guarded reports whether the new release takes (or may take) traffic, so its alarms must be watched.
func (r *runner) guarded() bool {
	switch r.d.State {
	case deploy.StateShifting, deploy.StatePaused:
		return true
	case deploy.StateFinalizing:
		return r.d.RetireAt == nil
	}
	return false
}

// fail records a terminal failure that needs an operator, with the live weights in the reason.
func (r *runner) fail(ctx context.Context, reason string) {
	if routes, err := r.c.shifter.Read(ctx, r.svc); err == nil {
		reason += "; live weights: " + describeRoutes(routes)
	}
	now := r.now()
	r.d.State, r.d.Reason, r.d.FinishedAt = deploy.StateFailed, reason, &now
	if err := r.save(ctx, "", "failed", reason, nil); err != nil {
		r.logger().Error("could not record failure", zap.Error(err))
	}
}

// save persists the record (retrying while the store is unavailable: no side effect may run before its
// transition is stored) and appends an audit event.
func (r *runner) save(ctx context.Context, actor, action, reason string, detail map[string]string) error {
	r.d.UpdatedAt = r.now()
	r.d.Guard, r.d.Live = nil, nil
	delay := 50 * time.Millisecond
	for {
		err := r.c.store.UpdateDeployment(context.WithoutCancel(ctx), r.d)
		if err == nil {
			break
		}
		if deploy.KindOf(err) != deploy.KindUnavailable || !r.sleep(ctx, delay) {
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
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// awsCtx bounds one AWS call.
func awsCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, 15*time.Second)
}

// prepare registers the new task definition, brings the idle service up on it and waits until it is
// stable with every target healthy. Each part is idempotent, so a restart simply runs it again.
func (r *runner) prepare(ctx context.Context) error {
	d, svc := r.d, r.svc
	if d.State == deploy.StatePending {
		d.State = deploy.StatePreparing
		now := r.now()
		d.StepStartedAt = &now
		if err := r.save(ctx, "", "prepare", "bringing "+string(d.To)+" up", nil); err != nil {
			return err
		}
	}
	if d.TaskDef == "" {
		cctx, cancel := awsCtx(ctx)
		from, err := r.c.o.Containers.DescribeService(cctx, svc.Cluster, svc.ECSServices[d.From])
		cancel()
		if err != nil {
			return deploy.Wrap("prepare", "", err, "describe live service")
		}
		cctx, cancel = awsCtx(ctx)
		to, err := r.c.o.Containers.DescribeService(cctx, svc.Cluster, svc.ECSServices[d.To])
		cancel()
		if err != nil {
			return deploy.Wrap("prepare", "", err, "describe idle service")
		}
		cctx, cancel = awsCtx(ctx)
		td, err := r.c.o.Containers.RegisterTaskDefinition(cctx, from.TaskDefinition, svc.Container, d.Image, map[string]string{
			"switchyard:deployment-id": d.ID, "switchyard:service": d.Service, "switchyard:image-tag": d.ImageTag})
		cancel()
		if err != nil {
			return deploy.Wrap("prepare", "", err, "register task definition")
		}
		d.PreviousTaskDef, d.PreviousToTaskDef, d.TaskDef = from.TaskDefinition, to.TaskDefinition, td
		d.DesiredCount = max(from.DesiredCount, 1)
		if err := r.save(ctx, "", "taskdef.registered", "", map[string]string{"task_definition": td,
			"previous": from.TaskDefinition, "desired_count": strconv.Itoa(d.DesiredCount)}); err != nil {
			return err
		}
	}
	cctx, cancel := awsCtx(ctx)
	to, err := r.c.o.Containers.DescribeService(cctx, svc.Cluster, svc.ECSServices[d.To])
	cancel()
	if err != nil {
		return deploy.Wrap("prepare", "", err, "describe idle service")
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
	start := r.now()
	if d.StepStartedAt != nil {
		start = *d.StepStartedAt
	}
	deadline := start.Add(svc.ReadyTimeout.D())
	last := ""
	for {
		ready, why, trig, err := r.checkReady(ctx)
		if err != nil {
			r.logger().Warn("readiness check failed", zap.Error(err))
		}
		if trig != nil {
			return r.startRollback(ctx, *trig, "")
		}
		if ready {
			break
		}
		if why != last {
			r.logger().Info("waiting for new slot", zap.String("why", why))
			last = why
		}
		if !r.now().Before(deadline) {
			return r.startRollback(ctx, rollback.Trigger{Cause: deploy.CauseTimeout, ObservedAt: time.Now(),
				Reason: fmt.Sprintf("%s not ready within %s: %s", svc.ECSServices[d.To], svc.ReadyTimeout, why)}, "")
		}
		if err := r.guard(ctx, r.now().Add(r.c.o.PollInterval), false); err != nil {
			return err
		}
	}
	hold := d.Strategy.PauseBeforeTraffic && !d.Promote
	if err := r.pointTestListener(ctx, d.To); err != nil && hold {
		// The release is held so that it can be checked on the test listener: that must work.
		return deploy.Wrap("prepare", "", err, "point the test listener at "+string(d.To))
	}
	d.State, d.Step, d.StepStartedAt = deploy.StateShifting, 0, nil
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

// pointTestListener makes the test listener forward to slot only and reads it back. A failure is
// recorded; it stops a release only when the release is to be held for checks on the test listener
// (production traffic does not depend on the test listener).
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

// checkReady reads the idle service and its targets once.
func (r *runner) checkReady(ctx context.Context) (bool, string, *rollback.Trigger, error) {
	svc := r.svc
	cctx, cancel := awsCtx(ctx)
	defer cancel()
	es, err := r.c.o.Containers.DescribeService(cctx, svc.Cluster, svc.ECSServices[r.d.To])
	if err != nil {
		return false, "describe service failed", nil, err
	}
	if t, failed := rollback.ECSFailure(es, time.Now()); failed && es.TaskDefinition == r.d.TaskDef {
		return false, t.Reason, &t, nil
	}
	targets, err := r.c.o.Router.TargetHealth(cctx, svc.TargetGroups[r.d.To])
	if err != nil {
		return false, "target health unavailable", nil, err
	}
	ok, why := rollback.Ready(es, r.d.TaskDef, targets)
	return ok, why, nil, nil
}

// shift applies the current step's weights and bakes it.
func (r *runner) shift(ctx context.Context) error {
	d := r.d
	r.watch()
	if d.Promote && d.Step < len(d.Steps)-1 {
		d.Step = len(d.Steps) - 1
		d.StepStartedAt = nil
		if err := r.save(ctx, "", "promote.skip", "skipping to 100%", nil); err != nil {
			return err
		}
	}
	step, ok := d.CurrentStep()
	if !ok {
		return fmt.Errorf("step %d out of range (%d steps)", d.Step, len(d.Steps))
	}
	target := deploy.Split(d.To, step.Percent)
	if d.Weights != target || d.Intended != nil {
		if err := r.setWeights(ctx, target, fmt.Sprintf("step %d/%d: %g%% to %s", d.Step+1, len(d.Steps), step.Percent, d.To)); err != nil {
			return err
		}
	}
	if d.StepStartedAt == nil {
		now := r.now()
		d.StepStartedAt = &now
		if err := r.save(ctx, "", "", "", nil); err != nil {
			return err
		}
	}
	if d.Step == len(d.Steps)-1 {
		r.observeStep()
		now := r.now()
		d.State, d.ShiftedAt = deploy.StateFinalizing, &now
		return r.save(ctx, "", "shifted", "all traffic on "+string(d.To), nil)
	}
	if err := r.guard(ctx, d.StepStartedAt.Add(step.Bake.D()), true); err != nil {
		return err
	}
	r.observeStep()
	d.Step++
	d.StepStartedAt = nil
	return r.save(ctx, "", "step.baked", fmt.Sprintf("step %d/%d baked", d.Step, len(d.Steps)), nil)
}

func (r *runner) observeStep() {
	if m := r.c.o.Metrics; m != nil && r.d.StepStartedAt != nil {
		m.StepDuration.WithLabelValues(r.d.Service).Observe(r.now().Sub(*r.d.StepStartedAt).Seconds())
	}
}

// setWeights journals the intended weights, sends them and records them once verified.
func (r *runner) setWeights(ctx context.Context, w deploy.Weights, why string) error {
	d := r.d
	if err := w.Validate(); err != nil {
		return err
	}
	if d.Intended == nil || *d.Intended != w {
		d.Intended = &w
		if err := r.save(ctx, "", "weights.intent", why, map[string]string{"weights": shifter.Describe(w), "previous": shifter.Describe(d.Weights)}); err != nil {
			return err
		}
	}
	sctx, cancel := context.WithTimeout(ctx, r.svc.StepTimeout.D())
	err := r.shifter().Apply(sctx, r.svc, w)
	cancel()
	r.flush(ctx)
	if err != nil {
		return deploy.Wrap("setWeights", "", err, "apply "+w.String())
	}
	d.Weights, d.Intended = w, nil
	return r.save(ctx, "", "weights.verified", why, map[string]string{"weights": shifter.Describe(w)})
}

// shifter returns a shifter that records when a rollback's first modify call leaves.
func (r *runner) shifter() *shifter.Shifter {
	s := *r.c.shifter
	s.OnSend = func() { r.sentAt = time.Now() }
	return &s
}

// finalize waits out the old target group's deregistration delay (still guarded: the old slot is up, so
// a rollback is one weight change away), then passes the point of no return and retires the old slot:
// auto scaling handed over, scaled to zero. Its task definition is kept.
func (r *runner) finalize(ctx context.Context) error {
	d, svc := r.d, r.svc
	delay := svc.DeregDelay.D()
	if d.RetireAt == nil {
		cctx, cancel := awsCtx(ctx)
		if live, err := r.c.o.Router.DeregistrationDelay(cctx, svc.TargetGroups[d.From]); err == nil {
			delay = live
		}
		cancel()
		shifted := r.now()
		if d.ShiftedAt != nil {
			shifted = *d.ShiftedAt
		}
		if err := r.guard(ctx, shifted.Add(delay), true); err != nil {
			return err
		}
		// Weights are read back once more: the old slot is retired only when the ALB really sends it nothing.
		cctx, cancel = awsCtx(ctx)
		live, consistent, _, err := r.c.shifter.Live(cctx, svc)
		cancel()
		if err != nil {
			return deploy.Wrap("finalize", "", err, "verify weights before scale-down")
		}
		if !consistent || live != deploy.AllOn(d.To) {
			return deploy.Errorf("finalize", deploy.KindPrecondition, "weights changed outside switchyard (%s); not scaling %s down", live, d.From)
		}
		r.unwatch()
		// A trigger that arrived while the weights were read still counts: the old slot is intact.
		select {
		case t := <-r.trig:
			return r.startRollback(ctx, t, "")
		default:
		}
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
	// The test listener reaches only the idle colour: after a release that is the old one.
	_ = r.pointTestListener(ctx, d.From) // recorded; the release is done either way
	now := r.now()
	d.State, d.FinishedAt = deploy.StateSucceeded, &now
	return r.save(ctx, "", "succeeded", fmt.Sprintf("%s live on %s; %s scaled down after %s deregistration delay", d.ImageTag, d.To, d.From, delay),
		map[string]string{"previous_task_definition": d.PreviousTaskDef})
}

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
		r.wait(ctx, r.backoff(attempt))
	}
	if t := r.pending; t != nil {
		verified := time.Since(t.ObservedAt)
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

// guard waits until `until` (forever when zero), reacting to rollback triggers and operator commands;
// with health set it also checks the new slot's ECS service and targets every poll interval.
func (r *runner) guard(ctx context.Context, until time.Time, health bool) error {
	var timer <-chan time.Time
	if !until.IsZero() {
		t := time.NewTimer(time.Until(until))
		defer t.Stop()
		timer = t.C
	}
	tick := time.NewTicker(r.c.o.PollInterval)
	defer tick.Stop()
	state := r.d.State
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case t := <-r.trig:
			return r.startRollback(ctx, t, "")
		case cmd := <-r.cmds:
			d, err := r.handle(ctx, cmd)
			cmd.reply <- cmdResult{d: d, err: err}
			if r.d.State != state || (r.d.Promote && state == deploy.StateShifting) {
				return errInterrupted
			}
		case <-timer:
			return nil
		case <-tick.C:
			if health && r.d.TaskDef != "" {
				if t := r.checkHealth(ctx); t != nil {
					return r.startRollback(ctx, *t, "")
				}
			}
		}
	}
}

// checkHealth polls the new slot once: ECS deployment failure, or targets unhealthy past the threshold.
func (r *runner) checkHealth(ctx context.Context) *rollback.Trigger {
	svc := r.svc
	cctx, cancel := awsCtx(ctx)
	defer cancel()
	es, err := r.c.o.Containers.DescribeService(cctx, svc.Cluster, svc.ECSServices[r.d.To])
	if err == nil {
		if t, failed := rollback.ECSFailure(es, time.Now()); failed {
			return &t
		}
	} else {
		r.logger().Warn("health poll: describe service failed", zap.Error(err))
	}
	targets, err := r.c.o.Router.TargetHealth(cctx, svc.TargetGroups[r.d.To])
	if err != nil {
		r.logger().Warn("health poll: target health failed", zap.Error(err))
		return nil
	}
	if t, bad := r.health.Observe(targets, time.Now()); bad {
		return &t
	}
	return nil
}

// handle applies an operator command to the record.
func (r *runner) handle(ctx context.Context, cmd command) (*deploy.Deployment, error) {
	d := r.d
	op := "controller." + string(cmd.kind)
	snapshot := func() *deploy.Deployment { c := *d; return &c }
	switch cmd.kind {
	case cmdAbort:
		if d.RetireAt != nil {
			return nil, deploy.Errorf(op, deploy.KindPrecondition, "deployment is retiring %s after verifying all traffic on %s; too late to abort (deploy the previous tag instead)", d.From, d.To)
		}
		reason := "aborted by " + cmd.req.Actor
		if cmd.req.Reason != "" {
			reason += ": " + cmd.req.Reason
		}
		if err := r.startRollback(ctx, rollback.Trigger{Cause: deploy.CauseAbort, Reason: reason, ObservedAt: time.Now()}, cmd.req.Actor); err != nil && !errors.Is(err, errInterrupted) {
			return nil, err
		}
		return snapshot(), nil
	case cmdPause:
		if d.State != deploy.StateShifting && d.State != deploy.StatePreparing {
			return nil, deploy.Errorf(op, deploy.KindPrecondition, "cannot pause a deployment that is %s", d.State)
		}
		d.PausedFrom, d.State = d.State, deploy.StatePaused
		if err := r.save(ctx, cmd.req.Actor, "pause", cmd.req.Reason, map[string]string{"weights": d.Weights.String()}); err != nil {
			return nil, err
		}
		return snapshot(), nil
	case cmdResume:
		if d.State != deploy.StatePaused {
			return nil, deploy.Errorf(op, deploy.KindPrecondition, "cannot resume a deployment that is %s", d.State)
		}
		d.State, d.PausedFrom = d.PausedFrom, ""
		if d.State == deploy.StateShifting && d.StepStartedAt != nil {
			now := r.now()
			d.StepStartedAt = &now // the bake starts again: the release was not watched advancing
		}
		if err := r.save(ctx, cmd.req.Actor, "resume", cmd.req.Reason, nil); err != nil {
			return nil, err
		}
		return snapshot(), nil
	case cmdPromote:
		switch d.State {
		case deploy.StatePreparing, deploy.StateShifting, deploy.StatePaused:
		case deploy.StateFinalizing:
			return nil, deploy.Errorf(op, deploy.KindPrecondition, "deployment already sends all traffic to %s", d.To)
		default:
			return nil, deploy.Errorf(op, deploy.KindPrecondition, "cannot promote a deployment that is %s", d.State)
		}
		d.Promote = true
		if d.State == deploy.StatePaused {
			d.State, d.PausedFrom = d.PausedFrom, ""
		}
		if err := r.save(ctx, cmd.req.Actor, "promote", cmd.req.Reason, nil); err != nil {
			return nil, err
		}
		return snapshot(), nil
	}
	return nil, deploy.Errorf(op, deploy.KindInternal, "unknown command")
}

// watch registers the deployment's alarms with the monitor (once).
func (r *runner) watch() {
	if r.watched {
		return
	}
	names := r.svc.AlarmsFor(r.d.To)
	if len(names) == 0 {
		return
	}
	r.watched = true
	r.c.monitor.Watch(r.d.ID, names, func(t rollback.Trigger) {
		select {
		case r.trig <- t:
		default: // a trigger is already pending
		}
	})
}

func (r *runner) unwatch() {
	if r.watched {
		r.c.monitor.Unwatch(r.d.ID)
		r.watched = false
	}
}

func (r *runner) finished() {
	d := r.d
	if m := r.c.o.Metrics; m != nil {
		m.Deployments.WithLabelValues(d.Service, string(d.State)).Inc()
	}
	r.logger().Info("deployment finished", zap.String("state", string(d.State)), zap.String("reason", d.Reason))
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
