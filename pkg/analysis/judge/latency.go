package judge

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// latencyJudge compares how often each colour is slower than a threshold taken from the live colour's
// latency (see the package doc, "latency"). The threshold is chosen once, from intervals before the
// one it is first applied to (predictable), as the smallest bucket bound at or above the live
// colour's Quantile; from then on each interval's exceedances (requests above it) feed the
// same rate-ratio martingale as the errors judge, with the interval's requests as exposure.
type latencyJudge struct {
	alpha, margin, q, minRequests float64
	tolerance                     float64 // seconds added to the live quantile before the bound is chosen
	st                            latencyState
}

type latencyState struct {
	Kind deploy.JudgeKind `json:"kind"`
	// Threshold (seconds) once chosen; 0 before. Warmup is the live colour's histogram until then.
	Threshold float64   `json:"threshold,omitempty"`
	Warmup    Arm       `json:"warmup"`
	Test      ratioTest `json:"test"`
	Canary    rateCS    `json:"canary"`
	Base      rateCS    `json:"base"`
	// CanaryAll and BaseAll are the colours' whole histograms, for the quantiles in Stats.
	CanaryAll Arm  `json:"canary_all"`
	BaseAll   Arm  `json:"base_all"`
	Skipped   int  `json:"skipped,omitempty"` // intervals whose buckets lack the threshold
	Passed    bool `json:"passed,omitempty"`
	Failed    bool `json:"failed,omitempty"`
}

func newLatencyJudge(alpha, margin, q, minRequests float64) *latencyJudge {
	// Exceedance shares are near 1-q; priors centred there with a weak strength.
	return &latencyJudge{alpha: alpha, margin: margin, q: q, minRequests: minRequests, st: latencyState{
		Kind:   deploy.JudgeLatency,
		Test:   oneSidedGrid(),
		Canary: newRateCS(1-q, 2/(1-q)),
		Base:   newRateCS(1-q, 2/(1-q)),
	}}
}

// warmupRequests is how many live requests the threshold is chosen from: enough for about ten
// requests above the quantile (and at least MinRequests).
func (j *latencyJudge) warmupRequests() float64 { return math.Max(j.minRequests, 10/(1-j.q)) }

func (j *latencyJudge) Observe(iv Interval) {
	s := j.st
	s.CanaryAll = accumulate(s.CanaryAll, iv.Canary)
	s.BaseAll = accumulate(s.BaseAll, iv.Base)
	defer func() { j.st = s }()
	if s.Threshold == 0 {
		// This interval only informs the threshold: using it for the test too would make the
		// threshold depend on the counts it splits.
		s.Warmup = accumulate(s.Warmup, iv.Base)
		if s.Warmup.Requests >= j.warmupRequests() {
			s.Threshold = quantileBound(s.Warmup, j.q, j.tolerance)
		}
		return
	}
	xc, okc := exceed(iv.Canary, s.Threshold)
	xb, okb := exceed(iv.Base, s.Threshold)
	if !okc || !okb {
		s.Skipped++
		return
	}
	n := iv.Base.Requests + iv.Canary.Requests
	if n > 0 {
		s.Test.observe(xc, xc+xb, iv.Canary.Requests/n)
	}
	// Once "not slower" has been shown the bounds need not be tightened any more (only counted).
	s.Canary.observe(xc, iv.Canary.Requests, j.alpha/2, !s.Passed)
	s.Base.observe(xb, iv.Base.Requests, j.alpha/2, !s.Passed)
	if s.CanaryAll.Requests >= j.minRequests {
		if s.Test.reaches(math.Log(1 / j.alpha)) {
			s.Failed = true
		}
		if s.Canary.N > 0 && s.Canary.Hi-s.Base.Lo <= j.margin {
			s.Passed = true
		}
	}
}

// quantileBound is the smallest bucket bound at or above a's q-quantile plus tol (seconds). Without
// the tolerance the bound would sit where a few milliseconds of scheduling noise, or one colour's scrape
// catching a shared pause the other's misses, move a large share of requests across it: the test of
// equal distributions would then, rightly but uselessly, find two colours of one release different.
// A bound that no live request exceeds is the most telling one, not one to skip: a release that pushes
// requests past it is seen at once.
func quantileBound(a Arm, q, tol float64) float64 {
	target := Quantile(a, q) + tol
	for _, b := range a.Buckets {
		if b.Le > 0 && b.Le >= target {
			return b.Le
		}
	}
	if n := len(a.Buckets); n > 0 {
		return a.Buckets[n-1].Le
	}
	return 0
}

// exceed is how many of a's requests took longer than le; false when a has requests but no bucket le.
func exceed(a Arm, le float64) (float64, bool) {
	if a.Requests <= 0 {
		return 0, true
	}
	c, ok := bucketAt(a.Buckets, le)
	return math.Max(a.Requests-c, 0), ok
}

func (j *latencyJudge) verdict() deploy.Verdict {
	switch s := &j.st; {
	case s.CanaryAll.Requests < j.minRequests || s.Threshold == 0:
		return deploy.VerdictInconclusive
	case s.Failed:
		return deploy.VerdictFail
	case s.Passed:
		return deploy.VerdictPass
	}
	return deploy.VerdictInconclusive
}

func (j *latencyJudge) Result() Result {
	s := &j.st
	lbf := s.Test.logBF()
	st := map[string]float64{
		"log_bf": math.Max(lbf, -1e6), "log_bf_threshold": math.Log(1 / j.alpha),
		"threshold": s.Threshold, "canary_requests": s.CanaryAll.Requests, "base_requests": s.BaseAll.Requests,
		"canary_share_upper": s.Canary.Hi, "base_share_lower": s.Base.Lo, "margin": j.margin,
		"skipped": float64(s.Skipped),
	}
	put(st, "canary_share", s.Canary.rate())
	put(st, "base_share", s.Base.rate())
	put(st, "canary_p90", Quantile(s.CanaryAll, 0.9))
	put(st, "base_p90", Quantile(s.BaseAll, 0.9))
	put(st, "canary_p50", Quantile(s.CanaryAll, 0.5))
	put(st, "base_p50", Quantile(s.BaseAll, 0.5))
	r := Result{Verdict: deploy.VerdictInconclusive, Stats: st}
	slower := fmt.Sprintf("requests slower than %.4gs: %.3g%% (new) vs %.3g%% (live)", s.Threshold,
		100*s.Canary.rate(), 100*s.Base.rate())
	switch {
	case s.CanaryAll.Requests < j.minRequests:
		r.Why = fmt.Sprintf("%.0f of %.0f requests on the new colour before a verdict", s.CanaryAll.Requests, j.minRequests)
	case s.Threshold == 0:
		r.Why = fmt.Sprintf("choosing the threshold: %.0f of %.0f live requests", s.Warmup.Requests, j.warmupRequests())
	case s.Failed:
		r.Verdict = deploy.VerdictFail
		r.Why = fmt.Sprintf("new colour is slower: %s (Bayes factor %.3g >= 1/alpha = %.3g)", slower,
			math.Exp(math.Min(lbf, 700)), 1/j.alpha)
	case s.Passed:
		r.Verdict = deploy.VerdictPass
		r.Why = fmt.Sprintf("new colour is not slower: %s; new <= %.3g%%, live >= %.3g%%, margin %.3g%%", slower,
			100*s.Canary.Hi, 100*s.Base.Lo, 100*j.margin)
	default:
		r.Why = fmt.Sprintf("%s: Bayes factor %.3g < %.3g, difference bound %.3g%% > margin %.3g%%", slower,
			math.Exp(math.Min(lbf, 700)), 1/j.alpha, 100*(s.Canary.Hi-s.Base.Lo), 100*j.margin)
	}
	return r
}

func (j *latencyJudge) State() (json.RawMessage, error) { return json.Marshal(j.st) }

func (j *latencyJudge) Restore(raw json.RawMessage) error {
	var s latencyState
	if err := restore(raw, deploy.JudgeLatency, &s, func() deploy.JudgeKind { return s.Kind }); err != nil {
		return err
	}
	if !s.Test.valid() {
		return deploy.Errorf("judge.Restore", deploy.KindInvalid, "latency judge state has no test grid")
	}
	j.st = s
	return nil
}
