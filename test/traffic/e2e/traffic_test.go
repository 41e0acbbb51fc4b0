package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/client"
	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/test/apptask"
	"github.com/switchyard/switchyard/test/demostack"
	"github.com/switchyard/switchyard/test/emulator"
	"github.com/switchyard/switchyard/test/traffic/loadgen"
	"github.com/switchyard/switchyard/test/traffic/world"
)

// trafficEnv is an env whose world carries real traffic (package world) and whose daemon reads
// target health from the data plane.
type trafficEnv struct {
	*env
	tw *world.World
}

// envOption changes a traffic env before its daemon starts: the world's options, and service settings
// that need the world (its Prometheus, its test listener).
type envOption struct {
	world   func(*world.Options)
	service func(*world.World) string
}

func newTrafficEnv(t testing.TB, name string, poll time.Duration, table *apptask.Table, alarmScale float64, strategyYAML string, opts ...envOption) *trafficEnv {
	t.Helper()
	k := emulator.Shared(t)
	ctx := emulator.Context(t, 5*time.Minute)
	worlds++
	name = fmt.Sprintf("%s%d", name, worlds)
	o := world.Options{Name: name, Tags: []string{"v2", "v3", "v4", "v5"}, Table: table, AlarmScale: alarmScale, Log: t.Logf}
	for _, opt := range opts {
		if opt.world != nil {
			opt.world(&o)
		}
	}
	tw, err := world.New(ctx, k.URL, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tw.Close)
	for _, opt := range opts {
		if opt.service != nil {
			strategyYAML += opt.service(tw)
		}
	}
	dir := t.TempDir()
	e := &env{t: t, w: tw.World, db: filepath.Join(dir, "switchyard.db"), cfg: filepath.Join(dir, "switchyard.yaml"), ctx: ctx, name: name}
	port, err := emulator.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	yaml := tw.ConfigYAML(fmt.Sprintf("127.0.0.1:%d", port), e.db, poll,
		[]demostack.Token{{Name: "e2e-admin", Value: adminToken}, {Name: "e2e-oncall", Value: roToken, ReadOnly: true}}, strategyYAML)
	if err := os.WriteFile(e.cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	e.d = e.start()
	if e.c, err = client.New(e.d.URL, adminToken, nil); err != nil {
		t.Fatal(err)
	}
	return &trafficEnv{env: e, tw: tw}
}

// load sends rate requests/s for d to the production listener: half to the /api/* rule, half to the
// default action, each on a new connection so that no failure hides behind a client retry.
func (e *trafficEnv) load(rate int, d time.Duration) []*loadgen.Attack {
	e.t.Helper()
	var out []*loadgen.Attack
	for _, path := range []string{"/api/quotes", "/"} {
		a, err := loadgen.Start(e.ctx, loadgen.Options{URL: e.tw.ProductionURL() + path, Rate: rate / 2, Duration: d, NewConnections: true})
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, a)
	}
	return out
}

func stopAll(as []*loadgen.Attack) []loadgen.Request {
	var out []loadgen.Request
	for _, a := range as {
		a.Stop()
		out = append(out, a.Wait().Requests...)
	}
	return out
}

func eventTime(t testing.TB, e *env, id, action string) time.Time {
	t.Helper()
	evs, err := e.c.Events(e.ctx, id, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if ev.Action == action {
			return ev.Time
		}
	}
	t.Fatalf("no %s event: %v", action, e.actions(id))
	return time.Time{}
}

func summarize(reqs []loadgen.Request) string {
	by := map[string]int{}
	failed := 0
	for _, r := range reqs {
		by[r.Colour]++
		if r.Failed() {
			failed++
		}
	}
	return fmt.Sprintf("%d requests, %d failed, by colour %v", len(reqs), failed, by)
}

// Issue 8: a good release under 200 requests/s, canary to 100% and the old colour scaled down, fails
// no request (no 5xx, no connection error, no time-out), and the old colour gets no request after it
// is retired.
func TestTrafficGoodReleaseFailsNoRequest(t *testing.T) {
	e := newTrafficEnv(t, "good", poll, nil, 60, "")
	reloads := e.tw.Plane.Reloads()
	attacks := e.load(200, 3*time.Minute)
	time.Sleep(time.Second) // traffic flows before the release starts
	d := e.deploy("v2", steps(10, 2*time.Second, 50, 2*time.Second, 100, time.Duration(0)))
	done := e.waitState(d.ID, deploy.StateSucceeded, 90*time.Second)
	blue, _ := e.w.ECS.Service(e.w.Stack.BlueService)
	deadline := time.Now().Add(30 * time.Second)
	for blue.RunningCount > 0 && time.Now().Before(deadline) { // the old colour's tasks stop after draining
		time.Sleep(50 * time.Millisecond)
		blue, _ = e.w.ECS.Service(e.w.Stack.BlueService)
	}
	time.Sleep(time.Second) // and traffic goes on after it is gone
	reqs := stopAll(attacks)
	t.Logf("good release: %s", summarize(reqs))
	retired := eventTime(t, e.env, done.ID, "retire")
	var lastBlue time.Time
	seen := map[string]bool{}
	for _, r := range reqs {
		if r.Failed() {
			t.Errorf("request %d at %s failed: %s %s", r.Seq, r.Start.Format("15:04:05.000"), r.Outcome, r.Err)
		}
		seen[r.Colour] = true
		if r.Colour == "blue" && r.Start.After(lastBlue) {
			lastBlue = r.Start
		}
	}
	if !seen["blue"] || !seen["green"] || len(reqs) < 1000 {
		t.Fatalf("traffic did not cover the release: %s", summarize(reqs))
	}
	if !lastBlue.Before(retired) {
		t.Fatalf("blue served a request at %s, after it was retired at %s", lastBlue, retired)
	}
	if blue.RunningCount != 0 {
		t.Fatalf("blue still runs %d tasks", blue.RunningCount)
	}
	if n := e.tw.Plane.Reloads() - reloads; n != 0 {
		t.Fatalf("the data plane reloaded %d time(s) during the release (a reload is not an ALB behaviour)", n)
	}
}

// Issue 8: a bad release (every request 500) is detected by the stack's alarm from real errors and
// rolled back; once traffic is back on blue (and the data plane has applied it: world.Propagation)
// no request fails; the failures the release caused are counted.
func TestTrafficBadReleaseRollsBackOnRealErrors(t *testing.T) {
	table := apptask.NewTable(map[string]apptask.Behaviour{"v3": {ErrorRate: 1}})
	e := newTrafficEnv(t, "bad", poll, table, 60, "")
	attacks := e.load(200, 3*time.Minute)
	time.Sleep(time.Second)
	d := e.deploy("v3", steps(10, time.Hour, 100, time.Duration(0)))
	done := e.waitState(d.ID, deploy.StateRolledBack, 90*time.Second)
	restored := eventTime(t, e.env, done.ID, "rollback.traffic_restored")
	// The daemon verifies the weights by reading the listener back; the data plane routes by them one
	// sync later (an ALB takes seconds): requests sent in between may still reach the bad release.
	settled := restored.Add(world.Propagation)
	time.Sleep(3 * time.Second)
	reqs := stopAll(attacks)
	var during, after int
	var firstGreen time.Time
	for _, r := range reqs {
		if r.Colour == "green" && (firstGreen.IsZero() || r.Start.Before(firstGreen)) {
			firstGreen = r.Start
		}
		if !r.Failed() {
			continue
		}
		if r.Start.After(settled) {
			after++
			t.Errorf("request %d at %s failed after traffic was restored and applied: %s %s", r.Seq, r.Start.Format("15:04:05.000"), r.Outcome, r.Err)
		} else {
			during++
		}
	}
	if done.Cause != deploy.CauseAlarm || !strings.Contains(done.Reason, e.w.Stack.GreenAlarm) {
		t.Fatalf("cause %s reason %q", done.Cause, done.Reason)
	}
	if firstGreen.IsZero() || during == 0 {
		t.Fatalf("the bad release served nothing: %s", summarize(reqs))
	}
	t.Logf("bad release: %d requests failed while it took traffic (first green request %s, traffic restored %s later); %d after; %s",
		during, firstGreen.Format("15:04:05.000"), restored.Sub(firstGreen).Round(time.Millisecond), after, summarize(reqs))
}

// Issue 8: new targets that fail their health checks (real checks by the data plane, reported to the
// daemon through DescribeTargetHealth) never become ready: the release is rolled back before any
// production traffic reaches them.
func TestTrafficUnhealthyTargetsRollBack(t *testing.T) {
	table := apptask.NewTable(map[string]apptask.Behaviour{"v4": {FailHealth: true}})
	e := newTrafficEnv(t, "unhealthy", poll, table, 60, "    ready_timeout: 8s\n")
	attacks := e.load(50, 2*time.Minute)
	d := e.deploy("v4", steps(10, time.Minute, 100, time.Duration(0)))
	done := e.waitState(d.ID, deploy.StateRolledBack, 60*time.Second)
	reqs := stopAll(attacks)
	if done.Cause != deploy.CauseTimeout || !strings.Contains(done.Reason, "unhealthy") {
		t.Fatalf("cause %s reason %q", done.Cause, done.Reason)
	}
	for _, r := range reqs {
		if r.Failed() || r.Colour == "green" {
			t.Fatalf("production traffic reached the unhealthy release or failed: %+v", r)
		}
	}
	t.Logf("unhealthy release: %s; %s", done.Reason, summarize(reqs))
}
