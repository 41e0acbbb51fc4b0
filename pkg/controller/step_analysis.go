package controller

import (
	"fmt"
	"strings"

	"github.com/switchyard/switchyard/pkg/deploy"
)

func init() { stepKinds[deploy.StepAnalysis] = decideAnalysisStep }

// decideAnalysisStep: hold the weights of the step before (none before the first weight step: the
// release is then seen only through the test listener) until the analysis passes, with fresh good
// guard readings; a failed analysis has already rolled back (decide). At the step's bake, the longest
// it waits, analysis.on_inconclusive applies.
func decideAnalysisStep(d *deploy.Deployment, step deploy.Step, o observation) decision {
	name := fmt.Sprintf("analysis step %d/%d", d.Step+1, len(d.Steps))
	if d.StepStartedAt == nil {
		return decision{act: actStartBake, why: name + " begins"}
	}
	a := o.analysis
	if a == nil {
		// Unreachable: create refuses analysis steps without an analysis, and one that cannot start
		// rolls back. Never pass a gate on no evidence.
		return decision{act: actWait, why: name + ": no analysis runs"}
	}
	if a.Verdict == deploy.VerdictPass {
		if !o.verdict.Fresh {
			return decision{act: actWait, why: name + " passed; waiting for fresh readings of " + strings.Join(o.verdict.Waiting, ", ")}
		}
		return decision{act: actAdvance, why: name + " passed: " + a.Why}
	}
	if end := d.StepStartedAt.Add(step.Bake.D()); o.now.Before(end) {
		return decision{act: actWait, wake: end, why: name + ": " + a.Why}
	}
	if !o.verdict.Fresh {
		return decision{act: actWait, why: name + " timed out; waiting for fresh readings of " + strings.Join(o.verdict.Waiting, ", ")}
	}
	return inconclusive(d, a, o.now, name+" ended", name+" timed out")
}
