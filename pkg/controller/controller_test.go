package controller

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/metrics"
)

const (
	blueTG  = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg-blue/1"
	greenTG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg-green/2"
	lsn     = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/alb/1/2"
	rule    = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/alb/1/2/3"
)

type env struct {
	t      *testing.T
	c      *Controller
	store  *memStore
	router *fakeRouter
	ecs    *fakeECS
	alarms *fakeAlarms
	svc    deploy.Service
	cancel context.CancelFunc
}

func testService() deploy.Service {
	return deploy.Service{
		Name: "web", Cluster: "ecs-test", Container: "app", ImageRepository: "123456789012.dkr.ecr.us-east-1.amazonaws.com/web",
		ECSServices:  map[deploy.Slot]string{deploy.SlotBlue: "svc-blue", deploy.SlotGreen: "svc-green"},
		TargetGroups: map[deploy.Slot]string{deploy.SlotBlue: blueTG, deploy.SlotGreen: greenTG},
		Routes:       []deploy.Route{{ListenerARN: lsn}, {ListenerARN: lsn, RuleARN: rule}},
		Alarms:       []string{"alarm-5xx"},
		SlotAlarms:   map[deploy.Slot][]string{deploy.SlotGreen: {"alarm-green-p99"}, deploy.SlotBlue: {"alarm-blue-p99"}},
		Strategy:     deploy.Strategy{Type: deploy.StrategyCanary, CanaryPercent: 10, Bake: deploy.Duration(80 * time.Millisecond)},
		DeregDelay:   deploy.Duration(20 * time.Millisecond), ReadyTimeout: deploy.Duration(2 * time.Second),
		StepTimeout: deploy.Duration(time.Second), UnhealthyAfter: deploy.Duration(50 * time.Millisecond),
	}
}

func newEnv(t *testing.T, store *memStore, router *fakeRouter, ecs *fakeECS, alarms *fakeAlarms, mutate ...func(*Options)) *env {
	t.Helper()
	svc := testService()
	if store == nil {
		store = newMemStore()
	}
	if router == nil {
		router = newFakeRouter(svc.Routes, blueTG, greenTG)
	}
	if ecs == nil {
		ecs = newFakeECS(router)
		ecs.seed("svc-blue", "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1", "web:v1", 3, blueTG)
		ecs.seed("svc-green", "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1", "web:v1", 0, greenTG)
	}
	if alarms == nil {
		alarms = &fakeAlarms{states: map[string]deploy.AlarmState{}}
		for _, n := range []string{"alarm-5xx", "alarm-green-p99", "alarm-blue-p99"} {
			alarms.set(n, "OK")
		}
	}
	o := Options{Store: store, Router: router, Containers: ecs, Alarms: alarms,
		Images: fakeImages{tags: map[string]bool{"v2": true, "v3": true}}, Services: map[string]deploy.Service{"web": svc},
		PollInterval: 10 * time.Millisecond, RetryBackoff: time.Millisecond}
	for _, m := range mutate {
		m(&o)
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, c: c, store: store, router: router, ecs: ecs, alarms: alarms, svc: svc, cancel: cancel}
	t.Cleanup(func() { cancel(); c.Wait() })
	return e
}

func (e *env) stop() { e.cancel(); e.c.Wait() }

func (e *env) create(tag string, s *deploy.Strategy) *deploy.Deployment {
	e.t.Helper()
	d, err := e.c.Create(context.Background(), deploy.CreateRequest{Service: "web", ImageTag: tag, Strategy: s, Actor: "tester"})
	if err != nil {
		e.t.Fatalf("create: %v", err)
	}
	return d
}

// waitFor polls the stored deployment until cond holds.
func (e *env) waitFor(id string, what string, cond func(*deploy.Deployment) bool, timeout ...time.Duration) *deploy.Deployment {
	e.t.Helper()
	limit := 5 * time.Second
	if len(timeout) > 0 {
		limit = timeout[0]
	}
	deadline := time.Now().Add(limit)
	for {
		d, err := e.store.GetDeployment(context.Background(), id)
		if err == nil && cond(d) {
			return d
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting for %s; deployment: %+v; events %v", what, d, e.store.actions(id))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (e *env) waitState(id string, s deploy.State) *deploy.Deployment {
	return e.waitFor(id, string(s), func(d *deploy.Deployment) bool { return d.State == s })
}

func (e *env) routeWeights() []deploy.Weights {
	var out []deploy.Weights
	for _, r := range e.svc.Routes {
		m, _ := e.router.GetWeights(context.Background(), r)
		out = append(out, deploy.Weights{Blue: m[blueTG], Green: m[greenTG]})
	}
	return out
}

func (e *env) assertAllOn(s deploy.Slot) {
	e.t.Helper()
	for i, w := range e.routeWeights() {
		if w != deploy.AllOn(s) {
			e.t.Fatalf("route %d weights %s, want all on %s", i, w, s)
		}
	}
}

func TestCanaryToCompletion(t *testing.T) {
	e := newEnv(t, nil, nil, nil, nil)
	d := e.create("v2", nil)
	if d.From != deploy.SlotBlue || d.To != deploy.SlotGreen || d.State != deploy.StatePending {
		t.Fatalf("unexpected new deployment %+v", d)
	}
	done := e.waitState(d.ID, deploy.StateSucceeded)
	e.assertAllOn(deploy.SlotGreen)
	if done.Weights != deploy.AllOn(deploy.SlotGreen) || done.Intended != nil {
		t.Fatalf("final record weights %s intended %v", done.Weights, done.Intended)
	}
	// One SetWeights per route per step: 10% then 100%, on two routes.
	if len(e.router.sets) != 4 {
		t.Fatalf("got %d weight changes, want 4: %v", len(e.router.sets), e.router.sets)
	}
	if g := e.router.sets[0][greenTG]; g != 100 {
		t.Fatalf("canary weight %d, want 100 (10%% of 999)", g)
	}
	blue, _ := e.ecs.DescribeService(context.Background(), "", "svc-blue")
	if blue.DesiredCount != 0 {
		t.Fatalf("old slot not scaled down: %+v", blue)
	}
	green, _ := e.ecs.DescribeService(context.Background(), "", "svc-green")
	if green.DesiredCount != 3 || green.TaskDefinition != done.TaskDef || e.ecs.images[done.TaskDef] != "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v2" {
		t.Fatalf("new slot not running the new image at the live count: %+v", green)
	}
	if done.PreviousTaskDef == "" || e.ecs.images[done.PreviousTaskDef] != "web:v1" {
		t.Fatalf("previous task definition not kept: %q", done.PreviousTaskDef)
	}
	acts := e.store.actions(d.ID)
	for _, want := range []string{"create", "prepare", "taskdef.registered", "ready", "weights.intent", "weights.verified", "step.baked", "shifted", "succeeded"} {
		if !slices.Contains(acts, want) {
			t.Errorf("event %q missing from %v", want, acts)
		}
	}
	// Every weight change is journalled before it is sent.
	if i, j := slices.Index(acts, "weights.intent"), slices.Index(acts, "weights.verified"); i < 0 || j < i {
		t.Fatalf("intent must precede verification: %v", acts)
	}
}

func TestAlarmRollsBackMidShift(t *testing.T) {
	e := newEnv(t, nil, nil, nil, nil)
	s := deploy.Strategy{Type: deploy.StrategySteps, Steps: []deploy.Step{{Percent: 25, Bake: deploy.Duration(10 * time.Second)}, {Percent: 100}}}
	d := e.create("v2", &s)
	e.waitFor(d.ID, "first step verified", func(d *deploy.Deployment) bool {
		return d.State == deploy.StateShifting && d.Weights.Green == 250
	})
	e.alarms.set("alarm-green-p99", "ALARM")
	done := e.waitState(d.ID, deploy.StateRolledBack)
	e.assertAllOn(deploy.SlotBlue)
	if done.Cause != deploy.CauseAlarm || done.Reason != "alarm alarm-green-p99 in ALARM" {
		t.Fatalf("cause %q reason %q", done.Cause, done.Reason)
	}
	green, _ := e.ecs.DescribeService(context.Background(), "", "svc-green")
	if green.DesiredCount != 0 || green.TaskDefinition != done.PreviousToTaskDef {
		t.Fatalf("green not scaled down and restored: %+v", green)
	}
	if !slices.Contains(e.store.actions(d.ID), "rollback.traffic_restored") {
		t.Fatalf("no traffic_restored event: %v", e.store.actions(d.ID))
	}
}

func TestAlarmOnOtherSlotDoesNotTrigger(t *testing.T) {
	e := newEnv(t, nil, nil, nil, nil)
	e.alarms.set("alarm-blue-p99", "ALARM") // guards blue as a *new* slot only
	d := e.create("v2", nil)
	e.waitState(d.ID, deploy.StateSucceeded)
}

func TestAbortPauseResumePromote(t *testing.T) {
	e := newEnv(t, nil, nil, nil, nil)
	ctx := context.Background()
	s := deploy.Strategy{Type: deploy.StrategyLinear, LinearSteps: 4, Bake: deploy.Duration(time.Hour)}
	d := e.create("v2", &s)
	e.waitFor(d.ID, "step 1", func(d *deploy.Deployment) bool { return d.State == deploy.StateShifting && d.StepStartedAt != nil })
	p, err := e.c.Pause(ctx, deploy.ActionRequest{ID: d.ID, Actor: "alice", Reason: "look at dashboards"})
	if err != nil || p.State != deploy.StatePaused {
		t.Fatalf("pause: %v %+v", err, p)
	}
	if _, err := e.c.Pause(ctx, deploy.ActionRequest{ID: d.ID, Actor: "alice"}); deploy.KindOf(err) != deploy.KindPrecondition {
		t.Fatalf("second pause: want precondition, got %v", err)
	}
	r, err := e.c.Resume(ctx, deploy.ActionRequest{ID: d.ID, Actor: "alice"})
	if err != nil || r.State != deploy.StateShifting {
		t.Fatalf("resume: %v %+v", err, r)
	}
	if _, err := e.c.Promote(ctx, deploy.ActionRequest{ID: d.ID, Actor: "bob", Reason: "looks good"}); err != nil {
		t.Fatalf("promote: %v", err)
	}
	done := e.waitState(d.ID, deploy.StateSucceeded)
	e.assertAllOn(deploy.SlotGreen)
	if done.Step != 3 {
		t.Fatalf("promote should land on the last step, got %d", done.Step)
	}
	evs, _ := e.store.Events(ctx, d.ID, 0)
	var actors []string
	for _, ev := range evs {
		if ev.Action == "pause" || ev.Action == "resume" || ev.Action == "promote" {
			actors = append(actors, ev.Actor+":"+ev.Action)
		}
	}
	if !slices.Equal(actors, []string{"alice:pause", "alice:resume", "bob:promote"}) {
		t.Fatalf("audit trail %v", actors)
	}

	// Next release goes from green to blue; abort it mid-bake.
	d2 := e.create("v3", &s)
	if d2.From != deploy.SlotGreen || d2.To != deploy.SlotBlue {
		t.Fatalf("second deployment should go green->blue: %+v", d2)
	}
	e.waitFor(d2.ID, "step 1", func(d *deploy.Deployment) bool { return d.State == deploy.StateShifting && d.StepStartedAt != nil })
	a, err := e.c.Abort(ctx, deploy.ActionRequest{ID: d2.ID, Actor: "carol", Reason: "customer complaint"})
	if err != nil || a.State != deploy.StateRollingBack {
		t.Fatalf("abort: %v %+v", err, a)
	}
	done2 := e.waitState(d2.ID, deploy.StateRolledBack)
	e.assertAllOn(deploy.SlotGreen)
	if done2.Cause != deploy.CauseAbort || done2.Reason != "aborted by carol: customer complaint" {
		t.Fatalf("abort reason %q", done2.Reason)
	}
	if _, err := e.c.Promote(ctx, deploy.ActionRequest{ID: d2.ID, Actor: "carol"}); deploy.KindOf(err) != deploy.KindPrecondition {
		t.Fatalf("promote of a rolled-back deployment: want precondition, got %v", err)
	}
	if _, err := e.c.Abort(ctx, deploy.ActionRequest{ID: d2.ID, Actor: "carol"}); deploy.KindOf(err) != deploy.KindPrecondition {
		t.Fatalf("abort of finished deployment: want precondition, got %v", err)
	}
}

func TestSecondDeploymentConflicts(t *testing.T) {
	e := newEnv(t, nil, nil, nil, nil)
	s := deploy.Strategy{Type: deploy.StrategyCanary, Bake: deploy.Duration(time.Hour)}
	d := e.create("v2", &s)
	_, err := e.c.Create(context.Background(), deploy.CreateRequest{Service: "web", ImageTag: "v3", Actor: "x"})
	if deploy.KindOf(err) != deploy.KindConflict || deploy.ActiveIDOf(err) != d.ID {
		t.Fatalf("want conflict naming %s, got %v", d.ID, err)
	}
}

func TestBadRequestsChangeNothing(t *testing.T) {
	e := newEnv(t, nil, nil, nil, nil)
	cases := []struct {
		name string
		req  deploy.CreateRequest
		kind deploy.Kind
	}{
		{"unknown service", deploy.CreateRequest{Service: "nope", ImageTag: "v2"}, deploy.KindNotFound},
		{"malformed tag", deploy.CreateRequest{Service: "web", ImageTag: "-bad tag"}, deploy.KindInvalid},
		{"missing tag in registry", deploy.CreateRequest{Service: "web", ImageTag: "v9"}, deploy.KindNotFound},
		{"bad steps", deploy.CreateRequest{Service: "web", ImageTag: "v2", Strategy: &deploy.Strategy{Type: deploy.StrategySteps, Steps: []deploy.Step{{Percent: 50}, {Percent: 40}}}}, deploy.KindInvalid},
		{"unknown strategy", deploy.CreateRequest{Service: "web", ImageTag: "v2", Strategy: &deploy.Strategy{Type: "yolo"}}, deploy.KindInvalid},
	}
	for _, tc := range cases {
		_, err := e.c.Create(context.Background(), tc.req)
		if deploy.KindOf(err) != tc.kind {
			t.Errorf("%s: want %s, got %v", tc.name, tc.kind, err)
		}
	}
	if all, _ := e.store.ListDeployments(context.Background(), deploy.ListFilter{}); len(all) != 0 || len(e.router.sets) != 0 || len(e.ecs.updates) != 0 {
		t.Fatalf("bad requests changed state: %d deployments, %d weight sets, %d ECS updates", len(all), len(e.router.sets), len(e.ecs.updates))
	}
}

func TestUnexplainedSplitRefused(t *testing.T) {
	e := newEnv(t, nil, nil, nil, nil)
	e.router.set(e.svc.Routes[0], map[string]int{blueTG: 500, greenTG: 499})
	_, err := e.c.Create(context.Background(), deploy.CreateRequest{Service: "web", ImageTag: "v2"})
	if deploy.KindOf(err) != deploy.KindPrecondition {
		t.Fatalf("want precondition, got %v", err)
	}
}

func TestECSFailureRollsBack(t *testing.T) {
	e := newEnv(t, nil, nil, nil, nil)
	e.ecs.failNext = "circuit breaker tripped: 2 tasks failed health checks"
	d := e.create("v2", nil)
	done := e.waitState(d.ID, deploy.StateRolledBack)
	if done.Cause != deploy.CauseECS {
		t.Fatalf("cause %q (%s)", done.Cause, done.Reason)
	}
	e.assertAllOn(deploy.SlotBlue)
	if len(e.router.sets) != 0 {
		t.Fatalf("traffic was moved although green never became ready: %v", e.router.sets)
	}
}

func TestUnhealthyTargetsRollBack(t *testing.T) {
	e := newEnv(t, nil, nil, nil, nil)
	s := deploy.Strategy{Type: deploy.StrategyCanary, Bake: deploy.Duration(time.Hour)}
	d := e.create("v2", &s)
	e.waitFor(d.ID, "canary", func(d *deploy.Deployment) bool { return d.State == deploy.StateShifting && d.StepStartedAt != nil })
	e.router.setHealth(greenTG, deploy.Target{ID: "10.0.9.1", Port: 8000, State: "unhealthy", Reason: "Target.ResponseCodeMismatch"})
	done := e.waitState(d.ID, deploy.StateRolledBack)
	if done.Cause != deploy.CauseUnhealthy {
		t.Fatalf("cause %q (%s)", done.Cause, done.Reason)
	}
	e.assertAllOn(deploy.SlotBlue)
}

func TestReadyTimeoutRollsBack(t *testing.T) {
	e := newEnv(t, nil, nil, nil, nil)
	e.ecs.tg["svc-green"] = "arn:unused" // green's targets never register in its target group
	d := e.create("v2", nil)
	done := e.waitState(d.ID, deploy.StateRolledBack)
	if done.Cause != deploy.CauseTimeout {
		t.Fatalf("cause %q (%s)", done.Cause, done.Reason)
	}
}

func TestRecoveryResumesExplainedState(t *testing.T) {
	store := newMemStore()
	e := newEnv(t, store, nil, nil, nil)
	s := deploy.Strategy{Type: deploy.StrategySteps, Steps: []deploy.Step{{Percent: 10, Bake: deploy.Duration(300 * time.Millisecond)}, {Percent: 100}}}
	d := e.create("v2", &s)
	e.waitFor(d.ID, "canary", func(d *deploy.Deployment) bool { return d.Weights.Green == 100 && d.StepStartedAt != nil })
	e.stop() // the daemon dies mid-bake

	e2 := newEnv(t, store, e.router, e.ecs, e.alarms)
	e2.waitState(d.ID, deploy.StateSucceeded)
	e2.assertAllOn(deploy.SlotGreen)
	if !slices.Contains(store.actions(d.ID), "recover") {
		t.Fatalf("no recover event: %v", store.actions(d.ID))
	}
}

func TestRecoveryCompletesJournalledChange(t *testing.T) {
	store := newMemStore()
	e := newEnv(t, store, nil, nil, nil)
	s := deploy.Strategy{Type: deploy.StrategySteps, Steps: []deploy.Step{{Percent: 10, Bake: deploy.Duration(time.Hour)}, {Percent: 50, Bake: deploy.Duration(time.Hour)}, {Percent: 100}}}
	d := e.create("v2", &s)
	rec := e.waitFor(d.ID, "canary", func(d *deploy.Deployment) bool { return d.Weights.Green == 100 && d.StepStartedAt != nil })
	e.stop()
	// Simulate a crash between ModifyListener on the first route and the verified record of step 2: the
	// journal says 50%, one route carries it, the other still carries the verified 10%.
	intended := deploy.Split(deploy.SlotGreen, 50)
	rec.Step, rec.StepStartedAt, rec.Intended = 1, nil, &intended
	if err := store.UpdateDeployment(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	e.router.set(e.svc.Routes[0], map[string]int{blueTG: intended.Blue, greenTG: intended.Green})

	e2 := newEnv(t, store, e.router, e.ecs, e.alarms)
	got := e2.waitFor(d.ID, "journal completed", func(d *deploy.Deployment) bool { return d.Intended == nil && d.Weights == intended })
	if got.State != deploy.StateShifting || got.Step != 1 {
		t.Fatalf("state %s step %d", got.State, got.Step)
	}
	for _, w := range e2.routeWeights() {
		if w != intended {
			t.Fatalf("routes not reconciled to the journalled weights: %v", e2.routeWeights())
		}
	}
}

func TestRecoveryRollsBackUnexplainedSplit(t *testing.T) {
	store := newMemStore()
	e := newEnv(t, store, nil, nil, nil)
	s := deploy.Strategy{Type: deploy.StrategySteps, Steps: []deploy.Step{{Percent: 10, Bake: deploy.Duration(time.Hour)}, {Percent: 100}}}
	d := e.create("v2", &s)
	e.waitFor(d.ID, "canary", func(d *deploy.Deployment) bool { return d.Weights.Green == 100 && d.StepStartedAt != nil })
	e.stop()
	e.router.set(e.svc.Routes[1], map[string]int{blueTG: 333, greenTG: 666}) // someone edited a rule by hand

	e2 := newEnv(t, store, e.router, e.ecs, e.alarms)
	done := e2.waitState(d.ID, deploy.StateRolledBack)
	if done.Cause != deploy.CauseRecovery {
		t.Fatalf("cause %q", done.Cause)
	}
	e2.assertAllOn(deploy.SlotBlue)
}

func TestRecoveryPolicyRollback(t *testing.T) {
	store := newMemStore()
	e := newEnv(t, store, nil, nil, nil)
	s := deploy.Strategy{Type: deploy.StrategyCanary, Bake: deploy.Duration(time.Hour)}
	d := e.create("v2", &s)
	e.waitFor(d.ID, "canary", func(d *deploy.Deployment) bool { return d.Weights.Green > 0 && d.StepStartedAt != nil })
	e.stop()
	e2 := newEnv(t, store, e.router, e.ecs, e.alarms, func(o *Options) { o.RecoveryRollback = true })
	done := e2.waitState(d.ID, deploy.StateRolledBack)
	if done.Cause != deploy.CauseRecovery {
		t.Fatalf("cause %q", done.Cause)
	}
}

func TestAlarmPollBatchesAllDeployments(t *testing.T) {
	e := newEnv(t, nil, nil, nil, nil)
	// A second service with its own alarm shares the poll.
	svc2 := testService()
	svc2.Name, svc2.Alarms = "api", []string{"alarm-api"}
	svc2.Routes = []deploy.Route{{ListenerARN: lsn + "-api"}}
	e.router.set(svc2.Routes[0], map[string]int{blueTG: 999, greenTG: 0})
	e.alarms.set("alarm-api", "OK")
	e.c.SetServices(map[string]deploy.Service{"web": e.svc, "api": svc2})
	s := deploy.Strategy{Type: deploy.StrategyCanary, Bake: deploy.Duration(time.Hour)}
	d1 := e.create("v2", &s)
	e.waitFor(d1.ID, "canary", func(d *deploy.Deployment) bool { return d.StepStartedAt != nil && d.State == deploy.StateShifting })
	// svc2 shares ECS service names with web in this fake; only the alarm batching matters here.
	if _, err := e.c.Create(context.Background(), deploy.CreateRequest{Service: "api", ImageTag: "v2", Strategy: &s}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		e.alarms.mu.Lock()
		last := e.alarms.names[len(e.alarms.names)-1]
		e.alarms.mu.Unlock()
		if slices.Contains(last, "alarm-api") && slices.Contains(last, "alarm-green-p99") {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("alarm names of both deployments never polled in one call")
}

func TestStoreFailureBlocksSideEffects(t *testing.T) {
	e := newEnv(t, nil, nil, nil, nil)
	e.store.fail = errors.New("disk full")
	d, err := e.c.Create(context.Background(), deploy.CreateRequest{Service: "web", ImageTag: "v2"})
	if err != nil {
		t.Fatal(err)
	}
	// The runner has tried (and failed) to store its first transitions: by then it would have acted.
	eventually(t, "three failed store writes", 5*time.Second, func() bool { return e.store.failedUpdates() >= 3 })
	if len(e.ecs.updates) != 0 || len(e.router.sets) != 0 {
		t.Fatalf("side effects ran without a stored transition: %v %v (deployment %s)", e.ecs.updates, e.router.sets, d.ID)
	}
}

func TestPreflightRefusalChangesNothing(t *testing.T) {
	calls := 0
	e := newEnv(t, nil, nil, nil, nil, func(o *Options) {
		o.Preflight = append(o.Preflight, func(ctx context.Context, svc deploy.Service) error {
			calls++
			return deploy.Errorf("driftguard", deploy.KindPrecondition, "stack drifted: module.alb.aws_lb.this")
		})
	})
	_, err := e.c.Create(context.Background(), deploy.CreateRequest{Service: "web", ImageTag: "v2"})
	if deploy.KindOf(err) != deploy.KindPrecondition || calls != 1 {
		t.Fatalf("want precondition from the preflight, got %v (calls %d)", err, calls)
	}
	if all, _ := e.store.ListDeployments(context.Background(), deploy.ListFilter{}); len(all) != 0 || len(e.ecs.updates) != 0 {
		t.Fatalf("a refused deployment changed state")
	}
}

func TestScalingHandedOverAfterRelease(t *testing.T) {
	sc := &fakeScaling{targets: map[string]deploy.ScalableTarget{
		"svc-blue":  {Registered: true, Min: 3, Max: 12},
		"svc-green": {Registered: true, Min: 0, Max: 12, Suspended: true},
	}}
	e := newEnv(t, nil, nil, nil, nil, func(o *Options) { o.Scaling = sc })
	d := e.create("v2", nil)
	e.waitState(d.ID, deploy.StateSucceeded)
	if got := sc.targets["svc-green"]; got != (deploy.ScalableTarget{Registered: true, Min: 3, Max: 12}) {
		t.Fatalf("new live slot scaling %+v", got)
	}
	if got := sc.targets["svc-blue"]; got != (deploy.ScalableTarget{Registered: true, Min: 0, Max: 12, Suspended: true}) {
		t.Fatalf("old slot scaling %+v", got)
	}
	if !slices.Contains(e.store.actions(d.ID), "scaling.handoff") {
		t.Fatalf("no handoff event: %v", e.store.actions(d.ID))
	}
	// The hand-over is idempotent: running it again (as a restart in finalizing would) changes nothing.
	sets := sc.sets
	r := newRunner(e.c, d)
	if err := r.handoffScaling(context.Background()); err != nil || sc.sets != sets {
		t.Fatalf("repeat hand-over: err %v, %d more sets", err, sc.sets-sets)
	}

	// A rolled-back release leaves scaling as it was.
	e.ecs.failNext = "tasks failed"
	d2 := e.create("v3", nil)
	e.waitState(d2.ID, deploy.StateRolledBack)
	if got := sc.targets["svc-green"]; got.Suspended || got.Min != 3 {
		t.Fatalf("rollback touched live scaling: %+v", got)
	}
}

func TestMetricsRecordOutcomesStepsAndDecisions(t *testing.T) {
	m := metrics.New()
	e := newEnv(t, nil, nil, nil, nil, func(o *Options) { o.Metrics = m })
	d := e.create("v2", nil) // canary: two steps
	e.waitState(d.ID, deploy.StateSucceeded)
	s := deploy.Strategy{Type: deploy.StrategyCanary, Bake: deploy.Duration(time.Hour)}
	d2 := e.create("v3", &s)
	e.waitFor(d2.ID, "canary", func(d *deploy.Deployment) bool { return d.State == deploy.StateShifting && d.StepStartedAt != nil })
	e.alarms.set("alarm-5xx", "ALARM")
	e.waitState(d2.ID, deploy.StateRolledBack)
	e.stop() // runners have recorded their outcome once they stopped

	if got := testutil.ToFloat64(m.Deployments.WithLabelValues("web", "succeeded")); got != 1 {
		t.Errorf("succeeded deployments = %v", got)
	}
	if got := testutil.ToFloat64(m.Deployments.WithLabelValues("web", "rolled_back")); got != 1 {
		t.Errorf("rolled back deployments = %v", got)
	}
	if n := histogramCount(t, m.StepDuration.WithLabelValues("web")); n != 2 {
		t.Errorf("step durations observed %d times, want 2 (canary and 100%% of the first release)", n)
	}
	if n := histogramCount(t, m.RollbackDecision.WithLabelValues("alarm")); n != 1 {
		t.Errorf("rollback decisions observed %d times, want 1", n)
	}
	if n := histogramCount(t, m.RollbackTotal.WithLabelValues("alarm")); n != 1 {
		t.Errorf("verified rollbacks observed %d times, want 1", n)
	}
	if got := testutil.ToFloat64(m.ActiveDeploys); got != 0 {
		t.Errorf("active deployments gauge = %v after both finished", got)
	}
}

func histogramCount(t *testing.T, o prometheus.Observer) uint64 {
	t.Helper()
	var pb dto.Metric
	if err := o.(prometheus.Metric).Write(&pb); err != nil {
		t.Fatal(err)
	}
	return pb.GetHistogram().GetSampleCount()
}

func TestFinalizeWaitsForDeregistrationThenRetires(t *testing.T) {
	e := newEnv(t, nil, nil, nil, nil)
	d := e.create("v2", &deploy.Strategy{Type: deploy.StrategyAllAtOnce})
	done := e.waitState(d.ID, deploy.StateSucceeded)
	// The fake router reports a 20ms deregistration delay: retiring must not start before it has passed.
	if done.RetireAt == nil || done.ShiftedAt == nil || done.RetireAt.Sub(*done.ShiftedAt) < 20*time.Millisecond {
		t.Fatalf("retired at %v, shifted at %v: deregistration delay not waited out", done.RetireAt, done.ShiftedAt)
	}
	acts := e.store.actions(d.ID)
	if i, j := slices.Index(acts, "retire"), slices.Index(acts, "succeeded"); i < 0 || j < i {
		t.Fatalf("retire must be recorded before the old slot is scaled down: %v", acts)
	}
}

func TestFinalizeRefusesToRetireWhenWeightsChangedOutside(t *testing.T) {
	e := newEnv(t, nil, nil, nil, nil, func(o *Options) {
		o.Router = &slowDereg{fakeRouter: o.Router.(*fakeRouter), delay: 300 * time.Millisecond}
	})
	d := e.create("v2", &deploy.Strategy{Type: deploy.StrategyAllAtOnce})
	e.waitState(d.ID, deploy.StateFinalizing)
	// Someone moves traffic by hand while the old slot drains.
	e.router.set(e.svc.Routes[0], map[string]int{blueTG: 500, greenTG: 499})
	done := e.waitFor(d.ID, "terminal", func(d *deploy.Deployment) bool { return d.State.Terminal() })
	if done.State != deploy.StateRolledBack || done.RetireAt != nil {
		t.Fatalf("state %s retire %v (%s)", done.State, done.RetireAt, done.Reason)
	}
	blue, _ := e.ecs.DescribeService(context.Background(), "", "svc-blue")
	if blue.DesiredCount == 0 {
		t.Fatal("old slot scaled down although the ALB still sent it traffic")
	}
	e.assertAllOn(deploy.SlotBlue)
}

// slowDereg reports a longer deregistration delay.
type slowDereg struct {
	*fakeRouter
	delay time.Duration
}

func (s *slowDereg) DeregistrationDelay(context.Context, string) (time.Duration, error) {
	return s.delay, nil
}

func TestCommandsDuringRollback(t *testing.T) {
	e := newEnv(t, nil, nil, nil, nil)
	s := deploy.Strategy{Type: deploy.StrategyCanary, Bake: deploy.Duration(time.Hour)}
	d := e.create("v2", &s)
	e.waitFor(d.ID, "canary", func(d *deploy.Deployment) bool { return d.State == deploy.StateShifting && d.StepStartedAt != nil })
	e.router.mu.Lock()
	e.router.setErr = deploy.Errorf("elbv2.ModifyListener", deploy.KindUnavailable, "Throttling")
	e.router.mu.Unlock()
	e.alarms.set("alarm-5xx", "ALARM")
	e.waitState(d.ID, deploy.StateRollingBack)
	ctx := context.Background()
	if _, err := e.c.Promote(ctx, deploy.ActionRequest{ID: d.ID, Actor: "op"}); deploy.KindOf(err) != deploy.KindPrecondition {
		t.Fatalf("promote while rolling back: want precondition, got %v", err)
	}
	if _, err := e.c.Pause(ctx, deploy.ActionRequest{ID: d.ID, Actor: "op"}); deploy.KindOf(err) != deploy.KindPrecondition {
		t.Fatalf("pause while rolling back: want precondition, got %v", err)
	}
	if got, err := e.c.Abort(ctx, deploy.ActionRequest{ID: d.ID, Actor: "op"}); err != nil || got.State != deploy.StateRollingBack {
		t.Fatalf("abort while rolling back: %v %+v", err, got)
	}
	// The throttling ends: the rollback, retried all along, completes.
	e.router.mu.Lock()
	e.router.setErr = nil
	e.router.mu.Unlock()
	e.waitState(d.ID, deploy.StateRolledBack)
	e.assertAllOn(deploy.SlotBlue)
}

func TestTestListenerFollowsTheReleaseAndPauseBeforeTraffic(t *testing.T) {
	test := deploy.Route{ListenerARN: lsn + "-test"}
	e := newEnv(t, nil, nil, nil, nil, func(o *Options) {
		svc := o.Services["web"]
		svc.TestRoute = &test
		o.Services["web"] = svc
	})
	e.router.set(test, map[string]int{greenTG: 1})
	s := deploy.Strategy{Type: deploy.StrategyCanary, Bake: deploy.Duration(50 * time.Millisecond), PauseBeforeTraffic: true}
	d := e.create("v2", &s)
	held := e.waitState(d.ID, deploy.StatePaused)
	if held.Weights != deploy.AllOn(deploy.SlotBlue) || held.PausedFrom != deploy.StateShifting {
		t.Fatalf("pause_before_traffic must hold before any production weight moves: %+v", held)
	}
	e.assertAllOn(deploy.SlotBlue)
	if w, _ := e.router.GetWeights(context.Background(), test); len(w) != 1 || w[greenTG] != 1 {
		t.Fatalf("test listener should forward to green only while it is checked: %v", w)
	}
	if _, err := e.c.Resume(context.Background(), deploy.ActionRequest{ID: d.ID, Actor: "qa"}); err != nil {
		t.Fatal(err)
	}
	e.waitState(d.ID, deploy.StateSucceeded)
	e.assertAllOn(deploy.SlotGreen)
	// After the release the test listener reaches only the idle colour again: blue.
	if w, _ := e.router.GetWeights(context.Background(), test); len(w) != 1 || w[blueTG] != 1 {
		t.Fatalf("test listener after the release: %v", w)
	}
	acts := e.store.actions(d.ID)
	if n := slices.Index(acts, "test_listener"); n < 0 || n > slices.Index(acts, "weights.intent") {
		t.Fatalf("test listener must be re-pointed before traffic moves: %v", acts)
	}
}
