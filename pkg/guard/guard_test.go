package guard

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/clock"
	"github.com/switchyard/switchyard/pkg/deploy"
)

var t0 = time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC)

type fakeAlarms struct {
	mu     sync.Mutex
	states map[string]string
	err    error
	calls  [][]string
}

func (f *fakeAlarms) AlarmStates(_ context.Context, names []string) (map[string]deploy.AlarmState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, names)
	if f.err != nil {
		return nil, f.err
	}
	out := map[string]deploy.AlarmState{}
	for _, n := range names {
		if st, ok := f.states[n]; ok {
			out[n] = deploy.AlarmState{Name: n, State: st}
		}
	}
	return out, nil
}

type fakeECS struct {
	deploy.Containers
	mu    sync.Mutex
	calls map[string][][]string
}

func (f *fakeECS) DescribeServices(_ context.Context, cluster string, names []string) (map[string]deploy.ECSService, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[cluster] = append(f.calls[cluster], names)
	out := map[string]deploy.ECSService{}
	for _, n := range names {
		out[n] = deploy.ECSService{Name: n, Status: "ACTIVE"}
	}
	return out, nil
}

type fakeRouter struct {
	deploy.TrafficRouter
	mu    sync.Mutex
	reads map[string]int
}

func (f *fakeRouter) TargetHealth(_ context.Context, tg string) ([]deploy.Target, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads[tg]++
	return []deploy.Target{{ID: "10.0.0.1", Port: 8000, State: "healthy"}}, nil
}

func (f *fakeRouter) HealthCheckInterval(context.Context, string) (time.Duration, error) {
	return 10 * time.Second, nil
}

func newObserver(a *fakeAlarms) (*Observer, *fakeECS, *fakeRouter, *clock.Fake) {
	clk := clock.NewFake(t0)
	e := &fakeECS{calls: map[string][][]string{}}
	r := &fakeRouter{reads: map[string]int{}}
	return NewObserver(a, e, r, time.Second, clk, nil), e, r, clk
}

func TestObserverBatchesEveryDeploymentIntoOneRound(t *testing.T) {
	a := &fakeAlarms{states: map[string]string{"shared": "OK", "x": "ALARM", "y": "OK"}}
	o, e, r, clk := newObserver(a)
	o.Watch("d1", Watch{Alarms: []string{"shared", "x"}, Cluster: "c1", Service: "s1", TargetGroup: "tg1"})
	o.Watch("d2", Watch{Alarms: []string{"shared", "y"}, Cluster: "c1", Service: "s2", TargetGroup: "tg2"})
	o.Watch("d3", Watch{Alarms: []string{"y"}, Cluster: "c2", Service: "s3"})
	o.Poll(context.Background())
	if len(a.calls) != 1 || len(a.calls[0]) != 3 {
		t.Fatalf("want one DescribeAlarms with the 3 distinct names, got %v", a.calls)
	}
	if len(e.calls["c1"]) != 1 || len(e.calls["c1"][0]) != 2 || len(e.calls["c2"]) != 1 {
		t.Fatalf("want one DescribeServices per cluster, got %v", e.calls)
	}
	if r.reads["tg1"] != 1 || r.reads["tg2"] != 1 {
		t.Fatalf("first round reads every target group once, got %v", r.reads)
	}
	// Target health follows the target group's own cadence (10 s), not the poll interval.
	for i := 0; i < 5; i++ {
		clk.Advance(time.Second)
		o.Poll(context.Background())
	}
	if r.reads["tg1"] != 1 {
		t.Fatalf("target health read %d times in 5 s with a 10 s health-check interval", r.reads["tg1"])
	}
	o.Demand("d1")
	o.Poll(context.Background())
	if r.reads["tg1"] != 2 || r.reads["tg2"] != 1 {
		t.Fatalf("a demand reads only that target group at once, got %v", r.reads)
	}
	clk.Advance(10 * time.Second)
	o.Poll(context.Background())
	if r.reads["tg2"] != 2 {
		t.Fatalf("after the cadence the target group is read again, got %v", r.reads)
	}
	rd := o.Readings("d1")
	if rd.Alarms["x"].State.State != "ALARM" || !rd.ServicePresent || rd.TargetsAt.IsZero() {
		t.Fatalf("readings %+v", rd)
	}
	o.Unwatch("d1")
	o.Unwatch("d2")
	o.Unwatch("d3")
	n := len(a.calls)
	o.Poll(context.Background())
	if len(a.calls) != n {
		t.Fatal("no watches must mean no calls")
	}
}

func spec(names ...string) Spec {
	return Spec{Alarms: names, InsufficientData: deploy.InsufficientStale, StaleAfter: 30 * time.Second, Health: true}
}

func TestEvaluateFailedPollsGoStaleNeverHealthy(t *testing.T) {
	a := &fakeAlarms{states: map[string]string{"a": "OK"}}
	o, _, _, clk := newObserver(a)
	o.Watch("d", Watch{Alarms: []string{"a"}, Cluster: "c", Service: "s", TargetGroup: "tg"})
	o.Poll(context.Background())
	bakeStart := clk.Now()
	clk.Advance(time.Second)
	if v := Evaluate(spec("a"), o.Readings("d"), bakeStart, t0, clk.Now()); v.Fresh {
		t.Fatal("readings older than the bake's start must not count as fresh")
	}
	a.err = errors.New("AccessDenied: not authorized to perform cloudwatch:DescribeAlarms")
	a.states["a"] = "ALARM" // unseen: every poll fails
	for i := 0; i < 31; i++ {
		clk.Advance(time.Second)
		o.Demand("d")
		o.Poll(context.Background())
	}
	v := Evaluate(spec("a"), o.Readings("d"), bakeStart, t0, clk.Now())
	if v.Fresh || v.Trigger != nil {
		t.Fatalf("failed polls: fresh=%v trigger=%v", v.Fresh, v.Trigger)
	}
	if len(v.Stale) != 1 || !strings.Contains(v.Stale[0], "alarm a") || !strings.Contains(v.Stale[0], "AccessDenied") {
		t.Fatalf("stale must name the alarm and the error, got %v", v.Stale)
	}
}

func TestEvaluateMissingAlarmAndInsufficientData(t *testing.T) {
	a := &fakeAlarms{states: map[string]string{"a": "OK", "gone": "OK", "sparse": "INSUFFICIENT_DATA"}}
	o, _, _, clk := newObserver(a)
	o.Watch("d", Watch{Alarms: []string{"a", "gone", "sparse"}})
	since := clk.Now()
	clk.Advance(time.Second)
	o.Poll(context.Background())
	s := Spec{Alarms: []string{"a", "gone", "sparse"}, InsufficientData: deploy.InsufficientOK, StaleAfter: 30 * time.Second}
	if v := Evaluate(s, o.Readings("d"), since, since, clk.Now()); !v.Fresh {
		t.Fatalf("all OK (sparse read as ok): %+v", v)
	}
	s.InsufficientData = deploy.InsufficientStale
	if v := Evaluate(s, o.Readings("d"), since, since, clk.Now()); v.Fresh || len(v.Waiting) != 1 {
		t.Fatalf("insufficient_data: stale must block: %+v", v)
	}
	s.InsufficientData = deploy.InsufficientAlarm
	if v := Evaluate(s, o.Readings("d"), since, since, clk.Now()); v.Trigger == nil {
		t.Fatalf("insufficient_data: alarm must trigger: %+v", v)
	}
	s.InsufficientData = deploy.InsufficientOK
	delete(a.states, "gone") // deleted mid-flight
	clk.Advance(time.Second)
	o.Poll(context.Background())
	v := Evaluate(s, o.Readings("d"), since, since, clk.Now())
	if v.Fresh || v.Trigger != nil {
		t.Fatalf("a vanished alarm is neither healthy nor firing: %+v", v)
	}
	clk.Advance(31 * time.Second)
	o.Poll(context.Background())
	v = Evaluate(s, o.Readings("d"), since, since, clk.Now())
	if len(v.Stale) != 1 || !strings.Contains(v.Stale[0], "gone") {
		t.Fatalf("a vanished alarm goes stale: %+v", v)
	}
}

func TestEvaluateAcknowledgedAlarm(t *testing.T) {
	a := &fakeAlarms{states: map[string]string{"a": "ALARM"}}
	o, _, _, clk := newObserver(a)
	o.Watch("d", Watch{Alarms: []string{"a"}})
	since := clk.Now()
	clk.Advance(time.Second)
	o.Poll(context.Background())
	s := Spec{Alarms: []string{"a"}, StaleAfter: 30 * time.Second}
	if v := Evaluate(s, o.Readings("d"), since, since, clk.Now()); v.Trigger == nil {
		t.Fatal("ALARM must trigger")
	}
	s.Acknowledged = map[string]bool{"a": true}
	if v := Evaluate(s, o.Readings("d"), since, since, clk.Now()); v.Trigger != nil || !v.Fresh {
		t.Fatalf("an acknowledged alarm neither triggers nor blocks: %+v", v)
	}
}

// With many deployments the observer stretches the ECS and target-health cadences so that their call
// rates stay inside MaxServiceCallsPerSecond and MaxTargetCallsPerSecond, in steady state.
func TestObserverKeepsReadsWithinBudget(t *testing.T) {
	a := &fakeAlarms{states: map[string]string{}}
	o, e, r, clk := newObserver(a)
	for i := 0; i < 100; i++ {
		id := string(rune('A'+i%26)) + string(rune('a'+i/26))
		o.Watch(id, Watch{Alarms: []string{"a-" + id}, Cluster: "c-" + id, Service: "s", TargetGroup: "tg-" + id})
	}
	o.Poll(context.Background()) // the first round reads everything once
	ecs0, tg0 := ecsCalls(e), tgReads(r)
	const secs = 120
	for i := 0; i < secs; i++ {
		clk.Advance(time.Second)
		o.Poll(context.Background())
	}
	ecsRate := float64(ecsCalls(e)-ecs0) / secs
	tgRate := float64(tgReads(r)-tg0) / secs
	if ecsRate > MaxServiceCallsPerSecond*1.1 || tgRate > MaxTargetCallsPerSecond*1.1 {
		t.Fatalf("ECS %.2f calls/s (budget %v), target health %.2f/s (budget %v)", ecsRate, MaxServiceCallsPerSecond, tgRate, MaxTargetCallsPerSecond)
	}
	if ecsRate == 0 || tgRate == 0 {
		t.Fatalf("reads stopped: ECS %.2f/s, targets %.2f/s", ecsRate, tgRate)
	}
	if len(a.calls) != 1+secs {
		t.Fatalf("alarms must still be read every interval: %d calls in %d rounds", len(a.calls), 1+secs)
	}
	rd := o.Readings("Aa")
	if rd.ServiceEvery < 10*time.Second || rd.TargetsEvery < 30*time.Second {
		t.Fatalf("cadences %s / %s", rd.ServiceEvery, rd.TargetsEvery)
	}
	t.Logf("100 deployments in 100 clusters: ECS %.2f calls/s every %s, target health %.2f/s every %s", ecsRate, rd.ServiceEvery, tgRate, rd.TargetsEvery)
}

func ecsCalls(e *fakeECS) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, c := range e.calls {
		n += len(c)
	}
	return n
}

func tgReads(r *fakeRouter) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.reads {
		n += c
	}
	return n
}

// A reading made before this deployment was guarded (for an earlier deployment of the same alarm) is
// not evidence for it: it neither triggers nor counts as fresh.
func TestEvaluateIgnoresReadingsFromBeforeTheWatch(t *testing.T) {
	a := &fakeAlarms{states: map[string]string{"a": "ALARM"}}
	o, _, _, clk := newObserver(a)
	o.Watch("old", Watch{Alarms: []string{"a"}})
	o.Poll(context.Background())
	clk.Advance(time.Second)
	watched := clk.Now()
	o.Watch("new", Watch{Alarms: []string{"a"}})
	v := Evaluate(Spec{Alarms: []string{"a"}, StaleAfter: 30 * time.Second}, o.Readings("new"), watched, watched, clk.Now())
	if v.Trigger != nil || v.Fresh {
		t.Fatalf("an old ALARM reading judged the new deployment: %+v", v)
	}
}

// A guard whose read ran out of time waiting for the daemon's own API budget (a burst) is delayed:
// it blocks progress but is not stale; one that AWS refused is stale.
func TestEvaluateBudgetWaitIsDelayNotStaleness(t *testing.T) {
	now := t0.Add(5 * time.Minute)
	r := Readings{Alarms: map[string]Alarm{"a": {State: deploy.AlarmState{State: "OK"}, Present: true, ReadAt: now, OKAt: now}},
		ServicePresent: true, ServiceAt: now, ServiceGoodAt: now,
		TargetsAt: t0, TargetsErr: "DescribeTargetHealth failed: waiting for the daemon's elbv2 call budget", TargetsDelayed: true}
	s := spec("a")
	v := Evaluate(s, r, t0.Add(time.Minute), t0, now)
	if v.Fresh || len(v.Stale) != 0 {
		t.Fatalf("budget wait: want waiting, not stale: %+v", v)
	}
	r.TargetsDelayed, r.TargetsErr = false, "DescribeTargetHealth failed: AccessDenied"
	if v := Evaluate(s, r, t0.Add(time.Minute), t0, now); len(v.Stale) != 1 || !strings.Contains(v.Stale[0], "AccessDenied") {
		t.Fatalf("refused by AWS: want stale: %+v", v)
	}
}
