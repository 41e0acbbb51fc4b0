package controller

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/analysis"
	"github.com/switchyard/switchyard/pkg/analysis/judge"
	"github.com/switchyard/switchyard/pkg/clock"
	"github.com/switchyard/switchyard/pkg/deploy"
)

// scriptedProvider answers every Measure with counters that grow by 100 requests per colour, the
// canary's errors by 100 × canaryRate; failing makes every answer an error.
type scriptedProvider struct {
	mu         sync.Mutex
	canaryRate float64
	failing    bool
	base, can  judge.Arm
	calls      int
	preTraffic []bool // per call: was the base colour asked (false only before traffic)?
}

func (p *scriptedProvider) Measure(_ context.Context, _ time.Time, reqs []analysis.Request) ([]analysis.Reading, []error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	out, errs := make([]analysis.Reading, len(reqs)), make([]error, len(reqs))
	p.base.Requests += 100
	p.can.Requests += 100
	p.can.Errors += 100 * p.canaryRate
	for i := range reqs {
		if p.failing {
			errs[i] = deploy.Errorf("test.Measure", deploy.KindUnavailable, "metrics store down")
			continue
		}
		out[i] = analysis.Reading{Base: p.base, Canary: p.can}
	}
	return out, errs
}

func (p *scriptedProvider) set(rate float64, failing bool) {
	p.mu.Lock()
	p.canaryRate, p.failing = rate, failing
	p.mu.Unlock()
}

func thresholdAnalysis(preTraffic bool) *deploy.AnalysisSpec {
	max := 0.05
	return &deploy.AnalysisSpec{Interval: deploy.Duration(100 * time.Millisecond), EarlyPass: true,
		Metrics: []deploy.AnalysisMetric{{Name: "error-rate", Provider: deploy.ProviderPrometheus, Judge: deploy.JudgeThreshold,
			PreTraffic: &preTraffic, Prometheus: &deploy.PrometheusQueries{URL: "http://prom.invalid", Requests: "r", Errors: "e"},
			Threshold: &deploy.ThresholdSpec{Value: "error_rate", Max: &max, MinSamples: 3}}}}
}

func analysisEnv(t *testing.T, spec *deploy.AnalysisSpec, p *scriptedProvider, clk clock.Clock) *env {
	t.Helper()
	return newEnv(t, nil, nil, nil, nil, func(o *Options) {
		svc := o.Services["web"]
		svc.Analysis = spec
		o.Services = map[string]deploy.Service{"web": svc}
		if clk != nil {
			o.Clock = clk
		} else {
			clk = clock.Real{}
		}
		o.Analysis = analysis.NewEngine(map[deploy.AnalysisProvider]analysis.Provider{deploy.ProviderPrometheus: p}, clk, nil)
	})
}

func TestAnalysisFailureRollsBackWithItsReason(t *testing.T) {
	p := &scriptedProvider{canaryRate: 0.5}
	e := analysisEnv(t, thresholdAnalysis(false), p, nil)
	s := deploy.Strategy{Type: deploy.StrategyCanary, CanaryPercent: 10, Bake: deploy.Duration(time.Hour)}
	d := e.create("v2", &s)
	got := e.waitState(d.ID, deploy.StateRolledBack)
	if got.Cause != deploy.CauseAnalysis {
		t.Fatalf("cause %s (%s), want analysis", got.Cause, got.Reason)
	}
	if got.Analysis == nil || got.Analysis.Verdict != deploy.VerdictFail || got.Analysis.FinishedAt == nil {
		t.Fatalf("stored analysis %+v, want a finished failed run", got.Analysis)
	}
	if len(got.Analysis.Points) == 0 || got.Analysis.Metrics[0].Stats == nil {
		t.Fatalf("no measurements stored: %+v", got.Analysis)
	}
	acts := e.store.actions(d.ID)
	if !slices.Contains(acts, "analysis.start") || !slices.Contains(acts, "analysis.verdict") {
		t.Fatalf("events %v lack the analysis' start and verdict", acts)
	}
	e.assertAllOn(deploy.SlotBlue)
}

func TestAnalysisPassEndsTheBakeEarly(t *testing.T) {
	p := &scriptedProvider{}
	e := analysisEnv(t, thresholdAnalysis(false), p, nil)
	s := deploy.Strategy{Type: deploy.StrategyCanary, CanaryPercent: 10, Bake: deploy.Duration(time.Hour)}
	d := e.create("v2", &s)
	got := e.waitFor(d.ID, "succeeded well inside the hour's bake", func(d *deploy.Deployment) bool { return d.State == deploy.StateSucceeded }, 20*time.Second)
	if got.Analysis == nil || got.Analysis.Verdict != deploy.VerdictPass {
		t.Fatalf("stored analysis %+v, want pass", got.Analysis)
	}
}

func TestPreTrafficGateKeepsAFailingReleaseFromTraffic(t *testing.T) {
	p := &scriptedProvider{canaryRate: 1}
	e := analysisEnv(t, thresholdAnalysis(true), p, nil)
	d := e.create("v2", nil)
	if d.Steps[0].KindOf() != deploy.StepAnalysis {
		t.Fatalf("steps %v: want the pre-traffic gate first", d.Steps)
	}
	got := e.waitState(d.ID, deploy.StateRolledBack)
	if got.Cause != deploy.CauseAnalysis {
		t.Fatalf("cause %s (%s), want analysis", got.Cause, got.Reason)
	}
	for _, a := range e.store.actions(d.ID) {
		if a == "weights.set" {
			t.Fatalf("a release failing its pre-traffic checks got traffic: events %v", e.store.actions(d.ID))
		}
	}
}

func TestAnalysisThatCannotMeasureFailsClosed(t *testing.T) {
	p := &scriptedProvider{failing: true}
	e := analysisEnv(t, thresholdAnalysis(false), p, nil)
	s := deploy.Strategy{Type: deploy.StrategyCanary, CanaryPercent: 10, Bake: deploy.Duration(time.Hour)}
	d := e.create("v2", &s)
	got := e.waitState(d.ID, deploy.StateRolledBack)
	if got.Cause != deploy.CauseAnalysis || got.Analysis == nil || got.Analysis.Metrics[0].Errors < deploy.DefaultErrorLimit {
		t.Fatalf("cause %s (%s), analysis %+v: want a fail-closed analysis rollback", got.Cause, got.Reason, got.Analysis)
	}
}

func TestInconclusiveBakeFollowsPolicy(t *testing.T) {
	spec := thresholdAnalysis(false)
	spec.EarlyPass = false
	spec.Metrics[0].Threshold.MinSamples = 1 << 20 // never enough to pass
	spec.OnInconclusive = deploy.InconclusiveRollback
	p := &scriptedProvider{}
	e := analysisEnv(t, spec, p, nil)
	s := deploy.Strategy{Type: deploy.StrategyCanary, CanaryPercent: 10, Bake: deploy.Duration(300 * time.Millisecond)}
	d := e.create("v2", &s)
	got := e.waitState(d.ID, deploy.StateRolledBack)
	if got.Cause != deploy.CauseAnalysis {
		t.Fatalf("cause %s (%s), want analysis (on_inconclusive rollback)", got.Cause, got.Reason)
	}
}

func TestAnalysisStepWithoutAnalysisRefused(t *testing.T) {
	e := newEnv(t, nil, nil, nil, nil)
	s := deploy.Strategy{Type: deploy.StrategySteps, Steps: []deploy.Step{{Percent: 10}, {Kind: deploy.StepAnalysis, Bake: deploy.Duration(time.Minute)}, {Percent: 100}}}
	_, err := e.c.Create(context.Background(), deploy.CreateRequest{Service: "web", ImageTag: "v2", Strategy: &s, Actor: "t"})
	if deploy.KindOf(err) != deploy.KindInvalid {
		t.Fatalf("create: %v, want invalid", err)
	}
}

// A restart continues the stored run: the judge's samples and the measurements survive.
func TestAnalysisSurvivesRestart(t *testing.T) {
	store := newMemStore()
	p := &scriptedProvider{}
	spec := thresholdAnalysis(false)
	spec.EarlyPass = false
	spec.Metrics[0].Threshold.MinSamples = 1 << 20
	var router *fakeRouter
	var ecs *fakeECS
	mk := func() *env {
		return newEnv(t, store, router, ecs, nil, func(o *Options) {
			svc := o.Services["web"]
			svc.Analysis = spec
			o.Services = map[string]deploy.Service{"web": svc}
			o.Analysis = analysis.NewEngine(map[deploy.AnalysisProvider]analysis.Provider{deploy.ProviderPrometheus: p}, clock.Real{}, nil)
			o.AnalysisCheckpoint = 200 * time.Millisecond
		})
	}
	e := mk()
	router, ecs = e.router, e.ecs
	s := deploy.Strategy{Type: deploy.StrategyCanary, CanaryPercent: 10, Bake: deploy.Duration(time.Hour)}
	d := e.create("v2", &s)
	samples := func(d *deploy.Deployment) float64 {
		if d.Analysis == nil || len(d.Analysis.Metrics) == 0 {
			return 0
		}
		return d.Analysis.Metrics[0].Stats["samples"]
	}
	// The first verdict change is stored at once; wait for a checkpoint with samples.
	e.waitFor(d.ID, "an analysis verdict stored", func(d *deploy.Deployment) bool { return d.Analysis != nil })
	e.waitFor(d.ID, "a checkpoint with samples", func(d *deploy.Deployment) bool { return samples(d) >= 2 })
	e.stop()
	stored, _ := store.GetDeployment(context.Background(), d.ID)
	e2 := mk()
	got := e2.waitFor(d.ID, "the resumed analysis adds samples", func(x *deploy.Deployment) bool {
		live, err := e2.c.Get(context.Background(), x.ID)
		return err == nil && samples(live) > samples(stored) && samples(stored) > 0
	}, 10*time.Second)
	if got.Analysis.StartedAt != stored.Analysis.StartedAt {
		t.Fatalf("restart began a new run (%s), want the stored one (%s)", got.Analysis.StartedAt, stored.Analysis.StartedAt)
	}
}
