package controller

import (
	"context"
	"fmt"

	"github.com/switchyard/switchyard/pkg/deploy"
)

func init() { stepKinds[deploy.StepPause] = decidePauseStep }

// decidePauseStep: the deployment holds, paused and guarded, at the weights it has; an operator's
// resume continues with the next step, promote skips to 100%.
func decidePauseStep(d *deploy.Deployment, _ deploy.Step, _ observation) decision {
	return decision{act: actPauseStep, why: fmt.Sprintf("pause step %d/%d", d.Step+1, len(d.Steps))}
}

// pauseAtStep records, in one write, that the pause step is passed and the deployment is paused: a
// resume then starts the next step, and a crash can never skip the hold.
func (r *runner) pauseAtStep(ctx context.Context, why string) error {
	d := r.d
	d.Step++
	now := r.now()
	d.StepStartedAt, d.StepReadyAt = nil, &now
	d.PausedFrom, d.State = deploy.StateShifting, deploy.StatePaused
	return r.save(ctx, "", "pause", why+": resume to continue, or promote", map[string]string{"weights": d.Weights.String()})
}
