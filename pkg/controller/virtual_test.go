package controller

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/clock"
	"github.com/switchyard/switchyard/pkg/deploy"
)

// The runner takes all its timing from the injected clock: an hour-long bake passes in virtual time,
// and the step advances only once the virtual hour is over.
func TestVirtualTimeHourLongBake(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC))
	e := newEnv(t, nil, nil, nil, nil, func(o *Options) { o.Clock = clk })
	s := deploy.Strategy{Type: deploy.StrategyCanary, CanaryPercent: 10, Bake: deploy.Duration(time.Hour)}
	d := e.create("v2", &s)
	step := func(by time.Duration) *deploy.Deployment {
		clk.Advance(by)
		time.Sleep(time.Millisecond) // let the goroutines parked on the clock run
		got, _ := e.store.GetDeployment(context.Background(), d.ID)
		return got
	}
	start := time.Now()
	var baking *deploy.Deployment
	for baking == nil || baking.State != deploy.StateShifting || baking.StepStartedAt == nil {
		if baking = step(10 * time.Millisecond); time.Since(start) > 10*time.Second {
			t.Fatalf("canary never started baking: %+v", baking)
		}
	}
	bakeStart := *baking.StepStartedAt
	for {
		// Steps shorter than guard_stale_after (30 s): the guards keep being read in virtual time.
		got := step(5 * time.Second)
		if got.State.Terminal() {
			t.Fatalf("ended %s mid-bake: %s", got.State, got.Reason)
		}
		if got.Step == 1 {
			break
		}
		if clk.Now().Sub(bakeStart) > 2*time.Hour || time.Since(start) > 20*time.Second {
			t.Fatalf("no advance after %s of virtual time: %+v", clk.Now().Sub(bakeStart), got)
		}
	}
	if virt := clk.Now().Sub(bakeStart); virt < time.Hour {
		t.Fatalf("advanced after only %s of a 1h bake", virt)
	}
	for got := step(10 * time.Millisecond); got.State != deploy.StateSucceeded; got = step(10 * time.Millisecond) {
		if time.Since(start) > 30*time.Second {
			t.Fatalf("not finished: %+v %v", got, e.store.actions(d.ID))
		}
	}
	if !slices.Contains(e.store.actions(d.ID), "step.baked") {
		t.Fatalf("events %v", e.store.actions(d.ID))
	}
	t.Logf("a 1h bake took %s of real time", time.Since(start).Round(time.Millisecond))
}
