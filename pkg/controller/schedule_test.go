package controller

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/calendar"
	"github.com/switchyard/switchyard/pkg/clock"
	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/schedule"
)

// memObjects is an in-memory deploy.ObjectStore.
type memObjects struct {
	mu sync.Mutex
	m  map[string]deploy.Object
}

func newMemObjects() *memObjects { return &memObjects{m: map[string]deploy.Object{}} }

func (s *memObjects) PutObject(_ context.Context, o *deploy.Object) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := string(o.Kind) + "/" + o.ID
	if cur, ok := s.m[k]; (o.Version == 0 && ok) || (o.Version != 0 && (!ok || cur.Version != o.Version)) {
		return deploy.Errorf("mem.PutObject", deploy.KindConflict, "conflict")
	}
	o.Version++
	s.m[k] = *o
	return nil
}

func (s *memObjects) DeleteObject(_ context.Context, kind deploy.ObjectKind, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := string(kind) + "/" + id
	if _, ok := s.m[k]; !ok {
		return deploy.Errorf("mem.DeleteObject", deploy.KindNotFound, "not found")
	}
	delete(s.m, k)
	return nil
}

func (s *memObjects) ListObjects(_ context.Context, kind deploy.ObjectKind) ([]deploy.Object, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []deploy.Object
	for _, o := range s.m {
		if o.Kind == kind {
			out = append(out, o)
		}
	}
	slices.SortFunc(out, func(a, b deploy.Object) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// taggedImages is a registry with push times.
type taggedImages struct{ tags []deploy.ImageTag }

func (f taggedImages) TagExists(_ context.Context, _, tag string) (bool, bool, error) {
	return slices.ContainsFunc(f.tags, func(t deploy.ImageTag) bool { return t.Tag == tag }), true, nil
}

func (f taggedImages) ListTags(context.Context, string) ([]deploy.ImageTag, bool, error) {
	return f.tags, true, nil
}

// vclock drives a fake clock in small steps, so that guards are read (in virtual time) all along.
type vclock struct {
	*clock.Fake
	t *testing.T
}

// until advances virtual time by step until cond holds or virtual time passes limit.
func (v vclock) until(what string, step time.Duration, limit time.Time, cond func() bool) {
	v.t.Helper()
	for !cond() {
		if v.Now().After(limit) {
			v.t.Fatalf("virtual %s: still waiting for %s", v.Now().UTC(), what)
		}
		v.Advance(step)
		time.Sleep(2 * time.Millisecond) // let the goroutines parked on the clock run
	}
}

func scheduledEnv(t *testing.T, clk *clock.Fake, store *memStore, objs *memObjects, router *fakeRouter, ecs *fakeECS, alarms *fakeAlarms, policy schedule.OutsidePolicy) *env {
	return newEnv(t, store, router, ecs, alarms, func(o *Options) {
		svc := o.Services["web"]
		w := tradingWindow
		svc.Window, svc.WindowPolicy = &w, policy
		svc.GuardStaleAfter = deploy.Duration(10 * time.Minute)
		o.Services = map[string]deploy.Service{"web": svc}
		o.Clock, o.Objects = clk, objs
		o.Images = taggedImages{tags: []deploy.ImageTag{{Tag: "v2", PushedAt: t0}, {Tag: "v1.3.0", PushedAt: t0.Add(time.Hour)},
			{Tag: "v1.2.9", PushedAt: t0.Add(-time.Hour)}, {Tag: "latest", PushedAt: t0.Add(2 * time.Hour)}}}
	})
}

// The trading dashboard's plan: 1% at 07:00 ET, 5% after a 30-minute bake, then 25% (an hour's bake)
// which cannot finish before 09:25, so it holds through the trading day at 5% (still guarded), then
// 25% at 16:05 and 100% after the close. The daemon is restarted while it holds.
func TestScheduledCanaryHoldsAcrossTheSessionAndARestart(t *testing.T) {
	clk := vclock{clock.NewFake(et(2026, 12, 7, 6, 0)), t} // a Monday
	store, objs := newMemStore(), newMemObjects()
	e := scheduledEnv(t, clk.Fake, store, objs, nil, nil, nil, "")
	at7 := schedule.Timing{Cron: "0 7 * * 1-5", TZ: "America/New_York"}
	s := deploy.Strategy{Type: deploy.StrategySteps, Steps: []deploy.Step{
		{Percent: 1, Bake: deploy.Duration(30 * time.Minute), Timing: at7},
		{Percent: 5, Bake: deploy.Duration(time.Hour)},
		{Percent: 25, Bake: deploy.Duration(time.Hour)},
		{Percent: 100}}}
	d := e.create("v2", &s)
	get := func() *deploy.Deployment { g, _ := store.GetDeployment(context.Background(), d.ID); return g }
	clk.until("shifting", 10*time.Millisecond, et(2026, 12, 7, 6, 5), func() bool { return get().State == deploy.StateShifting })
	if g := get(); g.Weights.Green != 0 {
		t.Fatalf("traffic moved before the 07:00 step: %s", g.Weights)
	}
	started := map[int]time.Time{}
	watch := func() bool {
		g := get()
		if g.State.Terminal() && g.State != deploy.StateSucceeded {
			t.Fatalf("ended %s: %s; events %v", g.State, g.Reason, store.actions(d.ID))
		}
		if g.StepStartedAt != nil {
			if _, ok := started[g.Step]; !ok {
				started[g.Step] = *g.StepStartedAt
			}
		}
		return false
	}
	step := 2 * time.Minute
	clk.until("step 2 baking", step, et(2026, 12, 7, 8, 0), func() bool { watch(); _, ok := started[1]; return ok })
	within(t, "1% step", started[0], et(2026, 12, 7, 7, 0), step)
	within(t, "5% step", started[1], started[0].Add(30*time.Minute), step)

	// 09:40: the 5% bake is over, the 25% step is held for the after-close window.
	clk.until("09:40", step, et(2026, 12, 7, 9, 41), func() bool { watch(); return !clk.Now().Before(et(2026, 12, 7, 9, 40)) })
	if g := get(); g.Step != 2 || g.StepStartedAt != nil || g.Weights != deploy.Split(deploy.SlotGreen, 5) {
		t.Fatalf("at 09:40 want held at 5%% before step 3: step %d weights %s", g.Step, g.Weights)
	}
	holds := holdReasons(store, d.ID)
	if len(holds) != 2 || !strings.Contains(holds[1], "step 3/4 held: until 2026-12-07 16:05") {
		t.Fatalf("hold not audited with its end: %v", holds)
	}

	// Restart while holding: the new daemon recovers the deployment and holds it until 16:05.
	e.stop()
	e = scheduledEnv(t, clk.Fake, store, objs, e.router, e.ecs, e.alarms, "")
	clk.until("recovered", 10*time.Millisecond, et(2026, 12, 7, 9, 45), func() bool { return e.c.Recovered() })
	clk.until("25% step", step, et(2026, 12, 7, 16, 30), func() bool { watch(); _, ok := started[2]; return ok })
	within(t, "25% step after the restart", started[2], et(2026, 12, 7, 16, 5), step)
	clk.until("succeeded", step, et(2026, 12, 7, 18, 0), func() bool { watch(); return get().State == deploy.StateSucceeded })
	within(t, "100% step", started[3], started[2].Add(time.Hour), step)
	e.assertAllOn(deploy.SlotGreen)
}

func within(t *testing.T, what string, got, want time.Time, slack time.Duration) {
	t.Helper()
	if got.Before(want) || got.After(want.Add(slack+time.Second)) {
		t.Fatalf("%s started %s, want %s (+%s)", what, got.In(ny), want.In(ny), slack)
	}
}

func holdReasons(s *memStore, id string) []string {
	evs, _ := s.Events(context.Background(), id, 0)
	var out []string
	for _, e := range evs {
		if e.Action == "step.hold" {
			out = append(out, e.Reason)
		}
	}
	return out
}

// A freeze set mid-deployment wakes the deployment at once: with window_policy rollback the release
// leaves traffic without any clock tick.
func TestFreezeSetMidDeploymentRollsBackByPolicy(t *testing.T) {
	clk := vclock{clock.NewFake(et(2026, 12, 7, 7, 0)), t}
	store := newMemStore()
	e := scheduledEnv(t, clk.Fake, store, newMemObjects(), nil, nil, nil, schedule.OutsideRollback)
	d := e.create("v2", &deploy.Strategy{Type: deploy.StrategyCanary, CanaryPercent: 10, Bake: deploy.Duration(time.Hour)})
	clk.until("baking", 10*time.Millisecond, et(2026, 12, 7, 7, 10), func() bool {
		g, _ := store.GetDeployment(context.Background(), d.ID)
		return g.StepStartedAt != nil && g.State == deploy.StateShifting
	})
	f, err := e.c.AddFreeze(context.Background(), "oncall", calendar.Freeze{Start: clk.Now().Add(-time.Minute), End: clk.Now().Add(time.Hour), Reason: "incident INC-9"})
	if err != nil {
		t.Fatal(err)
	}
	g := e.waitFor(d.ID, "rollback by window policy", func(d *deploy.Deployment) bool { return d.Cause == deploy.CauseWindow })
	if !strings.Contains(g.Reason, "incident INC-9") {
		t.Fatalf("reason %q does not name the freeze", g.Reason)
	}
	if evs, _ := store.Events(context.Background(), deploy.ObjectAuditID(deploy.ObjectFreeze, f.ID), 0); len(evs) != 1 || evs[0].Actor != "oncall" || evs[0].Action != "freeze.create" {
		t.Fatalf("freeze audit trail: %+v", evs)
	}
}

// A schedule firing at 07:15 while another deployment is active queues the newest matching tag with
// the reason; when the active one ends, the queued tag is deployed.
func TestScheduleFiresWhileAnotherDeploymentIsActive(t *testing.T) {
	clk := vclock{clock.NewFake(et(2026, 12, 7, 7, 0)), t}
	store := newMemStore()
	e := scheduledEnv(t, clk.Fake, store, newMemObjects(), nil, nil, nil, "")
	busy := e.create("v2", &deploy.Strategy{Type: deploy.StrategyCanary, CanaryPercent: 10, Bake: deploy.Duration(time.Hour)})
	if _, err := e.c.AddSchedule(context.Background(), "ops", schedule.Recurring{Name: "premarket", Service: "web",
		Cron: "15 7 * * 1-5", TZ: "America/New_York", Tags: `^v\d+\.\d+\.\d+$`, Policy: schedule.PolicyQueue}); err != nil {
		t.Fatal(err)
	}
	sched := func() deploy.ScheduleRecord { return e.c.Schedules()[0] }
	clk.until("the 07:15 activation", time.Minute, et(2026, 12, 7, 7, 30), func() bool { return sched().LastAction != "" })
	r := sched()
	if r.LastAction != "queue" || r.Queued != "v1.3.0" || !strings.Contains(r.LastReason, busy.ID) {
		t.Fatalf("activation: %+v, want v1.3.0 queued naming %s", r, busy.ID)
	}
	if _, err := e.c.Abort(context.Background(), deploy.ActionRequest{ID: busy.ID, Actor: "ops"}); err != nil {
		t.Fatal(err)
	}
	clk.until("the queued deployment", 10*time.Millisecond, et(2026, 12, 7, 7, 40), func() bool { return sched().LastID != "" })
	q, err := store.GetDeployment(context.Background(), sched().LastID)
	if err != nil || q.ImageTag != "v1.3.0" || q.CreatedBy != "schedule:premarket" {
		t.Fatalf("queued deployment: %+v %v", q, err)
	}
	trail, _ := store.Events(context.Background(), deploy.ObjectAuditID(deploy.ObjectSchedule, "premarket"), 0)
	var acts []string
	for _, ev := range trail {
		acts = append(acts, ev.Action)
	}
	if !slices.Equal(acts, []string{"schedule.create", "schedule.queue", "schedule.deploy"}) {
		t.Fatalf("schedule audit trail %v", acts)
	}
}

// A schedule firing inside a freeze defers (policy defer) to the freeze's end, records why, and then
// deploys the newest matching tag; a skip records why and deploys nothing.
func TestScheduleFiringInAClosedWindow(t *testing.T) {
	for _, policy := range []schedule.Policy{schedule.PolicyDefer, schedule.PolicySkip} {
		t.Run(string(policy), func(t *testing.T) {
			clk := vclock{clock.NewFake(et(2026, 12, 7, 7, 0)), t}
			store := newMemStore()
			e := scheduledEnv(t, clk.Fake, store, newMemObjects(), nil, nil, nil, "")
			freezeEnd := et(2026, 12, 7, 7, 40)
			if _, err := e.c.AddFreeze(context.Background(), "oncall", calendar.Freeze{Start: et(2026, 12, 7, 7, 0), End: freezeEnd, Reason: "vendor maintenance"}); err != nil {
				t.Fatal(err)
			}
			if _, err := e.c.AddSchedule(context.Background(), "ops", schedule.Recurring{Name: "premarket", Service: "web",
				Cron: "15 7 * * 1-5", TZ: "America/New_York", Tags: `^v\d+\.\d+\.\d+$`, Policy: policy}); err != nil {
				t.Fatal(err)
			}
			sched := func() deploy.ScheduleRecord { return e.c.Schedules()[0] }
			clk.until("the 07:15 activation", time.Minute, et(2026, 12, 7, 7, 30), func() bool { return sched().LastAction != "" })
			r := sched()
			if r.LastAction != string(policy) || !strings.Contains(r.LastReason, "vendor maintenance") {
				t.Fatalf("activation: %+v", r)
			}
			if policy == schedule.PolicySkip {
				clk.until("08:00", time.Minute, et(2026, 12, 7, 8, 1), func() bool { return !clk.Now().Before(et(2026, 12, 7, 8, 0)) })
				if ds, _ := store.ListDeployments(context.Background(), deploy.ListFilter{}); len(ds) != 0 || sched().LastAction != "skip" {
					t.Fatalf("skip deployed %d, last %q", len(ds), sched().LastAction)
				}
				return
			}
			if r.RetryAt == nil || !r.RetryAt.Equal(freezeEnd) {
				t.Fatalf("deferred to %v, want the freeze's end %s", r.RetryAt, freezeEnd)
			}
			clk.until("the deferred deployment", time.Minute, et(2026, 12, 7, 8, 0), func() bool { return sched().LastID != "" })
			d, _ := store.GetDeployment(context.Background(), sched().LastID)
			if d.ImageTag != "v1.3.0" || d.CreatedAt.Before(freezeEnd) {
				t.Fatalf("deferred deployment %s created %s, want v1.3.0 after %s", d.ImageTag, d.CreatedAt, freezeEnd)
			}
		})
	}
}
