package e2e

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/switchyard/switchyard/pkg/client"
	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/test/demostack"
)

const poll = 100 * time.Millisecond

func TestCanaryToFullTraffic(t *testing.T) {
	e := newEnv(t, "canary", poll, "")
	d := e.deploy("v2", &deploy.Strategy{Type: deploy.StrategyCanary, CanaryPercent: 10, Bake: deploy.Duration(time.Second)})
	if d.From != deploy.SlotBlue || d.To != deploy.SlotGreen {
		t.Fatalf("from %s to %s", d.From, d.To)
	}
	// The canary step is visible on the ALB itself, on the listener and on the path rule.
	e.waitFor(d.ID, "canary verified", 20*time.Second, func(d *deploy.Deployment) bool {
		return d.State == deploy.StateShifting && d.Weights.Green == 100
	})
	e.assertWeights(deploy.Weights{Blue: 899, Green: 100})
	done := e.waitState(d.ID, deploy.StateSucceeded, 30*time.Second)
	e.assertWeights(deploy.AllOn(deploy.SlotGreen))
	green, _ := e.w.ECS.Service(e.w.Stack.GreenService)
	blue, _ := e.w.ECS.Service(e.w.Stack.BlueService)
	if green.TaskDefinition != done.TaskDef || green.RunningCount != demostack.LiveCount {
		t.Fatalf("green runs %s with %d tasks; want %s with %d", green.TaskDefinition, green.RunningCount, done.TaskDef, demostack.LiveCount)
	}
	if blue.DesiredCount != 0 {
		t.Fatalf("blue still has %d desired tasks after success", blue.DesiredCount)
	}
	// The new task definition carries the deployment id, so ECS itself says which release it belongs to.
	td, err := ecs.NewFromConfig(e.w.ECS.AWSConfig()).DescribeTaskDefinition(e.ctx, &ecs.DescribeTaskDefinitionInput{
		TaskDefinition: aws.String(done.TaskDef), Include: []ecstypes.TaskDefinitionField{ecstypes.TaskDefinitionFieldTags}})
	if err != nil {
		t.Fatal(err)
	}
	tags := map[string]string{}
	for _, tg := range td.Tags {
		tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	if tags["switchyard:deployment-id"] != d.ID || tags["switchyard:image-tag"] != "v2" {
		t.Fatalf("task definition tags %v", tags)
	}
	if img := aws.ToString(td.TaskDefinition.ContainerDefinitions[0].Image); img != e.w.Stack.RepositoryURI+":v2" {
		t.Fatalf("new task definition runs %s", img)
	}
	// The test listener reaches only the idle colour: green while it was being released, blue now.
	if tgs, err := e.w.Stack.TestListenerTargets(e.ctx, e.w.AWS); err != nil || len(tgs) != 1 || tgs[0] != e.w.Stack.BlueTG {
		t.Fatalf("test listener after the release forwards to %v (%v), want blue only", tgs, err)
	}
	if acts := e.actions(d.ID); !slices.Contains(acts, "controller:test_listener") {
		t.Fatalf("no test listener event: %v", acts)
	}
	// Auto scaling follows the release: active with the old floor on green, suspended at 0 on blue.
	gs, _ := e.w.ECS.ScalableTarget(e.w.Stack.Cluster, e.w.Stack.GreenService)
	bs, _ := e.w.ECS.ScalableTarget(e.w.Stack.Cluster, e.w.Stack.BlueService)
	if gs.Suspended || gs.Min != demostack.LiveCount || !bs.Suspended || bs.Min != 0 {
		t.Fatalf("auto scaling not handed over: green %+v, blue %+v", gs, bs)
	}
	if done.PreviousTaskDef == "" || done.PreviousTaskDef == done.TaskDef {
		t.Fatalf("previous task definition not recorded: %q", done.PreviousTaskDef)
	}
	acts := e.actions(d.ID)
	for _, want := range []string{"e2e-admin:create", "controller:taskdef.registered", "controller:ready", "controller:weights.verified", "controller:shifted", "controller:succeeded"} {
		if !slices.Contains(acts, want) {
			t.Errorf("audit trail lacks %s: %v", want, acts)
		}
	}
	svcs, err := e.c.Services(e.ctx)
	if err != nil || len(svcs) != 1 || svcs[0].LiveSlot != deploy.SlotGreen {
		t.Fatalf("services: %+v %v", svcs, err)
	}
}

func TestAlarmMidShiftRollsBack(t *testing.T) {
	e := newEnv(t, "alarm", poll, "")
	d := e.deploy("v2", steps(25, time.Minute, 100, time.Duration(0)))
	e.waitFor(d.ID, "25% verified", 20*time.Second, func(d *deploy.Deployment) bool { return d.Weights.Green == 250 })
	e.assertWeights(deploy.Weights{Blue: 749, Green: 250})
	if err := demostack.SetAlarm(e.ctx, e.w.AWS, e.w.Stack.GreenAlarm, "ALARM"); err != nil {
		t.Fatal(err)
	}
	done := e.waitState(d.ID, deploy.StateRolledBack, 20*time.Second)
	e.assertWeights(deploy.AllOn(deploy.SlotBlue))
	if done.Cause != deploy.CauseAlarm || !strings.Contains(done.Reason, e.w.Stack.GreenAlarm) {
		t.Fatalf("cause %q reason %q", done.Cause, done.Reason)
	}
	green, _ := e.w.ECS.Service(e.w.Stack.GreenService)
	if green.DesiredCount != 0 {
		t.Fatalf("green not scaled down: %+v", green)
	}
	if acts := e.actions(d.ID); !slices.Contains(acts, "controller:rollback") || !slices.Contains(acts, "controller:rollback.traffic_restored") {
		t.Fatalf("audit trail: %v", acts)
	}
}

func TestAbort(t *testing.T) {
	e := newEnv(t, "abort", poll, "")
	d := e.deploy("v2", steps(10, time.Minute, 100, time.Duration(0)))
	e.waitFor(d.ID, "canary", 20*time.Second, func(d *deploy.Deployment) bool { return d.Weights.Green == 100 })
	a, err := e.c.Abort(e.ctx, d.ID, "trader reports stale quotes")
	if err != nil || a.State != deploy.StateRollingBack {
		t.Fatalf("abort: %v %+v", err, a)
	}
	done := e.waitState(d.ID, deploy.StateRolledBack, 20*time.Second)
	e.assertWeights(deploy.AllOn(deploy.SlotBlue))
	if done.Cause != deploy.CauseAbort || done.Reason != "aborted by e2e-admin: trader reports stale quotes" {
		t.Fatalf("cause %q reason %q", done.Cause, done.Reason)
	}
}

func TestPauseResumePromote(t *testing.T) {
	e := newEnv(t, "pause", poll, "")
	d := e.deploy("v2", &deploy.Strategy{Type: deploy.StrategyLinear, LinearSteps: 4, Bake: deploy.Duration(500 * time.Millisecond)})
	e.waitFor(d.ID, "first step", 20*time.Second, func(d *deploy.Deployment) bool { return d.Weights.Green == 250 })
	p, err := e.c.Pause(e.ctx, d.ID, "hold for the open")
	if err != nil || p.State != deploy.StatePaused {
		t.Fatalf("pause: %v %+v", err, p)
	}
	held := p.Weights
	time.Sleep(1500 * time.Millisecond) // three bakes' worth: a paused deployment must not advance
	if now, _ := e.c.Deployment(e.ctx, d.ID); now.State != deploy.StatePaused || now.Weights != held {
		t.Fatalf("paused deployment moved: %+v", now)
	}
	l, _ := e.weights()
	if l != held {
		t.Fatalf("ALB moved while paused: %s, held %s", l, held)
	}
	if _, err := e.c.Resume(e.ctx, d.ID, ""); err != nil {
		t.Fatal(err)
	}
	e.waitFor(d.ID, "next step after resume", 20*time.Second, func(d *deploy.Deployment) bool { return d.Weights.Green > held.Green })
	if _, err := e.c.Promote(e.ctx, d.ID, "metrics clean"); err != nil {
		t.Fatal(err)
	}
	done := e.waitState(d.ID, deploy.StateSucceeded, 20*time.Second)
	e.assertWeights(deploy.AllOn(deploy.SlotGreen))
	if done.Step != len(done.Steps)-1 {
		t.Fatalf("promote did not land on the last step: %d/%d", done.Step, len(done.Steps))
	}
	acts := e.actions(d.ID)
	for _, want := range []string{"e2e-admin:pause", "e2e-admin:resume", "e2e-admin:promote"} {
		if !slices.Contains(acts, want) {
			t.Errorf("audit trail lacks %s: %v", want, acts)
		}
	}
}

func TestSecondDeploymentConflicts(t *testing.T) {
	e := newEnv(t, "conflict", poll, "")
	d := e.deploy("v2", steps(10, time.Minute, 100, time.Duration(0)))
	_, err := e.c.CreateDeployment(e.ctx, e.name, "v3", client.DeployOptions{})
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusConflict || apiErr.ActiveID != d.ID {
		t.Fatalf("want 409 naming %s, got %v", d.ID, err)
	}
}

func TestBadRequestsChangeNothing(t *testing.T) {
	e := newEnv(t, "badreq", poll, "")
	bad, err := client.New(e.d.URL, "not-a-valid-token-at-all", nil)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		c      *client.Client
		svc    string
		tag    string
		s      *deploy.Strategy
		status int
	}{
		{"unknown service", e.c, "nope", "v2", nil, http.StatusNotFound},
		{"malformed tag", e.c, e.name, "v2 with spaces", nil, http.StatusBadRequest},
		{"tag not in ECR", e.c, e.name, "v9", nil, http.StatusNotFound},
		{"bad token", bad, e.name, "v2", nil, http.StatusUnauthorized},
		{"read-only token", e.ro, e.name, "v2", nil, http.StatusForbidden},
		{"decreasing steps", e.c, e.name, "v2", steps(50, time.Second, 20, time.Second, 100, time.Duration(0)), http.StatusBadRequest},
		{"steps not ending at 100", e.c, e.name, "v2", steps(10, time.Second, 50, time.Second), http.StatusBadRequest},
		{"unknown strategy", e.c, e.name, "v2", &deploy.Strategy{Type: "big-bang"}, http.StatusBadRequest},
	}
	for _, tc := range cases {
		_, err := tc.c.CreateDeployment(e.ctx, tc.svc, tc.tag, client.DeployOptions{Strategy: tc.s})
		var apiErr *client.APIError
		if !errors.As(err, &apiErr) || apiErr.Status != tc.status || apiErr.Message == "" {
			t.Errorf("%s: want %d with a message, got %v", tc.name, tc.status, err)
		}
	}
	if _, err := e.ro.Abort(e.ctx, "00000000-0000-0000-0000-000000000000", ""); !client.IsKind(err, deploy.KindForbidden) {
		t.Errorf("read-only abort: want forbidden, got %v", err)
	}
	if _, err := e.c.Deployment(e.ctx, "00000000-0000-0000-0000-000000000000"); !client.IsKind(err, deploy.KindNotFound) {
		t.Errorf("unknown deployment: want not_found, got %v", err)
	}
	list, err := e.ro.Deployments(e.ctx, e.name, client.ListOptions{})
	if err != nil || len(list) != 0 {
		t.Fatalf("bad requests created deployments: %v %v", list, err)
	}
	e.assertWeights(deploy.AllOn(deploy.SlotBlue))
	if n := e.w.ECS.Calls("UpdateService") + e.w.ECS.Calls("RegisterTaskDefinition"); n != 0 {
		t.Fatalf("bad requests reached ECS %d times", n)
	}
}

// TestKillMidShift kills the daemon with SIGKILL at several points of a shift, restarts it, and checks
// that every deployment finishes (resume policy) and that the ALB never carried a split that the
// deployment's plan does not explain.
func TestKillMidShift(t *testing.T) {
	e := newEnv(t, "sigkill", poll, "")
	plan := steps(10, 700*time.Millisecond, 30, 700*time.Millisecond, 60, 700*time.Millisecond, 100, time.Duration(0))
	allowed := map[deploy.Weights]bool{deploy.AllOn(deploy.SlotBlue): true, deploy.AllOn(deploy.SlotGreen): true}
	for _, s := range plan.Steps {
		allowed[deploy.Split(deploy.SlotGreen, s.Percent)] = true
		allowed[deploy.Split(deploy.SlotBlue, s.Percent)] = true
	}
	// Watch the ALB independently of the daemon for the whole test.
	stop := make(chan struct{})
	violations := make(chan string, 100)
	go func() {
		for {
			select {
			case <-stop:
				close(violations)
				return
			default:
			}
			l, r, err := e.w.Stack.Weights(e.ctx, e.w.AWS)
			if err == nil {
				for _, p := range [][2]int32{l, r} {
					w := deploy.Weights{Blue: int(p[0]), Green: int(p[1])}
					if !allowed[w] {
						violations <- w.String()
					}
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()

	tags := []string{"v2", "v3"}
	killAfter := []time.Duration{900 * time.Millisecond, 1700 * time.Millisecond}
	for i, tag := range tags {
		d := e.deploy(tag, plan)
		e.waitFor(d.ID, "shifting", 20*time.Second, func(d *deploy.Deployment) bool { return d.State == deploy.StateShifting })
		time.Sleep(killAfter[i])
		e.d.Kill()
		rec, _ := demostackWeights(e)
		t.Logf("killed during %s at %s", tag, rec)
		e.d = e.start()
		done := e.waitFor(d.ID, "finished after restart", 30*time.Second, func(d *deploy.Deployment) bool { return d.State.Terminal() })
		if done.State != deploy.StateSucceeded {
			t.Fatalf("deployment %s ended %s (%s)", tag, done.State, done.Reason)
		}
		e.assertWeights(deploy.AllOn(done.To))
		if acts := e.actions(d.ID); !slices.Contains(acts, "controller:recover") {
			t.Fatalf("no recovery recorded: %v", acts)
		}
	}
	close(stop)
	for v := range violations {
		t.Errorf("ALB carried an unexplained split: %s", v)
	}
}

func demostackWeights(e *env) (string, error) {
	l, r := e.weights()
	return "listener " + l.String() + ", rule " + r.String(), nil
}

func TestECSFailureRollsBackBeforeTraffic(t *testing.T) {
	e := newEnv(t, "ecsfail", poll, "")
	e.w.ECS.FailNext(e.w.Stack.GreenService, "ECS deployment circuit breaker: tasks failed to start")
	d := e.deploy("v2", nil)
	done := e.waitState(d.ID, deploy.StateRolledBack, 20*time.Second)
	if done.Cause != deploy.CauseECS || !strings.Contains(done.Reason, "circuit breaker") {
		t.Fatalf("cause %q reason %q", done.Cause, done.Reason)
	}
	e.assertWeights(deploy.AllOn(deploy.SlotBlue))
	if acts := e.actions(d.ID); slices.Contains(acts, "controller:weights.intent") && !slices.Contains(acts, "controller:rollback") {
		t.Fatalf("traffic moved to a failed release: %v", acts)
	}
}

// TestReloadKeepsInFlightDeployment changes the configuration under a running deployment and reloads it
// over the API: the deployment keeps the settings it started with and finishes; new deployments get the
// new ones.
func TestReloadKeepsInFlightDeployment(t *testing.T) {
	e := newEnv(t, "reload", poll, "")
	d := e.deploy("v2", steps(10, 2*time.Second, 100, time.Duration(0)))
	e.waitFor(d.ID, "canary", 20*time.Second, func(d *deploy.Deployment) bool { return d.Weights.Green == 100 })
	b, err := os.ReadFile(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	// New default strategy for the service, and the shared alarm dropped from its guard.
	changed := strings.Replace(string(b), "    deregistration_delay: 1s\n", "    deregistration_delay: 1s\n    strategy: {type: all-at-once}\n", 1)
	changed = strings.Replace(changed, "    alarms: ["+e.w.Stack.SharedAlarm+"]\n", "    alarms: []\n", 1)
	if changed == string(b) {
		t.Fatal("config edit did not apply")
	}
	if err := os.WriteFile(e.cfg, []byte(changed), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := e.c.Reload(e.ctx, "e2e: new strategy"); err != nil {
		t.Fatal(err)
	}
	// The in-flight deployment is still guarded by the alarm it started with.
	cur, err := e.c.Deployment(e.ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	guarded := false
	for _, g := range cur.Guard {
		guarded = guarded || g.Name == e.w.Stack.SharedAlarm
	}
	if !guarded || cur.Strategy.Type != deploy.StrategySteps {
		t.Fatalf("reload changed the in-flight deployment: strategy %s, guard %v", cur.Strategy.Type, cur.Guard)
	}
	done := e.waitState(d.ID, deploy.StateSucceeded, 30*time.Second)
	if len(done.Steps) != 2 {
		t.Fatalf("steps changed under the deployment: %v", done.Steps)
	}
	next := e.deploy("v3", nil)
	if next.Strategy.Type != deploy.StrategyAllAtOnce {
		t.Fatalf("new deployment did not get the reloaded strategy: %s", next.Strategy.Type)
	}
	e.waitState(next.ID, deploy.StateSucceeded, 30*time.Second)
}

// TestPauseBeforeTraffic: the release waits, ready and reachable through the test listener only, until
// an operator resumes it.
func TestPauseBeforeTraffic(t *testing.T) {
	e := newEnv(t, "holdfortest", poll, "")
	s := &deploy.Strategy{Type: deploy.StrategyCanary, CanaryPercent: 10, Bake: deploy.Duration(200 * time.Millisecond), PauseBeforeTraffic: true}
	d := e.deploy("v2", s)
	held := e.waitState(d.ID, deploy.StatePaused, 20*time.Second)
	e.assertWeights(deploy.AllOn(deploy.SlotBlue))
	if tgs, err := e.w.Stack.TestListenerTargets(e.ctx, e.w.AWS); err != nil || len(tgs) != 1 || tgs[0] != e.w.Stack.GreenTG {
		t.Fatalf("test listener forwards to %v (%v) while the release is held, want green only", tgs, err)
	}
	green, _ := e.w.ECS.Service(e.w.Stack.GreenService)
	if green.RunningCount != demostack.LiveCount || green.TaskDefinition != held.TaskDef {
		t.Fatalf("green not up on the new release while held: %+v", green)
	}
	if _, err := e.c.Resume(e.ctx, d.ID, "checked on the test listener"); err != nil {
		t.Fatal(err)
	}
	e.waitState(d.ID, deploy.StateSucceeded, 30*time.Second)
	e.assertWeights(deploy.AllOn(deploy.SlotGreen))
}

// TestDynamoDBStore runs the daemon on the DynamoDB store (kumo): a release survives a SIGKILL mid-shift
// and finishes after the restart from the state kept in the table.
func TestDynamoDBStore(t *testing.T) {
	table := fmt.Sprintf("ddb-switchyard-e2e-%d", time.Now().UnixNano()%1000000)
	e := newEnv(t, "dynamo", poll, "", func(cfg string) string {
		i := strings.Index(cfg, "store: {")
		j := strings.Index(cfg[i:], "\n")
		return cfg[:i] + "store: {driver: dynamodb, table: " + table + "}" + cfg[i+j:]
	})
	d := e.deploy("v2", steps(10, 800*time.Millisecond, 50, 800*time.Millisecond, 100, time.Duration(0)))
	e.waitFor(d.ID, "first step", 20*time.Second, func(d *deploy.Deployment) bool { return d.Weights.Green == 100 })
	e.d.Kill()
	e.d = e.start()
	done := e.waitFor(d.ID, "finished after restart", 30*time.Second, func(d *deploy.Deployment) bool { return d.State.Terminal() })
	if done.State != deploy.StateSucceeded {
		t.Fatalf("ended %s (%s)", done.State, done.Reason)
	}
	e.assertWeights(deploy.AllOn(deploy.SlotGreen))
	if acts := e.actions(d.ID); !slices.Contains(acts, "controller:recover") || !slices.Contains(acts, "e2e-admin:create") {
		t.Fatalf("audit trail from DynamoDB: %v", acts)
	}
	if _, err := os.Stat(e.db); err == nil {
		t.Fatalf("a SQLite file was created although the store is DynamoDB")
	}
}
