package controller

import (
	"fmt"
	"strings"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/guard"
	"github.com/switchyard/switchyard/pkg/rollback"
	"github.com/switchyard/switchyard/pkg/schedule"
	"github.com/switchyard/switchyard/pkg/window"
)

// action is what the reconciler does next for a deployment that may carry traffic (shifting, paused,
// finalizing before the point of no return).
type action int

const (
	actWait       action = iota // nothing until new readings, a command or wake
	actRollback                 // a trigger (or stale guards under the rollback policy)
	actPause                    // stale guards under the pause policy
	actPromote                  // skip to the last step
	actSetWeights               // apply the current step's weights (journalled, verified)
	actStartBake                // the current step's weights are verified: record the bake's start
	actAdvance                  // the bake is over with fresh good readings: next step
	actShifted                  // the last step (100%) is verified: finalize
	actRetire                   // deregistration delay over with fresh good readings: point of no return
	actPauseStep                // a pause step is reached: hold, paused, for an operator
)

func (a action) String() string {
	return [...]string{"wait", "rollback", "pause", "promote", "set_weights", "start_bake", "advance", "shifted", "retire", "pause_step"}[a]
}

// observation is everything one decision looks at.
type observation struct {
	now     time.Time
	verdict guard.Verdict
	// unhealthy is the health tracker's trigger (too many new targets unhealthy for too long).
	unhealthy *rollback.Trigger
	// deregDelay is how long the old target group drains before the old slot may be retired.
	deregDelay time.Duration
	policy     deploy.StalePolicy
	// analysis is the deployment's analysis as it stands, nil when none runs.
	analysis *deploy.AnalysisRun
	// window is the service's window on the calendar and freezes as they are now (nil: always open);
	// windowErr says why it could not be built (no step then starts); timeouts are a step's worst
	// case besides its bake.
	window    *window.Window
	windowErr error
	timeouts  schedule.Timeouts
}

// decision is decide's answer: one action, the trigger or weights it needs, and when to look again
// if nothing else happens first.
type decision struct {
	act     action
	trigger *rollback.Trigger
	weights deploy.Weights
	wake    time.Time // zero: only readings or commands wake the deployment
	why     string
}

// decide is the reconciler's single decision function, level-triggered like argo-rollouts'
// rolloutCanary: the same record and observation always give the same answer, so a crash or a lost
// wake-up only repeats a decision. Guards come first: any trigger wins over any progress, and no
// traffic increase, step advance or retirement happens without a fresh good reading of every guard.
func decide(d *deploy.Deployment, o observation) decision {
	if t := o.verdict.Trigger; t != nil {
		return decision{act: actRollback, trigger: t, why: t.Reason}
	}
	if o.unhealthy != nil {
		return decision{act: actRollback, trigger: o.unhealthy, why: o.unhealthy.Reason}
	}
	if t := analysisTrigger(o.analysis, o.now); t != nil {
		return decision{act: actRollback, trigger: t, why: t.Reason}
	}
	if len(o.verdict.Stale) > 0 {
		reason := "guards not readable: " + strings.Join(o.verdict.Stale, "; ")
		if o.policy == deploy.StalePause {
			if d.State == deploy.StatePaused {
				return decision{act: actWait, why: reason}
			}
			return decision{act: actPause, why: reason}
		}
		t := rollback.Trigger{Cause: deploy.CauseStale, Reason: reason, ObservedAt: o.now}
		return decision{act: actRollback, trigger: &t, why: reason}
	}
	switch d.State {
	case deploy.StatePaused:
		return decision{act: actWait, why: "paused"}
	case deploy.StateShifting:
		return decideShift(d, o)
	case deploy.StateFinalizing:
		if d.RetireAt != nil {
			return decision{act: actRetire, why: "retiring"}
		}
		shifted := o.now
		if d.ShiftedAt != nil {
			shifted = *d.ShiftedAt
		}
		if end := shifted.Add(o.deregDelay); o.now.Before(end) {
			return decision{act: actWait, wake: end, why: "waiting out the deregistration delay"}
		}
		if !o.verdict.Fresh {
			return decision{act: actWait, why: "waiting for fresh readings of " + strings.Join(o.verdict.Waiting, ", ")}
		}
		return decision{act: actRetire, why: "deregistration delay over, guards good"}
	}
	return decision{act: actWait, why: fmt.Sprintf("nothing to decide in state %s", d.State)}
}

func decideShift(d *deploy.Deployment, o observation) decision {
	if dec, ok := outsideWindow(d, o); ok {
		return dec
	}
	if d.Promote && d.Step < len(d.Steps)-1 {
		return decision{act: actPromote, why: "promoted: skipping to 100%"}
	}
	step, ok := d.CurrentStep()
	if !ok {
		return decision{act: actWait, why: fmt.Sprintf("step %d out of range", d.Step)}
	}
	kind, ok := stepKinds[step.KindOf()]
	if !ok {
		// Unreachable for a record that passed the store's checks; never guess what a step means.
		return decision{act: actWait, why: fmt.Sprintf("step %d/%d has unknown kind %q", d.Step+1, len(d.Steps), step.Kind)}
	}
	return kind(d, step, o)
}

// stepKind decides one kind of step for a shifting deployment whose guards hold. Each kind lives in
// its own file (step_<kind>.go) and registers itself here.
type stepKind func(d *deploy.Deployment, step deploy.Step, o observation) decision

var stepKinds = map[deploy.StepKind]stepKind{}
