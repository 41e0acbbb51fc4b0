package controller

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/guard"
	"github.com/switchyard/switchyard/pkg/rollback"
)

var t0 = time.Date(2026, 12, 1, 14, 0, 0, 0, time.UTC)

func shiftingAt(step int, started *time.Time) *deploy.Deployment {
	steps := []deploy.Step{{Percent: 10, Bake: deploy.Duration(time.Minute)}, {Percent: 50, Bake: deploy.Duration(time.Minute)}, {Percent: 100}}
	d := &deploy.Deployment{State: deploy.StateShifting, Steps: steps, Step: step, From: deploy.SlotBlue, To: deploy.SlotGreen,
		StepStartedAt: started}
	d.Weights = deploy.Split(deploy.SlotGreen, steps[step].Percent)
	return d
}

func TestDecideTriggerWinsOverEverything(t *testing.T) {
	started := t0
	trig := &rollback.Trigger{Cause: deploy.CauseAlarm, Reason: "alarm x in ALARM"}
	for _, d := range []*deploy.Deployment{shiftingAt(0, &started), shiftingAt(0, nil),
		{State: deploy.StatePaused, Steps: shiftingAt(0, nil).Steps},
		{State: deploy.StateFinalizing, ShiftedAt: &started, Steps: shiftingAt(0, nil).Steps}} {
		dec := decide(d, observation{now: t0.Add(time.Hour), verdict: guard.Verdict{Trigger: trig, Fresh: false}})
		if dec.act != actRollback || dec.trigger != trig {
			t.Fatalf("%s: got %s, want rollback", d.State, dec.act)
		}
	}
}

func TestDecideNeverAdvancesWithoutFreshReadings(t *testing.T) {
	started := t0
	d := shiftingAt(0, &started)
	after := observation{now: t0.Add(2 * time.Minute), verdict: guard.Verdict{Fresh: false, Waiting: []string{"alarm a"}}}
	if dec := decide(d, after); dec.act != actWait {
		t.Fatalf("bake over without fresh readings: got %s", dec.act)
	}
	after.verdict = guard.Verdict{Fresh: true}
	if dec := decide(d, after); dec.act != actAdvance {
		t.Fatalf("bake over with fresh readings: got %s", dec.act)
	}
	during := observation{now: t0.Add(30 * time.Second), verdict: guard.Verdict{Fresh: true}}
	if dec := decide(d, during); dec.act != actWait || !dec.wake.Equal(t0.Add(time.Minute)) {
		t.Fatalf("mid-bake: got %s wake %v", dec.act, dec.wake)
	}
}

func TestDecideStalePolicy(t *testing.T) {
	started := t0
	d := shiftingAt(1, &started)
	o := observation{now: t0, verdict: guard.Verdict{Stale: []string{"alarm a (no good reading for 31s: AccessDenied)"}}, policy: deploy.StaleRollback}
	dec := decide(d, o)
	if dec.act != actRollback || dec.trigger == nil || dec.trigger.Cause != deploy.CauseStale {
		t.Fatalf("stale + rollback policy: got %s %+v", dec.act, dec.trigger)
	}
	o.policy = deploy.StalePause
	if dec := decide(d, o); dec.act != actPause {
		t.Fatalf("stale + pause policy: got %s", dec.act)
	}
	d.State = deploy.StatePaused
	if dec := decide(d, o); dec.act != actWait {
		t.Fatalf("already paused + pause policy: got %s", dec.act)
	}
}

func TestDecideFinalizeRetiresOnlyAfterDelayWithFreshReadings(t *testing.T) {
	shifted := t0
	d := &deploy.Deployment{State: deploy.StateFinalizing, ShiftedAt: &shifted}
	o := observation{now: t0.Add(10 * time.Second), deregDelay: 30 * time.Second, verdict: guard.Verdict{Fresh: true}}
	if dec := decide(d, o); dec.act != actWait {
		t.Fatalf("within delay: %s", dec.act)
	}
	o.now = t0.Add(31 * time.Second)
	o.verdict.Fresh = false
	if dec := decide(d, o); dec.act != actWait {
		t.Fatalf("delay over, not fresh: %s", dec.act)
	}
	o.verdict.Fresh = true
	if dec := decide(d, o); dec.act != actRetire {
		t.Fatalf("delay over, fresh: %s", dec.act)
	}
}

// A model of the runner applying decisions, driven by random observations: whatever the sequence,
// no traffic increase, step advance or retirement happens on an observation that is not fresh and
// good, and no retirement or forward move happens while a trigger is pending.
func TestDecidePropertyNoProgressWithoutEvidence(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for run := 0; run < 2000; run++ {
		d := shiftingAt(0, nil)
		d.Weights = deploy.AllOn(deploy.SlotBlue)
		now := t0
		for i := 0; i < 60 && d.State != deploy.StateRollingBack && d.RetireAt == nil; i++ {
			now = now.Add(time.Duration(rng.IntN(40)) * time.Second)
			o := observation{now: now, deregDelay: 30 * time.Second, policy: deploy.StaleRollback,
				verdict: guard.Verdict{Fresh: rng.IntN(3) > 0}}
			if !o.verdict.Fresh {
				o.verdict.Waiting = []string{"alarm a"}
			}
			switch rng.IntN(12) {
			case 0:
				o.verdict.Trigger = &rollback.Trigger{Cause: deploy.CauseAlarm}
				o.verdict.Fresh = false
			case 1:
				o.unhealthy = &rollback.Trigger{Cause: deploy.CauseUnhealthy}
			case 2:
				o.verdict.Stale = []string{"alarm a"}
			}
			pending := o.verdict.Trigger != nil || o.unhealthy != nil || len(o.verdict.Stale) > 0
			before := d.Weights.Of(d.To)
			dec := decide(d, o)
			// (actShifted only records that 100% was verified: finalizing is still guarded, and its
			// retirement needs fresh readings of its own.)
			forward := dec.act == actAdvance || dec.act == actRetire ||
				(dec.act == actSetWeights && dec.weights.Of(d.To) > before)
			if forward && (pending || !o.verdict.Fresh) {
				t.Fatalf("run %d step %d: %s on fresh=%v pending=%v (record %s step %d)", run, i, dec.act, o.verdict.Fresh, pending, d.State, d.Step)
			}
			if pending && dec.act != actRollback {
				t.Fatalf("run %d: trigger pending but decided %s", run, dec.act)
			}
			applyModel(d, dec, now)
		}
	}
}

// applyModel does to the record what the runner would, assuming every side effect succeeds.
func applyModel(d *deploy.Deployment, dec decision, now time.Time) {
	switch dec.act {
	case actRollback:
		d.State = deploy.StateRollingBack
	case actSetWeights:
		d.Weights, d.Intended = dec.weights, nil
	case actStartBake:
		d.StepStartedAt = &now
	case actAdvance:
		d.Step++
		d.StepStartedAt = nil
	case actShifted:
		d.State, d.ShiftedAt = deploy.StateFinalizing, &now
	case actRetire:
		d.RetireAt = &now
	}
}
