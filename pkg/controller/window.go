package controller

import (
	"fmt"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/rollback"
	"github.com/switchyard/switchyard/pkg/schedule"
	"github.com/switchyard/switchyard/pkg/window"
)

// stepGate holds a weight step that has not started until its timing (at / cron) and its window
// allow it: never start a step whose worst case (bake, step timeout, verification) cannot finish
// inside the window. The start is computed from the persisted StepReadyAt, so the answer is the same
// after a restart or a late wake. hold is false when the step may go.
func stepGate(d *deploy.Deployment, step deploy.Step, o observation) (decision, bool) {
	name := fmt.Sprintf("step %d/%d", d.Step+1, len(d.Steps))
	if o.windowErr != nil {
		return decision{act: actWait, why: name + " held: " + deploy.MessageOf(o.windowErr)}, true
	}
	ready := d.UpdatedAt
	if d.StepReadyAt != nil {
		ready = *d.StepReadyAt
	}
	need := o.timeouts.Need(step.Bake.D(), d.Step == len(d.Steps)-1)
	g, err := schedule.CheckStep(o.now, ready, step.Timing, need, o.window)
	if err != nil {
		// No opening within the horizon: hold (still guarded) for an operator, and say why.
		return decision{act: actWait, why: name + " held: " + err.Error()}, true
	}
	if g.Go {
		return decision{}, false
	}
	why := g.Reason
	if planned, _, err := schedule.StepStart(ready, step.Timing, need, o.window); err == nil && !planned.After(o.now) {
		// A late hold (the step could have started at planned but did not, e.g. waiting for fresh
		// readings, and no longer fits): CheckStep says why the window is shut at now, which changes
		// as now moves on (open, then shut, then another block) while the hold is the same. The
		// reconciler audits a hold once per reason, so say it from the record, not from now.
		// What ends the open range the step was planned in names the cause (the freeze, the hours).
		why = fmt.Sprintf("its start at %s passed before it could start, and a step of %s no longer fits", show(planned, o.window), need)
		if end := o.window.OpenUntil(planned); !end.IsZero() {
			why += " before " + o.window.Why(end, 0)
		}
	}
	return decision{act: actWait, wake: g.WakeAt, why: name + " held: until " + show(g.WakeAt, o.window) + ": " + why}, true
}

// show is t as operators read it: wall clock in the window's zone.
func show(t time.Time, w *window.Window) string {
	if w != nil {
		t = t.In(w.Location())
	}
	return t.Format(window.Layout)
}

// outsideWindow applies the service's window_policy to a shifting deployment whose window is shut:
// hold (the default: nothing to do here, the bake runs on guarded and the next step's gate holds) or
// roll back when the release has traffic. Rollbacks, alarms and analysis are never gated by windows.
func outsideWindow(d *deploy.Deployment, o observation) (decision, bool) {
	if o.window == nil || d.Spec.WindowPolicy != schedule.OutsideRollback || d.Weights.Of(d.To) == 0 {
		return decision{}, false
	}
	_, rb, err := schedule.Outside(o.now, o.window, d.Spec.WindowPolicy)
	if err != nil || !rb {
		return decision{}, false
	}
	reason := "window shut with " + d.Weights.String() + ": " + o.window.Why(o.now, 0) + " (window_policy rollback)"
	t := rollback.Trigger{Cause: deploy.CauseWindow, Reason: reason, ObservedAt: o.now}
	return decision{act: actRollback, trigger: &t, why: reason}, true
}
