package controller

import (
	"fmt"
	"strings"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/rollback"
)

func init() { stepKinds[deploy.StepWeight] = decideWeightStep }

// decideWeightStep: set the step's weights (more traffic on the new release only with fresh good
// readings since the last transition), bake, then advance with fresh good readings newer than the
// bake's start; the last step (100%) hands over to finalizing.
func decideWeightStep(d *deploy.Deployment, step deploy.Step, o observation) decision {
	target := deploy.Split(d.To, step.Percent)
	if d.Weights != target || d.Intended != nil {
		if d.Intended == nil && d.StepStartedAt == nil && target.Of(d.To) > d.Weights.Of(d.To) {
			// A step that moves traffic forwards starts only when its timing and its window allow
			// (a change already journalled is finished: it was decided inside the window).
			if dec, hold := stepGate(d, step, o); hold {
				return dec
			}
		}
		if !o.verdict.Fresh && target.Of(d.To) > d.Weights.Of(d.To) {
			return decision{act: actWait, why: "waiting for fresh readings of " + strings.Join(o.verdict.Waiting, ", ")}
		}
		return decision{act: actSetWeights, weights: target,
			why: fmt.Sprintf("step %d/%d: %g%% to %s", d.Step+1, len(d.Steps), step.Percent, d.To)}
	}
	if d.StepStartedAt == nil {
		return decision{act: actStartBake, why: "weights verified"}
	}
	if d.Step == len(d.Steps)-1 {
		return decision{act: actShifted, why: "all traffic on " + string(d.To)}
	}
	baked := fmt.Sprintf("step %d/%d baked", d.Step+1, len(d.Steps))
	if end := d.StepStartedAt.Add(step.Bake.D()); o.now.Before(end) {
		if a := o.analysis; a != nil && a.Verdict == deploy.VerdictPass && d.Spec.Analysis.EarlyPass && o.verdict.Fresh {
			return decision{act: actAdvance, why: baked + " early: analysis passed (" + a.Why + ")"}
		}
		return decision{act: actWait, wake: end, why: "baking"}
	}
	if !o.verdict.Fresh {
		return decision{act: actWait, why: "bake over; waiting for fresh readings of " + strings.Join(o.verdict.Waiting, ", ")}
	}
	if a := o.analysis; a != nil && a.Verdict == deploy.VerdictInconclusive {
		return inconclusive(d, a, o.now, baked, "bake over")
	}
	return decision{act: actAdvance, why: baked}
}

// inconclusive applies analysis.on_inconclusive when a bake or an analysis step ends without a verdict.
func inconclusive(d *deploy.Deployment, a *deploy.AnalysisRun, now time.Time, advance, ended string) decision {
	why := ended + " with the analysis inconclusive (" + a.Why + ")"
	switch d.Spec.Analysis.WithDefaults().OnInconclusive {
	case deploy.InconclusiveHold:
		return decision{act: actWait, why: why + ": holding for a verdict (on_inconclusive hold; promote or abort to decide)"}
	case deploy.InconclusiveRollback:
		t := rollback.Trigger{Cause: deploy.CauseAnalysis, Reason: why + " (on_inconclusive rollback)", ObservedAt: now}
		return decision{act: actRollback, trigger: &t, why: t.Reason}
	}
	return decision{act: actAdvance, why: advance + "; " + why + ": advancing (on_inconclusive advance)"}
}
