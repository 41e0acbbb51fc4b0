package controller

import (
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/calendar"
	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/guard"
	"github.com/switchyard/switchyard/pkg/rollback"
	"github.com/switchyard/switchyard/pkg/schedule"
	"github.com/switchyard/switchyard/pkg/window"
)

// The trading dashboard's window: pre-market and after the close, on trading days (ET).
var tradingWindow = window.Spec{Zone: "America/New_York", Open: []window.Rule{
	{Days: window.DaysTrading, From: "07:00", To: "09:25"},
	{Days: window.DaysTrading, From: "16:05", To: "18:00"}}}

var ny = func() *time.Location { l, _ := time.LoadLocation("America/New_York"); return l }()

func et(y int, m time.Month, d, hh, mm int) time.Time { return time.Date(y, m, d, hh, mm, 0, 0, ny) }

func mustWindow(t *testing.T, spec window.Spec, freezes ...calendar.Freeze) *window.Window {
	t.Helper()
	cal, err := calendar.NYSE(nil)
	if err != nil {
		t.Fatal(err)
	}
	w, err := window.New(spec, cal, "web", freezes)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// readyAt is a deployment whose step i (not started: the weights are the step before's) became ready
// at ready.
func readyAt(steps []deploy.Step, i int, ready time.Time) *deploy.Deployment {
	d := &deploy.Deployment{State: deploy.StateShifting, Steps: steps, Step: i, From: deploy.SlotBlue, To: deploy.SlotGreen,
		Weights: deploy.AllOn(deploy.SlotBlue), StepReadyAt: &ready}
	if i > 0 {
		d.Weights = deploy.Split(deploy.SlotGreen, steps[i-1].Percent)
	}
	return d
}

var testTimeouts = schedule.Timeouts{Step: time.Minute, Verify: 30 * time.Second}

func gateObs(now time.Time, w *window.Window) observation {
	return observation{now: now, verdict: guard.Verdict{Fresh: true}, window: w, timeouts: testTimeouts}
}

func TestWindowGateHoldsUntilTheWindowCanHoldTheStep(t *testing.T) {
	steps := []deploy.Step{{Percent: 1, Bake: deploy.Duration(30 * time.Minute)}, {Percent: 100}}
	w := mustWindow(t, tradingWindow)
	for _, c := range []struct {
		name       string
		ready      time.Time
		wantWakeAt time.Time // zero: goes at once
	}{
		// DST starts Sunday 2026-03-08: Monday's 07:00 ET is 11:00 UTC, Friday's was 12:00 UTC.
		{"march DST weekend", et(2026, 3, 6, 18, 30), time.Date(2026, 3, 9, 11, 0, 0, 0, time.UTC)},
		// DST ends Sunday 2026-11-01: Monday's 07:00 ET is 12:00 UTC, Friday's was 11:00 UTC.
		{"november DST weekend", et(2026, 10, 30, 18, 30), time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)},
		// Thanksgiving (Thursday 2026-11-26) is a full-day holiday: Wednesday evening waits for Friday.
		{"thanksgiving", et(2026, 11, 25, 18, 30), et(2026, 11, 27, 7, 0)},
		// 08:50 + 30m bake + 1m step timeout + 30s verification = 09:21:30 fits before 09:25.
		{"fits before the open", et(2026, 12, 2, 8, 50), time.Time{}},
		// 08:54 + 30m bake ends 09:24, but with the step timeout and the verification 09:25:30: held.
		{"timeouts count", et(2026, 12, 2, 8, 54), et(2026, 12, 2, 16, 5)},
		// 09:00 + 31m30s straddles 09:25: held until the after-close window.
		{"would straddle the window's end", et(2026, 12, 2, 9, 0), et(2026, 12, 2, 16, 5)},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := readyAt(steps, 0, c.ready)
			dec := decide(d, gateObs(c.ready, w))
			if c.wantWakeAt.IsZero() {
				if dec.act != actSetWeights {
					t.Fatalf("got %s (%s), want set_weights", dec.act, dec.why)
				}
				return
			}
			if dec.act != actWait || !dec.wake.Equal(c.wantWakeAt) {
				t.Fatalf("got %s wake %s (%s), want wait until %s", dec.act, dec.wake.UTC(), dec.why, c.wantWakeAt.UTC())
			}
			// Level-triggered: a wake at the planned time starts the step; a restart in between (the
			// same record, a later now) answers the same wake.
			if again := decide(d, gateObs(c.ready.Add(time.Hour), w)); !again.wake.Equal(c.wantWakeAt) && again.act != actSetWeights {
				t.Fatalf("after a restart: %s wake %s, want %s", again.act, again.wake, c.wantWakeAt)
			}
			if at := decide(d, gateObs(c.wantWakeAt, w)); at.act != actSetWeights {
				t.Fatalf("at the wake: %s (%s), want set_weights", at.act, at.why)
			}
		})
	}
}

// On the early close of 2026-11-27 (13:00) a market-closed window opens three hours earlier.
func TestWindowGateEarlyClose(t *testing.T) {
	steps := []deploy.Step{{Percent: 10, Bake: deploy.Duration(time.Hour)}, {Percent: 100}}
	w := mustWindow(t, window.MarketClosed)
	for _, c := range []struct {
		ready, want time.Time
	}{
		{et(2026, 11, 27, 10, 0), et(2026, 11, 27, 13, 0)},
		{et(2026, 11, 30, 10, 0), et(2026, 11, 30, 16, 0)},
	} {
		dec := decide(readyAt(steps, 0, c.ready), gateObs(c.ready, w))
		if dec.act != actWait || !dec.wake.Equal(c.want) {
			t.Fatalf("ready %s: %s wake %s (%s), want %s", c.ready, dec.act, dec.wake.In(ny), dec.why, c.want)
		}
	}
}

// A cron step timed at 09:45 ET fires at 13:45 UTC after the March change and 14:45 UTC before it.
func TestCronStepAcrossDST(t *testing.T) {
	steps := []deploy.Step{{Percent: 5, Bake: deploy.Duration(10 * time.Minute),
		Timing: schedule.Timing{Cron: "45 9 * * 1-5", TZ: "America/New_York"}}, {Percent: 100}}
	w := mustWindow(t, window.Always)
	for ready, want := range map[time.Time]time.Time{
		time.Date(2026, 3, 6, 12, 0, 0, 0, time.UTC): time.Date(2026, 3, 6, 14, 45, 0, 0, time.UTC),
		time.Date(2026, 3, 6, 15, 0, 0, 0, time.UTC): time.Date(2026, 3, 9, 13, 45, 0, 0, time.UTC),
	} {
		dec := decide(readyAt(steps, 0, ready), gateObs(ready, w))
		if dec.act != actWait || !dec.wake.Equal(want) {
			t.Fatalf("ready %s: %s wake %s, want %s", ready, dec.act, dec.wake.UTC(), want)
		}
	}
}

// A freeze set mid-deployment: the next step holds until it ends (hold), or the release is rolled
// back at once (window_policy rollback). Lowering weights and rollbacks are never gated.
func TestFreezeMidDeployment(t *testing.T) {
	steps := []deploy.Step{{Percent: 1, Bake: deploy.Duration(10 * time.Minute)}, {Percent: 5, Bake: deploy.Duration(10 * time.Minute)}, {Percent: 100}}
	now := et(2026, 12, 2, 7, 20)
	freeze := calendar.Freeze{Start: et(2026, 12, 2, 7, 15), End: et(2026, 12, 2, 8, 0), Reason: "incident INC-7"}
	w := mustWindow(t, tradingWindow, freeze)
	d := readyAt(steps, 1, now.Add(-time.Minute))
	dec := decide(d, gateObs(now, w))
	if dec.act != actWait || !dec.wake.Equal(freeze.End) || !strings.Contains(dec.why, "incident INC-7") {
		t.Fatalf("hold: %s wake %s (%s), want wait until the freeze ends, naming it", dec.act, dec.wake.In(ny), dec.why)
	}
	d.Spec.WindowPolicy = schedule.OutsideRollback
	dec = decide(d, gateObs(now, w))
	if dec.act != actRollback || dec.trigger.Cause != deploy.CauseWindow {
		t.Fatalf("rollback policy: %s %+v", dec.act, dec.trigger)
	}
	// Before any traffic moved there is nothing to roll back: the first step just holds.
	d0 := readyAt(steps, 0, now)
	d0.Spec.WindowPolicy = schedule.OutsideRollback
	if dec := decide(d0, gateObs(now, w)); dec.act != actWait {
		t.Fatalf("no traffic yet: %s, want wait", dec.act)
	}
	// A journalled change already decided is finished, and a trigger still wins inside a freeze.
	d.Spec.WindowPolicy = ""
	intended := deploy.Split(deploy.SlotGreen, 5)
	d.Intended = &intended
	if dec := decide(d, gateObs(now, w)); dec.act != actSetWeights {
		t.Fatalf("journalled change: %s, want set_weights", dec.act)
	}
	o := gateObs(now, w)
	o.verdict.Trigger = &rollbackTrigger
	if dec := decide(d, o); dec.act != actRollback {
		t.Fatalf("trigger in a freeze: %s, want rollback", dec.act)
	}
}

var rollbackTrigger = rollback.Trigger{Cause: deploy.CauseAlarm, Reason: "alarm-5xx in ALARM"}

// One hold is one audited reason. The reconciler audits step.hold when the decision's reason differs
// from the last one, so a hold's reason must not depend on now: a step that could start at 08:50 but
// did not (it waited for fresh readings until 09:00, when it no longer fits before 09:25) holds until
// 16:05 while the window is still open, after it shuts and on through the session, with one text.
func TestLateHoldKeepsOneReason(t *testing.T) {
	steps := []deploy.Step{{Percent: 1, Bake: deploy.Duration(30 * time.Minute)}, {Percent: 100}}
	w := mustWindow(t, tradingWindow)
	d := readyAt(steps, 0, et(2026, 12, 2, 8, 50))
	stale := gateObs(et(2026, 12, 2, 8, 50), w)
	stale.verdict = guard.Verdict{Waiting: []string{"alarm-5xx"}}
	if dec := decide(d, stale); dec.act != actWait || strings.Contains(dec.why, " held: ") {
		t.Fatalf("at 08:50 without fresh readings: %s (%s), want a wait for readings, not a hold", dec.act, dec.why)
	}
	var first decision
	for _, now := range []time.Time{et(2026, 12, 2, 9, 0), et(2026, 12, 2, 9, 20), et(2026, 12, 2, 9, 26),
		et(2026, 12, 2, 12, 0), et(2026, 12, 2, 16, 4)} {
		dec := decide(d, gateObs(now, w))
		if dec.act != actWait || !dec.wake.Equal(et(2026, 12, 2, 16, 5)) {
			t.Fatalf("at %s: %s wake %s (%s), want a hold until 16:05", now.In(ny), dec.act, dec.wake.In(ny), dec.why)
		}
		if first.why == "" {
			first = dec
			if !strings.Contains(dec.why, "08:50") {
				t.Fatalf("the hold %q does not say when the step could have started", dec.why)
			}
		}
		if dec.why != first.why {
			t.Fatalf("the same hold changed its reason at %s (audited twice):\n  %s\n  %s", now.In(ny), first.why, dec.why)
		}
	}
	if dec := decide(d, gateObs(et(2026, 12, 2, 16, 5), w)); dec.act != actSetWeights {
		t.Fatalf("at 16:05: %s (%s), want set_weights", dec.act, dec.why)
	}
}

// A late hold names what shut the window, here a freeze set after the step could have started.
func TestLateHoldNamesTheFreeze(t *testing.T) {
	steps := []deploy.Step{{Percent: 1, Bake: deploy.Duration(10 * time.Minute)}, {Percent: 100}}
	freeze := calendar.Freeze{Start: et(2026, 12, 2, 7, 15), End: et(2026, 12, 2, 8, 0), Reason: "incident INC-7"}
	w := mustWindow(t, tradingWindow, freeze)
	d := readyAt(steps, 0, et(2026, 12, 2, 7, 0))
	a, b := decide(d, gateObs(et(2026, 12, 2, 7, 10), w)), decide(d, gateObs(et(2026, 12, 2, 7, 30), w))
	if a.act != actWait || !a.wake.Equal(freeze.End) || !strings.Contains(a.why, "incident INC-7") || a.why != b.why {
		t.Fatalf("late hold in a freeze:\n  %s %s (%s)\n  %s", a.act, a.wake.In(ny), a.why, b.why)
	}
}
