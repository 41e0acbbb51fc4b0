package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/client"
	"github.com/switchyard/switchyard/pkg/deploy"
)

// A scheduled canary through a real `switchyard serve` on the test clock (--unsafe-test-clock,
// SWITCHYARD_TEST_CLOCK: Monday 2026-12-07 08:50 ET, 600 times faster than the wall clock), against
// the kumo emulator. The trading dashboard's window is pre-market 07:00-09:30 (the open) and after the close
// 16:05-18:00 ET. The deployment is created with --at 09:00 (pending, nothing changed before), its 1%
// step is timed by cron at 09:10 (its worst case, 5m bake + 10s step timeout + 10m verification, ends
// 09:25:10); the 5% step, ready at 09:15, would end 09:30:10, after the open, so the release holds at
// 1% through the session, goes to 5% at 16:05 and to 100% after that step's bake.
func TestScheduledCanaryOnTheTestClock(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	et := func(h, m int) time.Time { return time.Date(2026, 12, 7, h, m, 0, 0, ny) }
	t.Setenv("SWITCHYARD_TEST_CLOCK", "start="+et(8, 50).Format(time.RFC3339)+",rate=600")
	wrapper := filepath.Join(t.TempDir(), "switchyard-test-clock")
	script := fmt.Sprintf("#!/bin/sh\nexec %q \"$@\" --unsafe-test-clock\n", binary)
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	real := binary
	binary = wrapper // newEnv starts `binary serve --config ...`: the wrapper adds the test switch
	t.Cleanup(func() { binary = real })
	strategy := `    window_policy: hold
    window:
      zone: America/New_York
      open:
        - {days: trading, from: "07:00", to: "09:30"}
        - {days: trading, from: "16:05", to: "18:00"}
    strategy:
      type: steps
      steps:
        - {percent: 1, bake: 5m, cron: "10 9 * * 1-5", tz: America/New_York}
        - {percent: 5, bake: 5m}
        - {percent: 100}
`
	e := newEnv(t, "sched", time.Minute, strategy, func(y string) string {
		y = strings.Replace(y, "ready_timeout: 30s", "ready_timeout: 4h", 1)
		return strings.Replace(y, "services:\n", "guards: {guard_stale_after: 10m}\nservices:\n", 1)
	})
	binary = real
	start := et(9, 0)

	// The dry run, from the CLI, changes nothing and says where it holds.
	out, err := exec.Command(real, "--server", e.d.URL, "--token", adminToken, "deploy", e.name, "v2", "--dry-run",
		"--at", start.Format(time.RFC3339)).CombinedOutput()
	if err != nil {
		t.Fatalf("deploy --dry-run: %v\n%s", err, out)
	}
	t.Logf("dry run:\n%s", out)
	for _, want := range []string{"hold until 2026-12-07 16:05 EST", "step 1: new 1% / old 99%", "2026-12-07 09:10 EST"} {
		if !strings.Contains(string(out), want) {
			t.Fatalf("dry run lacks %q", want)
		}
	}
	if ds, _ := e.c.Deployments(e.ctx, e.name, client.ListOptions{}); len(ds) != 0 {
		t.Fatalf("the dry run created %d deployment(s)", len(ds))
	}

	d, err := e.c.CreateDeployment(e.ctx, e.name, "v2", client.DeployOptions{StartAt: &start})
	if err != nil {
		t.Fatal(err)
	}
	if d.State != deploy.StatePending || d.StartAt == nil {
		t.Fatalf("created %s start_at %v, want pending with start_at", d.State, d.StartAt)
	}
	e.assertWeights(deploy.Weights{Blue: 999})
	final := e.waitState(d.ID, deploy.StateSucceeded, 2*time.Minute)
	e.assertWeights(deploy.Weights{Green: 999})

	evs, err := e.c.Events(e.ctx, d.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	var verified []deploy.Event
	var prepared time.Time
	for _, ev := range evs {
		switch ev.Action {
		case "prepare":
			prepared = ev.Time
		case "weights.verified":
			verified = append(verified, ev)
			t.Logf("%s  %s", ev.Time.In(ny).Format("15:04:05 MST"), ev.Detail["weights"])
		case "step.hold":
			t.Logf("%s  hold: %s", ev.Time.In(ny).Format("15:04:05 MST"), ev.Reason)
		}
	}
	if prepared.Before(start) {
		t.Fatalf("prepared at %s, before its start_at %s", prepared.In(ny), start)
	}
	if len(verified) != 3 {
		t.Fatalf("verified weight changes %d, want 3 (1%%, 5%%, 100%%): %v", len(verified), e.actions(d.ID))
	}
	if !strings.Contains(verified[0].Detail["weights"], "green 10 ") || !strings.Contains(verified[1].Detail["weights"], "green 50 ") {
		t.Fatalf("weights %v, %v: want 1%% then 5%%", verified[0].Detail, verified[1].Detail)
	}
	// Lower bounds are exact (no step before its time or window); upper bounds are loose: at 600 times
	// the wall clock, each real second an AWS call or a weight verification takes is 10 virtual minutes.
	slack := 15 * time.Minute
	for i, want := range []time.Time{et(9, 10), et(16, 5), verified[1].Time.Add(5 * time.Minute)} {
		if got := verified[i].Time; got.Before(want) || got.After(want.Add(slack)) {
			t.Errorf("weight change %d (%s) at %s, want %s (+%s)", i+1, verified[i].Detail["weights"], got.In(ny), want, slack)
		}
	}
	// Held across the closed window: nothing moved between the open and 16:05.
	for _, ev := range evs {
		if strings.HasPrefix(ev.Action, "weights.") && ev.Time.After(et(9, 30)) && ev.Time.Before(et(16, 5)) {
			t.Errorf("%s at %s, inside the closed window", ev.Action, ev.Time.In(ny))
		}
	}
	if final.State != deploy.StateSucceeded {
		t.Fatalf("final %s", final.State)
	}
}
