package controller

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/deploy/storetest"
	"github.com/switchyard/switchyard/pkg/sqlite"
)

// Issue 7, item 1: every DescribeAlarms failing while the alarm is in ALARM must never end succeeded;
// the release rolls back once the guards have been unreadable for guard_stale_after, naming the alarm.
func TestAlarmPollsFailingNeverSucceed(t *testing.T) {
	e := newEnv(t, nil, nil, nil, nil, func(o *Options) {
		s := o.Services["web"]
		s.GuardStaleAfter = deploy.Duration(300 * time.Millisecond)
		o.Services["web"] = s
	})
	s := deploy.Strategy{Type: deploy.StrategyCanary, CanaryPercent: 10, Bake: deploy.Duration(50 * time.Millisecond)}
	d := e.create("v2", &s)
	e.waitFor(d.ID, "first step", func(d *deploy.Deployment) bool { return d.State == deploy.StateShifting && d.StepStartedAt != nil })
	e.alarms.fail(deploy.Errorf("cloudwatch.DescribeAlarms", deploy.KindForbidden, "AccessDenied: not authorized"))
	e.alarms.set("alarm-5xx", "ALARM")
	got := e.waitFor(d.ID, "terminal", func(d *deploy.Deployment) bool { return d.State.Terminal() })
	if got.State != deploy.StateRolledBack || got.Cause != deploy.CauseStale || !strings.Contains(got.Reason, "alarm alarm-5xx") || !strings.Contains(got.Reason, "AccessDenied") {
		t.Fatalf("state %s cause %s reason %q", got.State, got.Cause, got.Reason)
	}
	e.assertAllOn(deploy.SlotBlue)
}

// With guard_stale_policy: pause the deployment holds its weights, paused, instead.
func TestStaleGuardsPausePolicy(t *testing.T) {
	e := newEnv(t, nil, nil, nil, nil, func(o *Options) {
		s := o.Services["web"]
		s.GuardStaleAfter, s.GuardStalePolicy = deploy.Duration(200*time.Millisecond), deploy.StalePause
		o.Services["web"] = s
	})
	s := deploy.Strategy{Type: deploy.StrategyCanary, CanaryPercent: 10, Bake: deploy.Duration(time.Second)}
	d := e.create("v2", &s)
	e.waitFor(d.ID, "first step", func(d *deploy.Deployment) bool { return d.State == deploy.StateShifting && d.StepStartedAt != nil })
	e.alarms.fail(deploy.Errorf("cloudwatch.DescribeAlarms", deploy.KindUnavailable, "connection reset"))
	got := e.waitState(d.ID, deploy.StatePaused)
	if got.Weights != deploy.Split(deploy.SlotGreen, 10) {
		t.Fatalf("paused at %s", got.Weights)
	}
	// Readings come back: the operator resumes and the release completes.
	e.alarms.fail(nil)
	if _, err := e.c.Resume(context.Background(), deploy.ActionRequest{ID: d.ID, Actor: "alice"}); err != nil {
		t.Fatal(err)
	}
	e.waitState(d.ID, deploy.StateSucceeded)
}

// Item 1: a guard alarm that disappears mid-flight is stale, not healthy: the step does not advance.
func TestVanishedAlarmBlocksThenRollsBack(t *testing.T) {
	e := newEnv(t, nil, nil, nil, nil, func(o *Options) {
		s := o.Services["web"]
		s.GuardStaleAfter = deploy.Duration(300 * time.Millisecond)
		o.Services["web"] = s
	})
	s := deploy.Strategy{Type: deploy.StrategyCanary, CanaryPercent: 10, Bake: deploy.Duration(50 * time.Millisecond)}
	d := e.create("v2", &s)
	e.waitFor(d.ID, "first step", func(d *deploy.Deployment) bool { return d.State == deploy.StateShifting && d.StepStartedAt != nil })
	e.alarms.mu.Lock()
	delete(e.alarms.states, "alarm-green-p99")
	e.alarms.mu.Unlock()
	got := e.waitFor(d.ID, "terminal", func(d *deploy.Deployment) bool { return d.State.Terminal() })
	if got.State != deploy.StateRolledBack || !strings.Contains(got.Reason, "alarm-green-p99") || got.Step != 0 {
		t.Fatalf("state %s step %d reason %q", got.State, got.Step, got.Reason)
	}
}

// Item 2: an alarm already in ALARM refuses the deployment (guard_firing, named); force with a reason
// accepts it, audited, with the alarm acknowledged until it is first seen OK.
func TestAlarmInAlarmRefusesUnlessForced(t *testing.T) {
	e := newEnv(t, nil, nil, nil, nil)
	e.alarms.set("alarm-5xx", "ALARM")
	_, err := e.c.Create(context.Background(), deploy.CreateRequest{Service: "web", ImageTag: "v2", Actor: "ci"})
	if deploy.KindOf(err) != deploy.KindGuardFiring || !strings.Contains(err.Error(), "alarm-5xx") {
		t.Fatalf("want guard_firing naming the alarm, got %v", err)
	}
	if _, err := e.c.Create(context.Background(), deploy.CreateRequest{Service: "web", ImageTag: "v2", Actor: "ci", Force: true}); deploy.KindOf(err) != deploy.KindInvalid {
		t.Fatalf("force without a reason: %v", err)
	}
	s := deploy.Strategy{Type: deploy.StrategySteps, Steps: []deploy.Step{{Percent: 10, Bake: deploy.Duration(50 * time.Millisecond)},
		{Percent: 50, Bake: deploy.Duration(2 * time.Second)}, {Percent: 100}}}
	d, err := e.c.Create(context.Background(), deploy.CreateRequest{Service: "web", ImageTag: "v2", Strategy: &s, Actor: "alice", Force: true, Reason: "hotfix for the 5xx"})
	if err != nil {
		t.Fatal(err)
	}
	evs, _ := e.store.Events(context.Background(), d.ID, 0)
	if evs[0].Action != "create" || evs[0].Detail["force"] != "true" || evs[0].Detail["forced_alarms"] != "alarm-5xx" || evs[0].Actor != "alice" {
		t.Fatalf("create event %+v", evs[0])
	}
	// Acknowledged: the release moves on although the alarm stays in ALARM.
	e.waitFor(d.ID, "second step", func(d *deploy.Deployment) bool { return d.Step == 1 && d.StepStartedAt != nil })
	// Once seen OK it guards again: firing now rolls back.
	e.alarms.set("alarm-5xx", "OK")
	polls := e.alarms.callCount()
	eventually(t, "polls that see the alarm OK", 5*time.Second, func() bool { return e.alarms.callCount() >= polls+2 })
	e.alarms.set("alarm-5xx", "ALARM")
	got := e.waitFor(d.ID, "terminal", func(d *deploy.Deployment) bool { return d.State.Terminal() })
	if got.State != deploy.StateRolledBack || got.Cause != deploy.CauseAlarm {
		t.Fatalf("re-armed alarm: state %s cause %s", got.State, got.Cause)
	}
}

// throttlingRouter answers Throttling to the first n modify calls.
type throttlingRouter struct {
	*fakeRouter
	left atomic.Int32
}

func (r *throttlingRouter) SetWeights(ctx context.Context, rt deploy.Route, w map[string]int) error {
	if r.left.Add(-1) >= 0 {
		return deploy.Errorf("elbv2.ModifyListener", deploy.KindThrottled, "Throttling: Rate exceeded")
	}
	return r.fakeRouter.SetWeights(ctx, rt, w)
}

// Throttling is back-pressure: many throttled attempts (more than maxAttempts) slow the release down
// but never roll it back.
func TestThrottlingNeverRollsBack(t *testing.T) {
	var tr *throttlingRouter
	e := newEnv(t, nil, nil, nil, nil, func(o *Options) {
		tr = &throttlingRouter{fakeRouter: o.Router.(*fakeRouter)}
		tr.left.Store(4 * maxAttempts)
		o.Router = tr
	})
	s := deploy.Strategy{Type: deploy.StrategyCanary, CanaryPercent: 10, Bake: deploy.Duration(20 * time.Millisecond)}
	d := e.create("v2", &s)
	got := e.waitFor(d.ID, "terminal", func(d *deploy.Deployment) bool { return d.State.Terminal() }, 20*time.Second)
	if got.State != deploy.StateSucceeded || tr.left.Load() >= 0 {
		t.Fatalf("state %s (%s), throttles left %d", got.State, got.Reason, tr.left.Load())
	}
}

// Item 4: store writes whose outcome is ambiguous (committed, but the caller saw an error) never
// leave the deployment without a driver: it completes, with no duplicate audit events.
func TestAmbiguousStoreWritesKeepDriving(t *testing.T) {
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	amb := storetest.Ambiguous(db)
	e := newEnv(t, nil, nil, nil, nil, func(o *Options) {
		o.Store = amb
		s := o.Services["web"]
		s.ReadyTimeout = deploy.Duration(20 * time.Second) // the injected store retries take seconds
		o.Services["web"] = s
	})
	e.c.store = amb
	s := deploy.Strategy{Type: deploy.StrategyCanary, CanaryPercent: 10, Bake: deploy.Duration(30 * time.Millisecond)}
	d, err := e.c.Create(context.Background(), deploy.CreateRequest{Service: "web", ImageTag: "v2", Strategy: &s, Actor: "t"})
	if err != nil {
		t.Fatal(err)
	}
	amb.FailAfterCommit(storetest.OpUpdate, 4)
	amb.FailAfterCommit(storetest.OpAppend, 3)
	deadline := time.Now().Add(10 * time.Second)
	var got *deploy.Deployment
	for {
		got, err = db.GetDeployment(context.Background(), d.ID)
		if err == nil && got.State.Terminal() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not finished: %+v (%v)", got, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got.State != deploy.StateSucceeded || amb.Injected(storetest.OpUpdate) != 4 {
		evs, _ := db.Events(context.Background(), d.ID, 0)
		t.Fatalf("state %s reason %q, injected %d; events %+v", got.State, got.Reason, amb.Injected(storetest.OpUpdate), evs)
	}
	var acts []string
	for !slices.Contains(acts, "succeeded") && time.Now().Before(deadline) { // written right after the record
		time.Sleep(5 * time.Millisecond)
		evs, _ := db.Events(context.Background(), d.ID, 0)
		acts = acts[:0]
		for _, ev := range evs {
			acts = append(acts, ev.Action)
		}
	}
	for _, a := range []string{"shifted", "retire", "succeeded"} {
		if n := countOf(acts, a); n != 1 {
			t.Fatalf("event %s recorded %d times: %v", a, n, acts)
		}
	}
	if !slices.Contains(acts, "weights.verified") {
		t.Fatalf("events %v", acts)
	}
}

func countOf(xs []string, x string) int {
	n := 0
	for _, v := range xs {
		if v == x {
			n++
		}
	}
	return n
}

// Item 4: a version conflict re-reads the record and continues from what is stored; it does not walk
// away from a deployment that holds traffic split.
func TestConflictAdoptsStoredRecord(t *testing.T) {
	e := newEnv(t, nil, nil, nil, nil)
	s := deploy.Strategy{Type: deploy.StrategyCanary, CanaryPercent: 10, Bake: deploy.Duration(300 * time.Millisecond)}
	d := e.create("v2", &s)
	baking := e.waitFor(d.ID, "canary baking", func(d *deploy.Deployment) bool { return d.Weights.Green == 100 && d.StepStartedAt != nil })
	// Another writer (an operator's tool, a restarted daemon) touches the record meanwhile.
	baking.Reason = "annotated elsewhere"
	if err := e.store.UpdateDeployment(context.Background(), baking); err != nil {
		t.Fatal(err)
	}
	got := e.waitFor(d.ID, "terminal", func(d *deploy.Deployment) bool { return d.State.Terminal() })
	if got.State != deploy.StateSucceeded {
		t.Fatalf("state %s (%s)", got.State, got.Reason)
	}
}

// conflictingStore answers every update with a version conflict once armed: another daemon is
// writing the record continuously.
type conflictingStore struct {
	*memStore
	armed atomic.Bool
}

func (s *conflictingStore) UpdateDeployment(ctx context.Context, d *deploy.Deployment) error {
	if s.armed.Load() {
		return deploy.Errorf("mem.Update", deploy.KindConflict, "stale version")
	}
	return s.memStore.UpdateDeployment(ctx, d)
}

// Two conflicts in a row mean another daemon is actively driving the deployment: this runner yields
// instead of fighting it, and sends nothing more.
func TestRepeatedConflictsYield(t *testing.T) {
	cs := &conflictingStore{memStore: newMemStore()}
	e := newEnv(t, cs.memStore, nil, nil, nil, func(o *Options) { o.Store = cs })
	e.c.store = cs
	s := deploy.Strategy{Type: deploy.StrategyCanary, CanaryPercent: 10, Bake: deploy.Duration(100 * time.Millisecond)}
	d := e.create("v2", &s)
	e.waitFor(d.ID, "canary baking", func(d *deploy.Deployment) bool { return d.Weights.Green == 100 && d.StepStartedAt != nil })
	cs.armed.Store(true)
	deadline := time.Now().Add(5 * time.Second)
	for {
		e.c.mu.Lock()
		n := len(e.c.runners)
		e.c.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the runner kept fighting another writer")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// The runner has returned (it left the controller's table), so nothing can send after this.
	if got, _ := cs.memStore.GetDeployment(context.Background(), d.ID); got.State.Terminal() {
		t.Fatalf("the yielding runner finished the deployment: %s", got.State)
	}
}

// A pause step holds the deployment, paused and guarded, at the weights of the step before it; a
// resume continues with the next step.
func TestPauseStepHoldsUntilResumed(t *testing.T) {
	e := newEnv(t, nil, nil, nil, nil)
	s := deploy.Strategy{Type: deploy.StrategySteps, Steps: []deploy.Step{
		{Percent: 10, Bake: deploy.Duration(20 * time.Millisecond)}, {Kind: deploy.StepPause},
		{Percent: 50, Bake: deploy.Duration(20 * time.Millisecond)}, {Percent: 100}}}
	d := e.create("v2", &s)
	held := e.waitState(d.ID, deploy.StatePaused)
	if held.Step != 2 || held.Weights != deploy.Split(deploy.SlotGreen, 10) || held.PausedFrom != deploy.StateShifting {
		t.Fatalf("held at step %d with %s (from %s)", held.Step, held.Weights, held.PausedFrom)
	}
	polls := e.alarms.callCount()
	eventually(t, "guards still read while held", 5*time.Second, func() bool { return e.alarms.callCount() >= polls+5 })
	if now, _ := e.store.GetDeployment(context.Background(), d.ID); now.State != deploy.StatePaused || now.Weights != held.Weights {
		t.Fatalf("a pause step moved on by itself: %s %s", now.State, now.Weights)
	}
	if _, err := e.c.Resume(context.Background(), deploy.ActionRequest{ID: d.ID, Actor: "alice", Reason: "canary looks good"}); err != nil {
		t.Fatal(err)
	}
	done := e.waitState(d.ID, deploy.StateSucceeded)
	if !slices.Contains(e.store.actions(d.ID), "pause") || done.Step != 3 {
		t.Fatalf("step %d, events %v", done.Step, e.store.actions(d.ID))
	}
}
