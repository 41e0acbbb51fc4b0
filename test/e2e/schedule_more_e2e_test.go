package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/api"
	"github.com/switchyard/switchyard/pkg/calendar"
	"github.com/switchyard/switchyard/pkg/client"
	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/schedule"
)

// clockEnv is an env whose daemon runs on the test clock (--unsafe-test-clock, SWITCHYARD_TEST_CLOCK)
// from start at rate times the wall clock.
type clockEnv struct {
	*env
	rate     float64
	start    time.Time // the daemon's virtual time at launch
	launched time.Time // wall clock at launch
}

func newClockEnv(t *testing.T, name string, start time.Time, rate float64, strategy string, edits ...func(string) string) *clockEnv {
	t.Helper()
	wrapper := filepath.Join(t.TempDir(), "switchyard-test-clock")
	script := fmt.Sprintf("#!/bin/sh\nexec %q \"$@\" --unsafe-test-clock\n", binary)
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	c := &clockEnv{rate: rate}
	c.setClock(t, start)
	real := binary
	binary = wrapper // newEnv and start run `binary serve`: the wrapper adds the test switch
	t.Cleanup(func() { binary = real })
	c.env = newEnv(t, name, time.Minute, strategy, append([]func(string) string{func(y string) string {
		y = strings.Replace(y, "ready_timeout: 30s", "ready_timeout: 4h", 1)
		return strings.Replace(y, "services:\n", "guards: {guard_stale_after: 4m}\nservices:\n", 1)
	}}, edits...)...)
	return c
}

func (c *clockEnv) setClock(t *testing.T, start time.Time) {
	t.Setenv("SWITCHYARD_TEST_CLOCK", fmt.Sprintf("start=%s,rate=%g", start.Format(time.RFC3339), c.rate))
	c.start, c.launched = start, time.Now()
}

// now is the daemon's virtual time (an upper bound: the daemon's clock starts after launched).
func (c *clockEnv) now() time.Time {
	return c.start.Add(time.Duration(float64(time.Since(c.launched)) * c.rate))
}

// crash kills the daemon with SIGKILL and starts a new one whose clock goes on from the old one's.
func (c *clockEnv) crash(t *testing.T) {
	c.d.Kill()
	c.setClock(t, c.now().Truncate(time.Second).Add(time.Second))
	c.d = c.env.start()
}

func mon(h, m int) time.Time { return time.Date(2026, 12, 7, h, m, 0, 0, nyLoc) }

var nyLoc = func() *time.Location { l, _ := time.LoadLocation("America/New_York"); return l }()

// eventsOf are the events of action, in order.
func eventsOf(evs []deploy.Event, action string) []deploy.Event {
	var out []deploy.Event
	for _, ev := range evs {
		if ev.Action == action {
			out = append(out, ev)
		}
	}
	return out
}

// A freeze set through the API mid-deployment holds the next step (window_policy hold) and the
// deployment continues once the freeze is deleted (test clock at 60 times the wall clock).
func TestFreezeThroughTheAPIHoldsADeployment(t *testing.T) {
	e := newClockEnv(t, "freeze", mon(10, 0), 60, `    window_policy: hold
    window: {open: [{kind: always}]}
    strategy:
      type: steps
      steps:
        - {percent: 10, bake: 2m}
        - {percent: 50, bake: 2m}
        - {percent: 100}
`)
	d, err := e.c.CreateDeployment(e.ctx, e.name, "v2", client.DeployOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e.waitFor(d.ID, "10% baking", 30*time.Second, func(d *deploy.Deployment) bool {
		return d.State == deploy.StateShifting && d.Step == 0 && d.StepStartedAt != nil && d.Weights == deploy.Split(deploy.SlotGreen, 10)
	})
	f, err := e.c.AddFreeze(e.ctx, calendar.Freeze{Start: mon(9, 0), End: mon(23, 0), Reason: "incident INC-42"})
	if err != nil {
		t.Fatal(err)
	}
	held := e.waitFor(d.ID, "held by the freeze", 20*time.Second, func(*deploy.Deployment) bool {
		evs, _ := e.c.Events(e.ctx, d.ID, 0)
		hs := eventsOf(evs, "step.hold")
		return len(hs) > 0 && strings.Contains(hs[0].Reason, "step 2/3 held") && strings.Contains(hs[0].Reason, "incident INC-42")
	})
	if held.Step != 1 || held.Weights != deploy.Split(deploy.SlotGreen, 10) {
		t.Fatalf("held at step %d, want the 50%% step held", held.Step)
	}
	// Held well past the 2m bake: five more virtual minutes, still at 10%.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if g, _ := e.c.Deployment(e.ctx, d.ID); g.Step != 1 || g.State != deploy.StateShifting || g.Weights != deploy.Split(deploy.SlotGreen, 10) {
			t.Fatalf("moved inside the freeze: step %d %s", g.Step, g.State)
		}
		time.Sleep(200 * time.Millisecond)
	}
	e.assertWeights(deploy.Split(deploy.SlotGreen, 10))
	if err := e.c.DeleteFreeze(e.ctx, f.ID, "incident resolved"); err != nil {
		t.Fatal(err)
	}
	deleted := time.Now()
	e.waitState(d.ID, deploy.StateSucceeded, 30*time.Second)
	e.assertWeights(deploy.AllOn(deploy.SlotGreen))
	evs, _ := e.c.Events(e.ctx, d.ID, 0)
	ver := eventsOf(evs, "weights.verified")
	if len(ver) != 3 {
		t.Fatalf("verified weight changes %d, want 3: %v", len(ver), e.actions(d.ID))
	}
	if virtualDeleted := e.start.Add(time.Duration(float64(deleted.Sub(e.launched)) * e.rate)); ver[1].Time.Before(virtualDeleted.Add(-2 * time.Minute)) {
		t.Fatalf("50%% at %s, before the freeze was deleted (%s)", ver[1].Time.In(nyLoc), virtualDeleted.In(nyLoc))
	}
	trail, err := e.c.ObjectEvents(e.ctx, deploy.ObjectFreeze, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(trail) != 2 || trail[0].Action != "freeze.create" || trail[1].Action != "freeze.delete" || trail[1].Reason != "incident resolved" || trail[0].Actor != "e2e-admin" {
		t.Fatalf("freeze trail %+v", trail)
	}
}

// A daemon killed (SIGKILL) while a deployment holds outside its window comes back holding (the hold is
// recomputed from the stored record) and advances when the window opens (test clock at 120 times).
// The window is trading days 09:00-09:20 and 09:40-11:00 ET; the 5% step (15m bake, + 10s step
// timeout + 4m guard_stale_after) cannot start after 09:00:50 before 09:20, so it waits for 09:40.
func TestRestartWhileHoldingOutsideTheWindow(t *testing.T) {
	e := newClockEnv(t, "holdkill", mon(9, 0), 120, `    window_policy: hold
    window:
      zone: America/New_York
      open:
        - {days: trading, from: "09:00", to: "09:20"}
        - {days: trading, from: "09:40", to: "11:00"}
    strategy:
      type: steps
      steps:
        - {percent: 1, bake: 1m}
        - {percent: 5, bake: 15m}
        - {percent: 100}
`)
	d, err := e.c.CreateDeployment(e.ctx, e.name, "v2", client.DeployOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e.waitFor(d.ID, "the 5% step held", 30*time.Second, func(*deploy.Deployment) bool {
		evs, _ := e.c.Events(e.ctx, d.ID, 0)
		hs := eventsOf(evs, "step.hold")
		return len(hs) > 0 && strings.Contains(hs[0].Reason, "step 2/3 held: until 2026-12-07 09:40")
	})
	e.crash(t)
	killedAt := e.start
	e.waitFor(d.ID, "recovered and holding", 30*time.Second, func(*deploy.Deployment) bool {
		evs, _ := e.c.Events(e.ctx, d.ID, 0)
		for _, h := range eventsOf(evs, "step.hold") {
			if h.Time.After(killedAt) {
				return true
			}
		}
		return false
	})
	final := e.waitState(d.ID, deploy.StateSucceeded, 50*time.Second)
	e.assertWeights(deploy.AllOn(deploy.SlotGreen))
	evs, _ := e.c.Events(e.ctx, d.ID, 0)
	if acts := e.actions(d.ID); !slices.Contains(acts, "controller:recover") {
		t.Fatalf("no recovery recorded: %v", acts)
	}
	ver := eventsOf(evs, "weights.verified")
	if len(ver) != 3 || !strings.Contains(ver[1].Detail["weights"], "green 50 ") {
		t.Fatalf("verified weights %v: want 1%%, 5%%, 100%%", ver)
	}
	if at := ver[1].Time; at.Before(mon(9, 40)) || at.After(mon(9, 55)) {
		t.Fatalf("5%% at %s, want at the 09:40 opening (+15m)", at.In(nyLoc))
	}
	for _, ev := range evs {
		if strings.HasPrefix(ev.Action, "weights.") && ev.Time.After(ver[0].Time) && ev.Time.Before(mon(9, 40)) {
			t.Fatalf("%s at %s, while the window was shut", ev.Action, ev.Time.In(nyLoc))
		}
	}
	t.Logf("1%% %s, killed %s, 5%% %s, 100%% %s, done %s", ver[0].Time.In(nyLoc).Format("15:04:05"), killedAt.In(nyLoc).Format("15:04:05"),
		ver[1].Time.In(nyLoc).Format("15:04:05"), ver[2].Time.In(nyLoc).Format("15:04:05"), final.UpdatedAt.In(nyLoc).Format("15:04:05"))
}

// A recurring schedule firing while another deployment of the service is active queues the newest
// matching tag (kumo: the greatest, it has no push times), records why, and deploys it once the
// active deployment ends (test clock at 60 times).
func TestScheduleFiringWhileActiveQueues(t *testing.T) {
	e := newClockEnv(t, "schedq", mon(10, 0), 60, `    strategy:
      type: canary
      canary_percent: 10
      bake: 30m
`)
	busy, err := e.c.CreateDeployment(e.ctx, e.name, "v2", client.DeployOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.AddSchedule(e.ctx, api.ScheduleBody{Name: "premarket", Service: e.name, Cron: "6 10 * * 1-5",
		TZ: "America/New_York", Tags: `^v\d+$`, Policy: schedule.PolicyQueue}); err != nil {
		t.Fatal(err)
	}
	sched := func() deploy.ScheduleRecord {
		s, err := e.c.Schedules(e.ctx)
		if err != nil || len(s) != 1 {
			t.Fatalf("schedules %v %v", s, err)
		}
		return s[0]
	}
	waitUntil(t, "the 10:06 activation", 30*time.Second, func() bool { return sched().LastAction != "" })
	r := sched()
	if r.LastAction != "queue" || r.Queued != "v3" || !strings.Contains(r.LastReason, busy.ID) {
		t.Fatalf("activation %+v, want v3 queued behind %s", r, busy.ID)
	}
	if _, err := e.c.Abort(e.ctx, busy.ID, "make way"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the queued deployment", 30*time.Second, func() bool { return sched().LastID != "" })
	q, err := e.c.Deployment(e.ctx, sched().LastID)
	if err != nil || q.ImageTag != "v3" || q.CreatedBy != "schedule:premarket" {
		t.Fatalf("queued deployment %+v %v", q, err)
	}
	trail, err := e.c.ObjectEvents(e.ctx, deploy.ObjectSchedule, "premarket")
	if err != nil {
		t.Fatal(err)
	}
	var acts []string
	for _, ev := range trail {
		acts = append(acts, ev.Action)
	}
	if !slices.Equal(acts, []string{"schedule.create", "schedule.queue", "schedule.deploy"}) || !strings.Contains(trail[1].Reason, busy.ID) ||
		trail[1].Detail["tag"] != "v3" || trail[2].Detail["deployment_id"] != q.ID {
		t.Fatalf("schedule trail %+v", trail)
	}
}

func waitUntil(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting for %s after %s", what, limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
