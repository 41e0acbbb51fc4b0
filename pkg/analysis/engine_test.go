package analysis

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/analysis/judge"
	"github.com/switchyard/switchyard/pkg/clock"
	"github.com/switchyard/switchyard/pkg/deploy"
)

// countingProvider answers with the next reading of its script (the last one repeats) and counts calls.
type countingProvider struct {
	mu     sync.Mutex
	script []Reading
	errs   []bool
	calls  int
}

func (p *countingProvider) Measure(_ context.Context, _ time.Time, reqs []Request) ([]Reading, []error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	i := min(p.calls, len(p.script)-1)
	c := p.calls
	p.calls++
	out, errs := make([]Reading, len(reqs)), make([]error, len(reqs))
	for k := range reqs {
		if c < len(p.errs) && p.errs[c] {
			errs[k] = fmt.Errorf("down")
			continue
		}
		out[k] = p.script[i]
	}
	return out, errs
}

func (p *countingProvider) count() int { p.mu.Lock(); defer p.mu.Unlock(); return p.calls }

func reading(n, canaryErr float64) Reading {
	return Reading{Base: judge.Arm{Requests: n}, Canary: judge.Arm{Requests: n, Errors: canaryErr}}
}

func threshold(name string, prov deploy.AnalysisProvider, pre bool, minSamples int) deploy.AnalysisMetric {
	max := 0.1
	return deploy.AnalysisMetric{Name: name, Provider: prov, Judge: deploy.JudgeThreshold, PreTraffic: &pre,
		Threshold: &deploy.ThresholdSpec{Value: "error_rate", Max: &max, MinSamples: minSamples}}
}

// rounds advances the fake clock one interval at a time until cond holds.
func rounds(t *testing.T, clk *clock.Fake, e *Engine, key string, cond func(deploy.AnalysisRun) bool) deploy.AnalysisRun {
	t.Helper()
	for i := 0; i < 200; i++ {
		// The loop is parked on the clock only between rounds: look then, never mid-round.
		for clk.Pending() == 0 {
			time.Sleep(time.Millisecond)
		}
		if st, ok := e.Status(key); ok && cond(st) {
			return st
		}
		clk.Advance(time.Second)
	}
	st, _ := e.Status(key)
	t.Fatalf("condition never held: verdict %s (%s), metrics %+v, %d points", st.Verdict, st.Why, st.Metrics, len(st.Points))
	return st
}

func TestPreTrafficCountsOnlyPreTrafficMetrics(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC))
	probe := &countingProvider{script: []Reading{reading(0, 0), reading(10, 0), reading(20, 0), reading(30, 0), reading(40, 0)}}
	prom := &countingProvider{script: []Reading{reading(0, 0)}}
	e := NewEngine(map[deploy.AnalysisProvider]Provider{deploy.ProviderProbe: probe, deploy.ProviderPrometheus: prom}, clk, nil)
	spec := deploy.AnalysisSpec{Metrics: []deploy.AnalysisMetric{
		threshold("probe", deploy.ProviderProbe, true, 2), threshold("errors", deploy.ProviderPrometheus, false, 2)}}
	if _, err := e.Start(Job{Key: "d1", Spec: spec, PreTraffic: true}); err != nil {
		t.Fatal(err)
	}
	defer e.Stop("d1")
	rounds(t, clk, e, "d1", func(r deploy.AnalysisRun) bool { return r.Verdict == deploy.VerdictPass })
	if n := prom.count(); n != 0 {
		t.Fatalf("a shift metric was measured %d times before any traffic", n)
	}
	// With traffic, the shift metric is due and has no evidence yet: no longer a pass.
	e.SetPreTraffic("d1", false)
	if st, _ := e.Status("d1"); st.Verdict != deploy.VerdictInconclusive {
		t.Fatalf("verdict %s right after traffic began, want inconclusive", st.Verdict)
	}
}

func TestConsecutiveErrorsFailClosedAndSuccessResets(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC))
	// Three failures, one success, then failures: the limit of 4 is reached only by the second run.
	p := &countingProvider{script: []Reading{reading(0, 0)}, errs: []bool{true, true, true, false, true, true, true, true}}
	e := NewEngine(map[deploy.AnalysisProvider]Provider{deploy.ProviderPrometheus: p}, clk, nil)
	spec := deploy.AnalysisSpec{Metrics: []deploy.AnalysisMetric{threshold("errors", deploy.ProviderPrometheus, false, 1000)}}
	if _, err := e.Start(Job{Key: "d1", Spec: spec}); err != nil {
		t.Fatal(err)
	}
	defer e.Stop("d1")
	st := rounds(t, clk, e, "d1", func(r deploy.AnalysisRun) bool { return r.Verdict == deploy.VerdictFail })
	if n := p.count(); n != 8 {
		t.Fatalf("failed after %d measurements, want 8 (3 errors, a success, 4 errors)", n)
	}
	if st.Metrics[0].Errors != 4 {
		t.Fatalf("errors in a row %d, want 4", st.Metrics[0].Errors)
	}
}

func TestCounterResetIntervalIsSkipped(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC))
	// 100 -> 5 is a reset: judging it as an interval would be a negative count (or cur itself, 5 of 5
	// errors); it must be skipped, and the next interval (5 -> 105, no errors) judged.
	p := &countingProvider{script: []Reading{reading(100, 0), reading(5, 5), reading(105, 5)}}
	e := NewEngine(map[deploy.AnalysisProvider]Provider{deploy.ProviderPrometheus: p}, clk, nil)
	spec := deploy.AnalysisSpec{Metrics: []deploy.AnalysisMetric{threshold("errors", deploy.ProviderPrometheus, false, 1)}}
	if _, err := e.Start(Job{Key: "d1", Spec: spec}); err != nil {
		t.Fatal(err)
	}
	defer e.Stop("d1")
	st := rounds(t, clk, e, "d1", func(r deploy.AnalysisRun) bool { return r.Verdict != deploy.VerdictInconclusive })
	if st.Verdict != deploy.VerdictPass || len(st.Points) != 1 || st.Points[0].CanaryRequests != 100 {
		t.Fatalf("verdict %s, points %+v: want one judged interval of 100 requests, pass", st.Verdict, st.Points)
	}
}

func TestStoredRunContinues(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC))
	p := &countingProvider{script: []Reading{reading(0, 0), reading(10, 0), reading(20, 0)}}
	e := NewEngine(map[deploy.AnalysisProvider]Provider{deploy.ProviderPrometheus: p}, clk, nil)
	spec := deploy.AnalysisSpec{Metrics: []deploy.AnalysisMetric{threshold("errors", deploy.ProviderPrometheus, false, 4)}}
	if _, err := e.Start(Job{Key: "d1", Spec: spec}); err != nil {
		t.Fatal(err)
	}
	rounds(t, clk, e, "d1", func(r deploy.AnalysisRun) bool { return len(r.Points) == 2 })
	stored, _ := e.Stop("d1")
	// A new daemon: the counters went on from 20; two more intervals reach the 4 samples.
	p2 := &countingProvider{script: []Reading{reading(30, 0), reading(40, 0)}}
	e2 := NewEngine(map[deploy.AnalysisProvider]Provider{deploy.ProviderPrometheus: p2}, clk, nil)
	if _, err := e2.Start(Job{Key: "d1", Spec: spec, Stored: &stored}); err != nil {
		t.Fatal(err)
	}
	defer e2.Stop("d1")
	st := rounds(t, clk, e2, "d1", func(r deploy.AnalysisRun) bool { return r.Verdict == deploy.VerdictPass })
	if !st.StartedAt.Equal(stored.StartedAt) || len(st.Points) != 4 {
		t.Fatalf("started %s (stored %s), %d points: want the stored run continued to 4", st.StartedAt, stored.StartedAt, len(st.Points))
	}
}

func TestThinKeepsRecentDetail(t *testing.T) {
	var ps []deploy.AnalysisPoint
	base := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	for i := 0; i < 5000; i++ {
		ps = thin(append(ps, deploy.AnalysisPoint{At: base.Add(time.Duration(i) * time.Second)}), deploy.MaxAnalysisPoints)
	}
	if len(ps) > deploy.MaxAnalysisPoints || !ps[0].At.Equal(base) || !ps[len(ps)-1].At.Equal(base.Add(4999*time.Second)) {
		t.Fatalf("%d points from %s to %s", len(ps), ps[0].At, ps[len(ps)-1].At)
	}
	if gap := ps[len(ps)-1].At.Sub(ps[len(ps)-2].At); gap != time.Second {
		t.Fatalf("latest points %s apart, want full detail", gap)
	}
}
