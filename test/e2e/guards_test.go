package e2e

import (
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/client"
	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/test/demostack"
	"github.com/switchyard/switchyard/test/faultproxy"

	_ "modernc.org/sqlite"
)

// Issue 7, item 1, end to end: CloudWatch answers AccessDenied to every DescribeAlarms (an IAM change)
// while the guarding alarm goes into ALARM. The release must not advance nor succeed: once the guards
// have been unreadable for guard_stale_after it rolls back, naming what could not be read.
func TestGuardsUnreadableRollBack(t *testing.T) {
	e, px := newProxiedEnv(t, "stale", poll, "    guard_stale_after: 2s\n")
	d := e.deploy("v2", steps(10, 3*time.Second, 100, time.Duration(0)))
	e.waitFor(d.ID, "canary", 20*time.Second, func(d *deploy.Deployment) bool { return d.Weights.Green == 100 && d.StepStartedAt != nil })
	px.AWS.Inject(faultproxy.Rule{Match: faultproxy.Op("cloudwatch:DescribeAlarms"), Fault: &faultproxy.AccessDenied})
	if err := demostack.SetAlarm(e.ctx, e.w.AWS, e.w.Stack.GreenAlarm, "ALARM"); err != nil {
		t.Fatal(err)
	}
	done := e.waitFor(d.ID, "terminal", 30*time.Second, func(d *deploy.Deployment) bool { return d.State.Terminal() })
	if done.State != deploy.StateRolledBack || done.Cause != deploy.CauseStale || !strings.Contains(done.Reason, "AccessDenied") ||
		!strings.Contains(done.Reason, e.w.Stack.GreenAlarm) || done.Step != 0 {
		t.Fatalf("state %s cause %s step %d reason %q", done.State, done.Cause, done.Step, done.Reason)
	}
	e.assertWeights(deploy.AllOn(deploy.SlotBlue))
}

// Item 2: an alarm already in ALARM refuses the deployment with 412 naming it; force with a reason
// is accepted and audited.
func TestFiringAlarmRefusesCreateUnlessForced(t *testing.T) {
	e := newEnv(t, "firing", poll, "")
	if err := demostack.SetAlarm(e.ctx, e.w.AWS, e.w.Stack.SharedAlarm, "ALARM"); err != nil {
		t.Fatal(err)
	}
	_, err := e.c.CreateDeployment(e.ctx, e.w.Stack.Name, "v2", client.DeployOptions{})
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Status != 412 || !client.IsKind(err, deploy.KindGuardFiring) || !strings.Contains(err.Error(), e.w.Stack.SharedAlarm) {
		t.Fatalf("want 412 guard_firing naming %s, got %v", e.w.Stack.SharedAlarm, err)
	}
	if hist, _ := e.c.Deployments(e.ctx, e.w.Stack.Name, client.ListOptions{}); len(hist) != 0 {
		t.Fatalf("a refused create stored %d deployment(s)", len(hist))
	}
	d, err := e.c.CreateDeployment(e.ctx, e.w.Stack.Name, "v2", client.DeployOptions{Force: true, Reason: "hotfix for the alarm",
		Strategy: steps(10, 200*time.Millisecond, 100, time.Duration(0))})
	if err != nil {
		t.Fatal(err)
	}
	e.waitState(d.ID, deploy.StateSucceeded, 30*time.Second)
	evs, err := e.c.Events(e.ctx, d.ID, 0)
	if err != nil || evs[0].Action != "create" || evs[0].Detail["force"] != "true" || evs[0].Detail["forced_alarms"] != e.w.Stack.SharedAlarm || evs[0].Actor != "e2e-admin" {
		t.Fatalf("create event: %+v (%v)", evs, err)
	}
}

// Item 8: after a release, the test listener is pointed back at the idle colour; failed
// ModifyListener calls on it are retried, so it never stays on the live colour.
func TestTestListenerEndsIdleAfterFaults(t *testing.T) {
	e, px := newProxiedEnv(t, "testlsn", poll, "")
	d := e.deploy("v2", steps(10, 300*time.Millisecond, 100, time.Duration(0)))
	// Production weights are at 100% once finalizing: from here on every ModifyListener is the test
	// listener's.
	e.waitState(d.ID, deploy.StateFinalizing, 30*time.Second)
	px.AWS.Inject(faultproxy.Rule{Match: faultproxy.Op("elbv2:ModifyListener"), Fault: &faultproxy.InternalFailure, Times: 8})
	px.AWS.Inject(faultproxy.Rule{Match: faultproxy.Op("elbv2:ModifyListener"), Drop: true, Times: 1})
	done := e.waitState(d.ID, deploy.StateSucceeded, 60*time.Second)
	tgs, err := e.w.Stack.TestListenerTargets(e.ctx, e.w.AWS)
	if err != nil || len(tgs) != 1 || tgs[0] != e.w.Stack.BlueTG {
		t.Fatalf("test listener forwards to %v (%v) after %s, want the idle blue only", tgs, err, done.State)
	}
	if acts := e.actions(d.ID); !slices.Contains(acts, "controller:test_listener.failed") {
		t.Fatalf("the injected faults were not seen: %v", acts)
	}
}

// Throttling is back-pressure: behind an emulated ELB Describe* bucket far smaller than the daemon's
// polling would like, and with ModifyListener throttled now and then, a good release still succeeds.
func TestThrottlingSlowsButNeverRollsBack(t *testing.T) {
	e, px := newProxiedEnv(t, "throttle", poll, "")
	px.AWS.AddBucket(faultproxy.Bucket{Match: faultproxy.Family("elbv2", "Describe"), Burst: 4, PerSecond: 2})
	px.AWS.Inject(faultproxy.Rule{Match: faultproxy.Op("elbv2:ModifyListener", "elbv2:ModifyRule"), Fault: &faultproxy.Throttling, Probability: 0.5})
	d := e.deploy("v2", steps(10, 500*time.Millisecond, 50, 500*time.Millisecond, 100, time.Duration(0)))
	done := e.waitFor(d.ID, "terminal", 90*time.Second, func(d *deploy.Deployment) bool { return d.State.Terminal() })
	if done.State != deploy.StateSucceeded {
		t.Fatalf("state %s cause %s reason %q", done.State, done.Cause, done.Reason)
	}
	if px.AWS.Counts().Sum(func(k string) bool { return strings.HasPrefix(k, "elbv2:") }).Throttled == 0 {
		t.Fatalf("nothing was throttled; the test proves nothing:\n%s", table(px.AWS.Counts(), 0))
	}
}

// Item 3: a trigger that arrives while a weight change is in flight is honoured at once: the change
// is never verified nor followed by another increase, and traffic goes back to the previous colour as
// soon as the in-flight request has returned.
func TestTriggerDuringWeightChangeReverses(t *testing.T) {
	e, px := newProxiedEnv(t, "inflight", poll, "")
	d := e.deploy("v2", steps(10, 500*time.Millisecond, 50, time.Minute, 100, time.Duration(0)))
	e.waitFor(d.ID, "canary baking", 20*time.Second, func(d *deploy.Deployment) bool { return d.Weights.Green == 100 && d.StepStartedAt != nil })
	// The next change (to 50%) is slow to reach the rule: the listener moves first.
	px.AWS.Inject(faultproxy.Rule{Match: faultproxy.Op("elbv2:ModifyRule"), Latency: 2 * time.Second, Times: 1})
	e.waitFor(d.ID, "50% journalled", 20*time.Second, func(d *deploy.Deployment) bool { return d.Intended != nil && d.Intended.Green == 500 })
	fired := time.Now()
	if err := demostack.SetAlarm(e.ctx, e.w.AWS, e.w.Stack.GreenAlarm, "ALARM"); err != nil {
		t.Fatal(err)
	}
	done := e.waitFor(d.ID, "terminal", 30*time.Second, func(d *deploy.Deployment) bool { return d.State.Terminal() })
	if done.State != deploy.StateRolledBack || done.Cause != deploy.CauseAlarm {
		t.Fatalf("state %s cause %s reason %q", done.State, done.Cause, done.Reason)
	}
	e.assertWeights(deploy.AllOn(deploy.SlotBlue))
	evs, err := e.c.Events(e.ctx, d.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	var restored time.Time
	for _, ev := range evs {
		if ev.Action == "weights.verified" && strings.Contains(ev.Detail["weights"], "green 500") {
			t.Fatalf("the 50%% step was verified after the alarm: %+v", ev)
		}
		if ev.Action == "step.baked" && ev.Reason != "step 1/3 baked" {
			t.Fatalf("a further step advanced: %+v", ev)
		}
		if ev.Action == "rollback.traffic_restored" {
			restored = ev.Time
		}
	}
	// The in-flight ModifyRule is held 2 s by the proxy; the rollback follows it at once.
	if restored.IsZero() || restored.Sub(fired) > 4*time.Second {
		t.Fatalf("traffic restored %s after the alarm (events %v)", restored.Sub(fired), e.actions(d.ID))
	}
}

// Item 7 (the way out): a stored record the daemon cannot read back (here a negative bake, written by
// hand while the daemon was down) never stops the daemon: it starts, reports the record as
// quarantined, keeps the service locked, and refuses actions on it with a clear error.
func TestUnreadableRecordIsQuarantined(t *testing.T) {
	e := newEnv(t, "quarantine", poll, "")
	d := e.deploy("v2", steps(10, time.Minute, 100, time.Duration(0)))
	e.waitFor(d.ID, "canary", 20*time.Second, func(d *deploy.Deployment) bool { return d.Weights.Green == 100 })
	e.d.Kill()
	db, err := sql.Open("sqlite", e.db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE deployments SET data = json_set(data, '$.steps[0].bake', '-5s') WHERE id = ?`, d.ID); err != nil {
		t.Fatal(err)
	}
	db.Close()
	e.d = e.start() // waits for /readyz: the daemon must come up
	got, err := e.c.Deployment(e.ctx, d.ID)
	if err != nil || got.Quarantine == "" {
		t.Fatalf("want the record reported as quarantined, got %+v (%v)", got, err)
	}
	svcs, err := e.c.Services(e.ctx)
	if err != nil || len(svcs) != 1 || !slices.Contains(svcs[0].Quarantined, d.ID) {
		t.Fatalf("services: %+v (%v)", svcs, err)
	}
	if _, err := e.c.Abort(e.ctx, d.ID, "try"); !client.IsKind(err, deploy.KindPrecondition) || !strings.Contains(err.Error(), "quarantined") {
		t.Fatalf("abort of a quarantined record: %v", err)
	}
	if _, err := e.c.CreateDeployment(e.ctx, e.w.Stack.Name, "v3", client.DeployOptions{}); !client.IsKind(err, deploy.KindConflict) {
		t.Fatalf("the service must stay locked: %v", err)
	}
}

// Item 4, end to end on DynamoDB: writes whose answer is lost after DynamoDB applied them (the proxy
// forwards the call, then drops the connection) are retried by the SDK and the store; the deployment
// keeps its driver, completes, and its audit trail has no duplicate entries.
func TestDynamoDBLostWriteAnswers(t *testing.T) {
	table := fmt.Sprintf("ddb-switchyard-lost-%d", time.Now().UnixNano()%1000000)
	e, px := newProxiedEnv(t, "ddblost", poll, "", func(cfg string) string {
		i := strings.Index(cfg, "store: {")
		j := strings.Index(cfg[i:], "\n")
		return cfg[:i] + "store: {driver: dynamodb, table: " + table + "}" + cfg[i+j:]
	})
	d := e.deploy("v2", steps(10, 500*time.Millisecond, 50, 500*time.Millisecond, 100, time.Duration(0)))
	px.AWS.Inject(faultproxy.Rule{Match: faultproxy.Op("dynamodb:TransactWriteItems", "dynamodb:PutItem", "dynamodb:UpdateItem"),
		Drop: true, Probability: 0.5, Times: 6})
	done := e.waitFor(d.ID, "terminal", 60*time.Second, func(d *deploy.Deployment) bool { return d.State.Terminal() })
	if done.State != deploy.StateSucceeded {
		t.Fatalf("ended %s (%s)", done.State, done.Reason)
	}
	e.assertWeights(deploy.AllOn(deploy.SlotGreen))
	if px.AWS.Counts().Sum(func(k string) bool { return strings.HasPrefix(k, "dynamodb:") }).Dropped == 0 {
		t.Fatal("no write answer was dropped; the test proves nothing")
	}
	acts := e.actions(d.ID)
	for _, a := range []string{"controller:shifted", "controller:retire", "controller:succeeded", "e2e-admin:create"} {
		n := 0
		for _, x := range acts {
			if x == a {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%s recorded %d times: %v", a, n, acts)
		}
	}
}
