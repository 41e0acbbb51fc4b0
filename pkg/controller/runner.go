package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/logging"
	"github.com/switchyard/switchyard/pkg/rollback"
)

// Attempts before a failing phase gives up: transient AWS errors (5xx, time-outs) are retried this many
// times before a release is rolled back, and a rollback or a final scale-down that keeps failing is
// recorded as failed for an operator after this many attempts (four times as many for transient
// errors; a rollback's weight change itself is retried without limit). Throttling never counts: it is
// back-pressure, and only slows a deployment down.
const maxAttempts = 5

// errInterrupted tells a phase that the deployment's state changed under it (rollback, pause, promote)
// and the run loop must dispatch again.
var errInterrupted = errors.New("state changed")

// runner owns one active deployment: only it writes the record, so operator commands reach it through
// a channel and guard readings through the observer's notifications.
type runner struct {
	c    *Controller
	d    *deploy.Deployment
	svc  deploy.Service
	cmds chan command
	done chan struct{}

	// deferred holds audit events whose writes would otherwise sit between a rollback decision and the
	// weight change it announces; they are written right after the change is sent.
	deferring bool
	deferred  []deferredEvent

	// stored is the record as last written: a failed write restores it, so nothing in memory runs ahead
	// of the store.
	stored    deploy.Deployment
	failures  int // consecutive failed phases (transient AWS errors are retried before giving up)
	throttled int // consecutive throttled phases (only for backoff)

	notify      <-chan struct{} // the observer's "new readings" signal
	watching    string          // what is watched: "", "prepare" or "guard"
	watchedFrom time.Time       // when guarding began (a guard never read is stale only after this)
	phaseSince  time.Time       // when the current guarded phase began (fresh readings must be newer)
	demandedFor time.Time       // the freshSince a sooner reading was last asked for
	health      rollback.HealthTracker
	healthAt    time.Time // the target reading last fed to health
	unhealthy   *rollback.Trigger
	rearmed     map[string]bool // forced alarms seen OK since: they guard normally again

	dereg        *time.Duration    // the old target group's deregistration delay, once read
	sent         *deploy.Weights   // a forward change sent but not yet verified
	lastConflict time.Time         // the last version conflict adopted
	pending      *rollback.Trigger // the trigger that started the rollback in progress (for latency metrics)
	sentAt       time.Time

	cancel   context.CancelFunc // stops the runner (its lease was lost, or it finished)
	fenceCtx context.Context    // carries the runner's lease fence, never cancelled (command outcomes)

	analysisNotify <-chan struct{} // the analysis' "new verdict" signal, nil when none runs
	analysisSaved  time.Time       // the last checkpoint of the analysis
	heldWhy        string          // the last decision's reason (a step hold is audited once per reason)
}

type deferredEvent struct {
	actor, action, reason string
	state                 deploy.State
	detail                map[string]string
}

func newRunner(c *Controller, d *deploy.Deployment) *runner {
	return &runner{
		c: c, d: d, svc: d.Spec, stored: *d,
		cmds:    make(chan command),
		done:    make(chan struct{}),
		health:  rollback.HealthTracker{Max: d.Spec.UnhealthyMax, After: d.Spec.UnhealthyAfter.D()},
		rearmed: map[string]bool{},
	}
}

func (r *runner) now() time.Time { return r.c.clock.Now().UTC() }

// logger is the deployment's logger with its id, service, current step and state.
func (r *runner) logger() *zap.Logger { return logging.ForDeployment(r.c.log, r.d) }

func (r *runner) run(ctx context.Context, recovering bool) {
	defer close(r.done)
	defer r.unwatch()
	defer r.quitAnalysis()
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
		var err error
		switch r.d.State {
		case deploy.StatePending, deploy.StatePreparing:
			if r.d.State == deploy.StatePending && r.d.StartAt != nil && r.now().Before(*r.d.StartAt) {
				r.awaitStart(ctx)
				continue
			}
			err = r.prepare(ctx)
		case deploy.StateShifting, deploy.StatePaused:
			err = r.reconcile(ctx)
		case deploy.StateFinalizing:
			if r.d.RetireAt == nil {
				err = r.reconcile(ctx)
			} else {
				err = r.retire(ctx)
			}
		case deploy.StateRollingBack:
			err = r.rollBack(ctx)
		default:
			err = fmt.Errorf("unknown state %q", r.d.State)
		}
		if ctx.Err() != nil {
			continue
		}
		if errors.Is(err, deploy.ErrLeaseLost) {
			r.logger().Warn("lease lost: another daemon runs this deployment now; this one stops before any further side effect")
			return
		}
		if errors.Is(err, errYield) {
			r.logger().Error("deployment record keeps changing under this daemon: another daemon drives it; this one stops")
			return
		}
		if err == nil || errors.Is(err, errInterrupted) {
			r.failures, r.throttled = 0, 0
			continue
		}
		r.recoverPhase(ctx, err)
	}
	r.finished()
}

// recoverPhase decides what a failed phase leads to. It never stops the runner: a deployment that may
// hold traffic split always keeps its driver.
func (r *runner) recoverPhase(ctx context.Context, err error) {
	kind := deploy.KindOf(err)
	if kind == deploy.KindThrottled {
		r.throttled++
		r.logger().Warn("throttled by AWS; slowing down", zap.Error(err), zap.Int("in_a_row", r.throttled))
		r.idle(ctx, r.backoff(r.throttled))
		return
	}
	r.failures++
	r.logger().Error("deployment phase failed", zap.Error(err), zap.Int("attempt", r.failures))
	var se *storeError
	switch {
	case errors.As(err, &se):
		r.idle(ctx, time.Second)
	case r.d.State == deploy.StateRollingBack:
		// Transient errors never end a rollback; others do after maxAttempts, for an operator.
		if r.failures >= maxAttempts && (!transient(kind) || r.failures >= 4*maxAttempts) {
			r.fail(ctx, "rollback could not complete: "+deploy.MessageOf(err))
		} else {
			r.idle(ctx, r.backoff(r.failures))
		}
	case r.d.RetireAt != nil:
		// Past the point of no return: the release is live; only the clean-up is left to finish.
		if r.failures >= maxAttempts && (!transient(kind) || r.failures >= 4*maxAttempts) {
			r.fail(ctx, fmt.Sprintf("%s is live on %s, but retiring %s failed: %s", r.d.ImageTag, r.d.To, r.d.From, deploy.MessageOf(err)))
		} else {
			r.idle(ctx, r.backoff(r.failures))
		}
	case transient(kind) && r.failures < maxAttempts:
		r.idle(ctx, r.backoff(r.failures))
	default:
		t := rollback.Trigger{Cause: deploy.CauseError, Reason: deploy.MessageOf(err), ObservedAt: r.now()}
		if serr := r.startRollback(ctx, t, ""); serr != nil && !errors.Is(serr, errInterrupted) {
			r.logger().Error("could not record rollback", zap.Error(serr))
			r.idle(ctx, time.Second)
		}
	}
}

func transient(k deploy.Kind) bool {
	return k == deploy.KindUnavailable || k == deploy.KindTimeout || k == deploy.KindThrottled
}

func (r *runner) backoff(attempt int) time.Duration {
	base := r.c.o.RetryBackoff
	return min(time.Duration(1<<min(attempt, 6))*base, 50*base)
}

// idle waits for d while still honouring guard triggers (in a state that may carry traffic) and
// operator commands.
func (r *runner) idle(ctx context.Context, d time.Duration) {
	wake, stop := r.c.clock.After(d)
	defer stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-wake:
			return
		case cmd := <-r.cmds:
			if r.apply(ctx, cmd) {
				return
			}
		case <-r.notify:
			if !r.guarded() {
				continue
			}
			if v, _ := r.evaluate(); v.trigger() != nil {
				_ = r.startRollback(ctx, *v.trigger(), "")
				return
			}
		case <-r.analysisNotify:
			if t := analysisTrigger(r.analysisRun(), r.now()); t != nil && r.guarded() {
				_ = r.startRollback(ctx, *t, "")
				return
			}
		}
	}
}

// awaitStart holds a pending deployment until its StartAt (deploy --at): nothing is read or changed
// before, so nothing is guarded; an abort ends it.
func (r *runner) awaitStart(ctx context.Context) {
	wake, stop := r.c.clock.After(r.d.StartAt.Sub(r.now()))
	defer stop()
	select {
	case <-ctx.Done():
	case <-wake:
	case cmd := <-r.cmds:
		r.apply(ctx, cmd)
	}
}

// guarded reports whether the new release takes (or may take) traffic, so its guards must hold.
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

func (r *runner) finished() {
	d := r.d
	r.c.routes.invalidate(d.Service)
	if m := r.c.o.Metrics; m != nil {
		m.Deployments.WithLabelValues(d.Service, string(d.State)).Inc()
	}
	r.logger().Info("deployment finished", zap.String("state", string(d.State)), zap.String("reason", d.Reason))
}

// awsCtx bounds one AWS call, including its wait for the daemon's API budget: in a burst of
// deployments that wait is the back-pressure, and a call that gave up on it would only be repeated.
func awsCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, time.Minute)
}
