package controller

// Regression tests for failure windows found in review: each once demonstrated a bug.

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// 1. A deployment paused mid-canary is no longer guarded by its alarms after a daemon restart:
// run() dispatches StatePaused straight to guard() and nobody calls r.watch().
func TestRegressionPausedNotGuardedAfterRestart(t *testing.T) {
	store := newMemStore()
	e := newEnv(t, store, nil, nil, nil)
	s := deploy.Strategy{Type: deploy.StrategyCanary, Bake: deploy.Duration(time.Hour)}
	d := e.create("v2", &s)
	e.waitFor(d.ID, "canary", func(d *deploy.Deployment) bool { return d.State == deploy.StateShifting && d.StepStartedAt != nil })
	if _, err := e.c.Pause(context.Background(), deploy.ActionRequest{ID: d.ID, Actor: "op"}); err != nil {
		t.Fatal(err)
	}
	e.waitState(d.ID, deploy.StatePaused)
	e.stop()

	e2 := newEnv(t, store, e.router, e.ecs, e.alarms)
	e2.waitFor(d.ID, "recover event", func(*deploy.Deployment) bool { return slices.Contains(store.actions(d.ID), "recover") })
	e2.alarms.set("alarm-5xx", "ALARM") // 10% of users are now getting 5xx from green
	got := e2.waitFor(d.ID, "rollback of the paused canary", func(d *deploy.Deployment) bool { return d.State != deploy.StatePaused })
	t.Logf("state after alarm: %s", got.State)
}

// 2. Recovery of a pending/preparing deployment whose routes carry an unexplained split: startRollback
// journals no Intended because the *record* says AllOn(From), rollBack trusts the record and never touches
// the ALB, then scales the new slot (which receives ~50% of the traffic) to 0 and says "rolled_back".
func TestRegressionRecoveryUnexplainedSplitWhilePreparing(t *testing.T) {
	store := newMemStore()
	e := newEnv(t, store, nil, nil, nil)
	e.ecs.tg["svc-green"] = "arn:unused" // green never turns healthy, so the deployment stays preparing
	d := e.create("v2", nil)
	e.waitFor(d.ID, "preparing", func(d *deploy.Deployment) bool { return d.State == deploy.StatePreparing && d.TaskDef != "" })
	e.stop()
	e.router.set(e.svc.Routes[1], map[string]int{blueTG: 500, greenTG: 499}) // hand edit while the daemon was down

	e2 := newEnv(t, store, e.router, e.ecs, e.alarms)
	done := e2.waitFor(d.ID, "terminal", func(d *deploy.Deployment) bool { return d.State.Terminal() })
	green, _ := e2.ecs.DescribeService(context.Background(), "", "svc-green")
	t.Logf("state=%s cause=%s routes=%v green desired=%d updates=%v", done.State, done.Cause, e2.routeWeights(), green.DesiredCount, e2.ecs.updates)
	e2.assertAllOn(deploy.SlotBlue)
}

// lossyECS applies UpdateService but reports a transient failure for the first `lose` scale-downs of
// svc-blue, as when ECS accepted the call and the response was lost.
type lossyECS struct {
	*fakeECS
	lose int
}

func (l *lossyECS) UpdateService(ctx context.Context, cluster, name, td string, desired int) error {
	err := l.fakeECS.UpdateService(ctx, cluster, name, td, desired)
	if err == nil && name == "svc-blue" && desired == 0 && l.lose != 0 {
		l.lose--
		return deploy.Errorf("ecs.UpdateService", deploy.KindUnavailable, "RequestTimeout (response lost)")
	}
	return err
}

// 3. An error after finalize's scale-down must never send traffic back to the scaled-down slot: the
// scale-down is retried (it is idempotent) and the release finishes, or ends failed for an operator.
func TestRegressionFinalizeErrorNeverRollsBackToScaledDownSlot(t *testing.T) {
	for _, lose := range []int{2, -1} {
		var ecs *fakeECS
		e := newEnv(t, nil, nil, nil, nil, func(o *Options) {
			ecs = o.Containers.(*fakeECS)
			o.Containers = &lossyECS{fakeECS: ecs, lose: lose}
		})
		s := deploy.Strategy{Type: deploy.StrategyAllAtOnce}
		d := e.create("v2", &s)
		done := e.waitFor(d.ID, "terminal", func(d *deploy.Deployment) bool { return d.State.Terminal() }, 60*time.Second)
		e.assertAllOn(deploy.SlotGreen)
		green, _ := ecs.DescribeService(context.Background(), "", "svc-green")
		if green.DesiredCount == 0 {
			t.Fatalf("lose=%d: all traffic on green, which has 0 desired tasks", lose)
		}
		want := deploy.StateSucceeded
		if lose < 0 {
			want = deploy.StateFailed
		}
		if done.State != want {
			t.Fatalf("lose=%d: state %s (%s), want %s", lose, done.State, done.Reason, want)
		}
	}
}

// 4. Same window, via a crash: SIGKILL after finalize's UpdateService(From, 0) and before the
// "succeeded" save. With recovery: rollback the restart rolls back to the scaled-down slot.
func TestRegressionFinalizeCrashThenRecoveryRollback(t *testing.T) {
	store := newMemStore()
	e := newEnv(t, store, nil, nil, nil)
	s := deploy.Strategy{Type: deploy.StrategyAllAtOnce}
	d := e.create("v2", &s)
	rec := e.waitState(d.ID, deploy.StateSucceeded)
	e.stop()
	rec.State, rec.FinishedAt = deploy.StateFinalizing, nil // the "succeeded" write never happened
	if err := store.UpdateDeployment(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	e2 := newEnv(t, store, e.router, e.ecs, e.alarms, func(o *Options) { o.RecoveryRollback = true })
	done := e2.waitFor(d.ID, "terminal", func(d *deploy.Deployment) bool { return d.State.Terminal() })
	blue, _ := e2.ecs.DescribeService(context.Background(), "", "svc-blue")
	green, _ := e2.ecs.DescribeService(context.Background(), "", "svc-green")
	t.Logf("state=%s cause=%s routes=%v blue desired=%d green desired=%d", done.State, done.Cause, e2.routeWeights(), blue.DesiredCount, green.DesiredCount)
	if blue.DesiredCount == 0 && e2.routeWeights()[0] == deploy.AllOn(deploy.SlotBlue) {
		t.Fatalf("all traffic sent to blue, which finalize had already scaled to 0")
	}
}

// 5. A rollback decision whose store write fails with a non-"unavailable" kind (version conflict, e.g.
// a second daemon on a shared store) still moves traffic: startRollback mutated r.d (State, Intended)
// before save, run() sees State==rolling_back and calls rollBack, whose setWeights skips the journal write
// because the in-memory Intended already matches.
func TestRegressionRollbackSideEffectWithoutStoredTransition(t *testing.T) {
	e := newEnv(t, nil, nil, nil, nil)
	s := deploy.Strategy{Type: deploy.StrategyCanary, Bake: deploy.Duration(time.Hour)}
	d := e.create("v2", &s)
	e.waitFor(d.ID, "canary", func(d *deploy.Deployment) bool { return d.State == deploy.StateShifting && d.StepStartedAt != nil })
	e.router.mu.Lock()
	before := len(e.router.sets)
	e.router.mu.Unlock()
	e.store.mu.Lock()
	e.store.fail = deploy.Errorf("store.Update", deploy.KindConflict, "stale version")
	e.store.mu.Unlock()
	e.alarms.set("alarm-5xx", "ALARM")
	// The alarm has been seen and the rollback's write refused: the moment a ModifyListener would go.
	eventually(t, "the rollback write refused", 5*time.Second, func() bool { return e.store.failedUpdates() >= 2 })
	e.router.mu.Lock()
	after := len(e.router.sets)
	e.router.mu.Unlock()
	stored, _ := e.store.GetDeployment(context.Background(), d.ID)
	t.Logf("stored state=%s weights=%s intended=%s; ALB=%v", stored.State, stored.Weights, intendedString(stored.Intended), e.routeWeights())
	if after > before {
		t.Fatalf("ModifyListener sent %d time(s) although no transition could be stored", after-before)
	}
}

// 6. The existing TestStoreFailureBlocksSideEffects only waits 100ms; run() sleeps 1s after failing to
// record the rollback and then runs rollBack from the in-memory state, which calls UpdateService.
func TestRegressionStoreFailureSideEffectAfterOneSecond(t *testing.T) {
	e := newEnv(t, nil, nil, nil, nil)
	e.store.mu.Lock()
	e.store.fail = deploy.Errorf("store.Update", deploy.KindInternal, "disk full")
	e.store.mu.Unlock()
	if _, err := e.c.Create(context.Background(), deploy.CreateRequest{Service: "web", ImageTag: "v2"}); err != nil {
		t.Fatal(err)
	}
	// Past the one-second retry pause: several rounds of failed writes.
	eventually(t, "repeated failed writes", 10*time.Second, func() bool { return e.store.failedUpdates() >= 4 })
	e.ecs.mu.Lock()
	defer e.ecs.mu.Unlock()
	if len(e.ecs.updates) != 0 {
		t.Fatalf("side effects ran without a stored transition: %v", e.ecs.updates)
	}
}

// 7. A permanent ALB error (listener deleted / AccessDenied) keeps a rollback in rolling_back forever:
// it never reaches failed, holds the service lock, and operator commands just time out.
func TestRegressionRollbackStuckOnPermanentError(t *testing.T) {
	e := newEnv(t, nil, nil, nil, nil)
	s := deploy.Strategy{Type: deploy.StrategyCanary, Bake: deploy.Duration(time.Hour)}
	d := e.create("v2", &s)
	e.waitFor(d.ID, "canary", func(d *deploy.Deployment) bool { return d.State == deploy.StateShifting && d.StepStartedAt != nil })
	e.router.mu.Lock()
	e.router.setErr = deploy.Errorf("elbv2.ModifyListener", deploy.KindNotFound, "ListenerNotFound")
	e.router.mu.Unlock()
	e.alarms.set("alarm-5xx", "ALARM")
	e.waitState(d.ID, deploy.StateRollingBack)
	e.waitFor(d.ID, "failed", func(d *deploy.Deployment) bool { return d.State == deploy.StateFailed }, 20*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, abortErr := e.c.Abort(ctx, deploy.ActionRequest{ID: d.ID, Actor: "op"})
	_, createErr := e.c.Create(context.Background(), deploy.CreateRequest{Service: "web", ImageTag: "v3"})
	got, _ := e.store.GetDeployment(context.Background(), d.ID)
	t.Logf("after 2s: state=%s abort: kind=%s %v; new create: kind=%s", got.State, deploy.KindOf(abortErr), abortErr, deploy.KindOf(createErr))
	if got.State == deploy.StateRollingBack {
		t.Fatalf("rollback stuck in rolling_back on a permanent error; no escape")
	}
}
