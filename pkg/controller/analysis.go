package controller

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/switchyard/switchyard/pkg/analysis"
	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/rollback"
)

// defaultAnalysisCheckpoint is how often a running analysis is stored although its verdict did not
// change, so that a restart loses at most this much evidence.
const defaultAnalysisCheckpoint = 15 * time.Second

// analysing reports whether this deployment's analysis should run now: it judges the new colour
// against the old one from the moment the new colour is ready until all traffic is on it.
func (r *runner) analysing() bool {
	if r.svc.Analysis == nil || r.c.analysis == nil {
		return false
	}
	switch r.d.State {
	case deploy.StateShifting, deploy.StatePaused:
		return true
	}
	return false
}

// startAnalysis starts (or continues, from the stored run) the deployment's analysis. An analysis that
// cannot start is a trigger: no evidence, no release.
func (r *runner) startAnalysis(ctx context.Context) *rollback.Trigger {
	if !r.analysing() {
		return nil
	}
	svc := r.svc
	ch, err := r.c.analysis.Start(analysis.Job{
		Key: r.d.ID, Spec: *svc.Analysis, Stored: r.d.Analysis,
		Base: analysis.TargetFor(svc, r.d.From), Canary: analysis.TargetFor(svc, r.d.To),
		PreTraffic: r.d.Weights.Of(r.d.To) == 0,
	})
	if err != nil {
		t := rollback.Trigger{Cause: deploy.CauseAnalysis, Reason: "analysis cannot run: " + deploy.MessageOf(err), ObservedAt: r.now()}
		return &t
	}
	if r.analysisNotify == nil && r.d.Analysis == nil {
		r.c.event(ctx, r.d, "", "analysis.start", fmt.Sprintf("%d metric(s) every %s, alpha %g",
			len(svc.Analysis.Metrics), svc.Analysis.WithDefaults().Interval, svc.Analysis.WithDefaults().Alpha), nil)
	}
	r.analysisNotify = ch
	return nil
}

// analysisRun returns the analysis as it stands (nil when the deployment has none running), after
// telling it whether the new colour has production traffic yet.
func (r *runner) analysisRun() *deploy.AnalysisRun {
	if r.analysisNotify == nil {
		return nil
	}
	r.c.analysis.SetPreTraffic(r.d.ID, r.d.Weights.Of(r.d.To) == 0)
	a, ok := r.c.analysis.Status(r.d.ID)
	if !ok {
		return nil
	}
	return &a
}

// stopAnalysis ends the analysis and keeps its final record for the next save.
func (r *runner) stopAnalysis() {
	if r.analysisNotify == nil {
		return
	}
	if a, ok := r.c.analysis.Stop(r.d.ID); ok {
		r.d.Analysis = &a
	}
	r.analysisNotify = nil
}

// checkpointAnalysis stores the analysis when its verdict changed (with an audit event saying why) or
// when the last checkpoint is older than analysisCheckpoint.
func (r *runner) checkpointAnalysis(ctx context.Context, a *deploy.AnalysisRun) error {
	if a == nil {
		return nil
	}
	prev := r.stored.Analysis
	changed := prev == nil || prev.Verdict != a.Verdict
	if !changed && r.now().Sub(r.analysisSaved) < r.c.o.AnalysisCheckpoint {
		return nil
	}
	r.analysisSaved = r.now() // save stores the analysis as it stands
	if !changed {
		return r.save(ctx, "", "", "", nil)
	}
	r.logger().Info("analysis verdict", zap.String("verdict", string(a.Verdict)), zap.String("why", a.Why))
	return r.save(ctx, "", "analysis.verdict", a.Why, map[string]string{"verdict": string(a.Verdict)})
}

// analysisTrigger is the rollback a failed analysis asks for.
func analysisTrigger(a *deploy.AnalysisRun, now time.Time) *rollback.Trigger {
	if a == nil || a.Verdict != deploy.VerdictFail {
		return nil
	}
	return &rollback.Trigger{Cause: deploy.CauseAnalysis, Reason: "analysis failed: " + a.Why, ObservedAt: now,
		Detail: map[string]string{"verdict": string(a.Verdict)}}
}

// quitAnalysis ends a running analysis without recording it: the daemon is stopping, and the next
// owner continues from the last stored checkpoint.
func (r *runner) quitAnalysis() {
	if r.analysisNotify != nil {
		r.c.analysis.Stop(r.d.ID)
		r.analysisNotify = nil
	}
}

// analysisSteps checks that a plan's analysis steps have an analysis to wait for, and puts the
// pre-traffic gate in front of a plan whose analysis has pre-traffic metrics (probes): a release that
// fails them never gets production traffic.
func (c *Controller) analysisSteps(svc deploy.Service, steps []deploy.Step) ([]deploy.Step, error) {
	const op = "controller.Create"
	if svc.Analysis == nil {
		for i, st := range steps {
			if st.KindOf() == deploy.StepAnalysis {
				return nil, deploy.Errorf(op, deploy.KindInvalid, "steps[%d]: an analysis step needs the service's analysis block", i)
			}
		}
		return steps, nil
	}
	if c.analysis == nil {
		return nil, deploy.Errorf(op, deploy.KindPrecondition, "service %s has an analysis, but this daemon runs none", svc.Name)
	}
	if svc.Analysis.HasPreTraffic() && steps[0].KindOf() != deploy.StepAnalysis {
		gate := deploy.Step{Kind: deploy.StepAnalysis, Bake: deploy.Duration(deploy.DefaultPreTrafficGate)}
		steps = append([]deploy.Step{gate}, steps...)
	}
	return steps, nil
}
