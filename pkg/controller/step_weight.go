package controller

import (
	"fmt"
	"strings"

	"github.com/switchyard/switchyard/pkg/deploy"
)

func init() { stepKinds[deploy.StepWeight] = decideWeightStep }

// decideWeightStep: set the step's weights (more traffic on the new release only with fresh good
// readings since the last transition), bake, then advance with fresh good readings newer than the
// bake's start; the last step (100%) hands over to finalizing.
func decideWeightStep(d *deploy.Deployment, step deploy.Step, o observation) decision {
	target := deploy.Split(d.To, step.Percent)
	if d.Weights != target || d.Intended != nil {
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
	if end := d.StepStartedAt.Add(step.Bake.D()); o.now.Before(end) {
		return decision{act: actWait, wake: end, why: "baking"}
	}
	if !o.verdict.Fresh {
		return decision{act: actWait, why: "bake over; waiting for fresh readings of " + strings.Join(o.verdict.Waiting, ", ")}
	}
	return decision{act: actAdvance, why: fmt.Sprintf("step %d/%d baked", d.Step+1, len(d.Steps))}
}
