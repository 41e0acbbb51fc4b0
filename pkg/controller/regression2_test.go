package controller

// Regression tests for the second review round: each once demonstrated a bug.

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// hookStore fails UpdateDeployment once when hook says so.
type hookStore struct {
	*memStore
	mu   sync.Mutex
	hook func(d *deploy.Deployment) error
}

func (s *hookStore) UpdateDeployment(ctx context.Context, d *deploy.Deployment) error {
	s.mu.Lock()
	h := s.hook
	s.mu.Unlock()
	if h != nil {
		if err := h(d); err != nil {
			return err
		}
	}
	return s.memStore.UpdateDeployment(ctx, d)
}

// 1. pause_before_traffic is two writes ("ready" -> shifting, then "pause" -> paused). If the second write
// fails (or the daemon dies between them), the restored/stored record is shifting step 0 and the runner
// moves production traffic without the operator's check.
func TestRegression2PauseBeforeTrafficLostOnFailedPauseWrite(t *testing.T) {
	mem := newMemStore()
	var failed atomic.Bool
	hs := &hookStore{memStore: mem, hook: func(d *deploy.Deployment) error {
		if d.State == deploy.StatePaused && d.PausedFrom == deploy.StateShifting && !failed.Swap(true) {
			return deploy.Errorf("store.Update", deploy.KindInternal, "database is locked")
		}
		return nil
	}}
	e := newEnv(t, mem, nil, nil, nil, func(o *Options) { o.Store = hs })
	s := deploy.Strategy{Type: deploy.StrategyCanary, Bake: deploy.Duration(time.Hour), PauseBeforeTraffic: true}
	d := e.create("v2", &s)
	got := e.waitFor(d.ID, "paused or traffic moved", func(d *deploy.Deployment) bool {
		return d.State == deploy.StatePaused || d.Weights != deploy.AllOn(deploy.SlotBlue)
	})
	t.Logf("state=%s weights=%s events=%v", got.State, got.Weights, mem.actions(d.ID))
	if got.State != deploy.StatePaused {
		t.Fatalf("pause_before_traffic lost after one failed write: production weights %s moved without the operator's check", got.Weights)
	}
}

// 2. Nothing stops test_listener_arn from naming the production listener. prepare then forwards 100% of
// production to the unverified colour before the canary, and finalize forwards 100% of production to
// the slot it has just scaled to 0 -- and records "succeeded".
func TestRegression2TestRouteIsProductionListener(t *testing.T) {
	prod := deploy.Route{ListenerARN: lsn}
	e := newEnv(t, nil, nil, nil, nil, func(o *Options) {
		svc := o.Services["web"]
		svc.TestRoute = &prod
		o.Services["web"] = svc
	})
	s := deploy.Strategy{Type: deploy.StrategyCanary, Bake: deploy.Duration(20 * time.Millisecond)}
	d := e.create("v2", &s)
	done := e.waitFor(d.ID, "terminal", func(d *deploy.Deployment) bool { return d.State.Terminal() })
	w, _ := e.router.GetWeights(context.Background(), prod)
	blue, _ := e.ecs.DescribeService(context.Background(), "", "svc-blue")
	t.Logf("state=%s production listener=%v blue desired=%d", done.State, w, blue.DesiredCount)
	if w[blueTG] > 0 && blue.DesiredCount == 0 {
		t.Fatalf("production listener forwards to %v, the slot just scaled to 0, yet the deployment is %s", w, done.State)
	}
}

// errForwardRouter fails ForwardTo.
type errForwardRouter struct{ *fakeRouter }

func (r errForwardRouter) ForwardTo(context.Context, deploy.Route, string) error {
	return deploy.Errorf("elbv2.ModifyListener", deploy.KindUnavailable, "Throttling")
}

// 3. With pause_before_traffic, a failed re-point of the test listener (one throttled call, no retry) still
// pauses "to check the release on the test listener" while that listener forwards to the LIVE colour.
func TestRegression2PauseBeforeTrafficWithTestListenerOnLiveColour(t *testing.T) {
	test := deploy.Route{ListenerARN: lsn + "-test"}
	var fr *fakeRouter
	e := newEnv(t, nil, nil, nil, nil, func(o *Options) {
		svc := o.Services["web"]
		svc.TestRoute = &test
		o.Services["web"] = svc
		fr = o.Router.(*fakeRouter)
		o.Router = errForwardRouter{fr}
	})
	fr.set(test, map[string]int{blueTG: 1}) // left on blue, e.g. a previous release ended failed past retire_at
	s := deploy.Strategy{Type: deploy.StrategyCanary, Bake: deploy.Duration(time.Hour), PauseBeforeTraffic: true}
	d := e.create("v2", &s)
	// The test listener cannot be pointed at the release: it must not be held "for a check" (the listener
	// would serve the live colour); transient failures are retried, then the release is rolled back.
	got := e.waitFor(d.ID, "terminal", func(d *deploy.Deployment) bool { return d.State.Terminal() }, 30*time.Second)
	w, _ := fr.GetWeights(context.Background(), test)
	acts := e.store.actions(d.ID)
	if got.State != deploy.StateRolledBack || slices.Contains(acts, "pause") || !slices.Contains(acts, "test_listener.failed") {
		t.Fatalf("state %s, events %v, test listener %v", got.State, acts, w)
	}
	e.assertAllOn(deploy.SlotBlue)
}

// lateAlarmRouter turns an alarm on while finalize reads the weights for the point of no return.
type lateAlarmRouter struct {
	*fakeRouter
	alarms *fakeAlarms
	armed  atomic.Bool
	once   sync.Once
}

func (r *lateAlarmRouter) DeregistrationDelay(ctx context.Context, tg string) (time.Duration, error) {
	r.armed.Store(true) // finalize has started
	return r.fakeRouter.DeregistrationDelay(ctx, tg)
}

func (r *lateAlarmRouter) ReadRoutes(ctx context.Context, rts []deploy.Route) (map[deploy.Route]map[string]int, error) {
	r.hook()
	return r.fakeRouter.ReadRoutes(ctx, rts)
}

func (r *lateAlarmRouter) GetWeights(ctx context.Context, rt deploy.Route) (map[string]int, error) {
	r.hook()
	return r.fakeRouter.GetWeights(ctx, rt)
}

func (r *lateAlarmRouter) hook() {
	if r.armed.Load() {
		r.once.Do(func() {
			r.alarms.set("alarm-5xx", "ALARM")
			time.Sleep(100 * time.Millisecond) // a slow DescribeListeners; the observer polls meanwhile
		})
	}
}

// 4. An alarm that fires before retire_at is written (during finalize's weight read-back) sits in r.trig
// and is never acted on: the old slot, which still has its tasks, is scaled down anyway.
func TestRegression2AlarmBeforePointOfNoReturnDropped(t *testing.T) {
	var lr *lateAlarmRouter
	e := newEnv(t, nil, nil, nil, nil, func(o *Options) {
		lr = &lateAlarmRouter{fakeRouter: o.Router.(*fakeRouter)}
		o.Router = lr
	})
	lr.alarms = e.alarms
	s := deploy.Strategy{Type: deploy.StrategyAllAtOnce}
	d := e.create("v2", &s)
	done := e.waitFor(d.ID, "terminal", func(d *deploy.Deployment) bool { return d.State.Terminal() })
	t.Logf("state=%s events=%v", done.State, e.store.actions(d.ID))
	if done.State == deploy.StateSucceeded {
		t.Fatalf("alarm fired before retire_at was recorded, yet %s was scaled down and the release succeeded", done.From)
	}
}

// flakyECS fails DescribeService of svc-green transiently n times, then scale-down of svc-green once
// with a non-transient error.
type flakyECS struct {
	*fakeECS
	describeFails atomic.Int32
	scaleFails    atomic.Int32
}

func (f *flakyECS) DescribeService(ctx context.Context, cluster, name string) (deploy.ECSService, error) {
	if name == "svc-green" && f.describeFails.Add(-1) >= 0 {
		return deploy.ECSService{}, deploy.Errorf("ecs.DescribeServices", deploy.KindUnavailable, "ThrottlingException")
	}
	return f.fakeECS.DescribeService(ctx, cluster, name)
}

func (f *flakyECS) DescribeServices(ctx context.Context, cluster string, names []string) (map[string]deploy.ECSService, error) {
	for _, n := range names {
		if n == "svc-green" && f.describeFails.Add(-1) >= 0 {
			return nil, deploy.Errorf("ecs.DescribeServices", deploy.KindUnavailable, "ThrottlingException")
		}
	}
	return f.fakeECS.DescribeServices(ctx, cluster, names)
}

func (f *flakyECS) UpdateService(ctx context.Context, cluster, name, td string, desired int) error {
	if name == "svc-green" && desired == 0 && f.scaleFails.Add(-1) >= 0 {
		return deploy.Errorf("ecs.UpdateService", deploy.KindPrecondition, "ServiceNotActiveException (transiently)")
	}
	return f.fakeECS.UpdateService(ctx, cluster, name, td, desired)
}

// 5. r.failures is not reset when a failing phase turns into a rollback: the rollback inherits the
// 5 failed attempts of prepare and ends in failed on its FIRST non-transient error instead of retrying.
func TestRegression2RollbackInheritsFailureCount(t *testing.T) {
	var fe *flakyECS
	e := newEnv(t, nil, nil, nil, nil, func(o *Options) {
		fe = &flakyECS{fakeECS: o.Containers.(*fakeECS)}
		o.Containers = fe
	})
	fe.describeFails.Store(1000) // persistent throttling of the idle service's reads
	fe.scaleFails.Store(1)       // the rollback's scale-down fails once
	d := e.create("v2", nil)
	e.waitFor(d.ID, "rolling back", func(d *deploy.Deployment) bool {
		return d.State != deploy.StatePending && d.State != deploy.StatePreparing
	})
	fe.describeFails.Store(0)
	done := e.waitFor(d.ID, "terminal", func(d *deploy.Deployment) bool { return d.State.Terminal() })
	t.Logf("state=%s reason=%q", done.State, done.Reason)
	if !slices.Contains(e.store.actions(d.ID), "rollback") {
		t.Fatalf("the persistent failures never turned into a rollback: %v", e.store.actions(d.ID))
	}
	if done.State == deploy.StateFailed {
		t.Fatalf("a rollback failed on its first error (maxAttempts=%d) because it inherited prepare's failure count", maxAttempts)
	}
}

// timeoutOnceRouter answers the first GetWeights with a time-out (transient everywhere else).
type timeoutOnceRouter struct {
	*fakeRouter
	n atomic.Int32
}

func (r *timeoutOnceRouter) GetWeights(ctx context.Context, rt deploy.Route) (map[string]int, error) {
	if r.n.Add(1) == 1 {
		return nil, deploy.Errorf("elbv2.DescribeListeners", deploy.KindTimeout, "request timed out")
	}
	return r.fakeRouter.GetWeights(ctx, rt)
}

// 6. recover() retries only KindUnavailable: one time-out reading the weights at start-up rolls back a
// healthy, explained mid-canary release.
func TestRegression2RecoveryRollsBackOnOneTimeout(t *testing.T) {
	store := newMemStore()
	e := newEnv(t, store, nil, nil, nil)
	s := deploy.Strategy{Type: deploy.StrategyCanary, Bake: deploy.Duration(time.Hour)}
	d := e.create("v2", &s)
	e.waitFor(d.ID, "canary", func(d *deploy.Deployment) bool { return d.State == deploy.StateShifting && d.StepStartedAt != nil })
	e.stop()
	e2 := newEnv(t, store, e.router, e.ecs, e.alarms, func(o *Options) { o.Router = &timeoutOnceRouter{fakeRouter: e.router} })
	// Recovery has decided: its event is written.
	eventually(t, "the recovery decision", 5*time.Second, func() bool {
		return slices.Contains(store.actions(d.ID), "recover") || slices.Contains(store.actions(d.ID), "rollback")
	})
	got, _ := store.GetDeployment(context.Background(), d.ID)
	t.Logf("after restart: state=%s cause=%s reason=%q", got.State, got.Cause, got.Reason)
	_ = e2
	if got.State == deploy.StateRollingBack || got.State == deploy.StateRolledBack {
		t.Fatalf("one transient time-out at start-up rolled back an explained release")
	}
}
