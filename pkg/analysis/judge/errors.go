package judge

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// errorsJudge compares the new colour's error rate with the live colour's (see the package doc,
// "errors"). FAIL: the rate-ratio mixture martingale reaches 1/alpha. PASS: the confidence sequences
// (alpha/2 each) show canary_upper - base_lower <= margin.
type errorsJudge struct {
	alpha, margin, minRequests float64
	st                         errorsState
}

type errorsState struct {
	Kind   deploy.JudgeKind `json:"kind"`
	Test   ratioTest        `json:"test"`
	Canary rateCS           `json:"canary"`
	Base   rateCS           `json:"base"`
	Passed bool             `json:"passed,omitempty"`
	Failed bool             `json:"failed,omitempty"`
}

func newErrorsJudge(alpha, margin, minRequests float64) *errorsJudge {
	// The rate priors centre on the margin: "not worse" is decided at that scale, and a prior that
	// expects small rates lets the bound shrink fast when there are no errors at all.
	strength := 1 / margin
	return &errorsJudge{alpha: alpha, margin: margin, minRequests: minRequests, st: errorsState{
		Kind:   deploy.JudgeErrors,
		Test:   oneSidedGrid(),
		Canary: newRateCS(margin, strength),
		Base:   newRateCS(margin, strength),
	}}
}

func (j *errorsJudge) Observe(iv Interval) {
	b, c := iv.Base, iv.Canary
	n := b.Requests + c.Requests
	if n <= 0 {
		return
	}
	s := j.st
	s.Test.observe(c.Errors, b.Errors+c.Errors, c.Requests/n)
	// Once "not worse" has been shown the bounds need not be tightened any more (only counted).
	s.Canary.observe(c.Errors, c.Requests, j.alpha/2, !s.Passed)
	s.Base.observe(b.Errors, b.Requests, j.alpha/2, !s.Passed)
	if s.Canary.N >= j.minRequests {
		if s.Test.reaches(math.Log(1 / j.alpha)) {
			s.Failed = true
		}
		if s.Canary.Hi-s.Base.Lo <= j.margin {
			s.Passed = true
		}
	}
	j.st = s
}

func (j *errorsJudge) verdict() deploy.Verdict {
	switch s := &j.st; {
	case s.Canary.N < j.minRequests:
		return deploy.VerdictInconclusive
	case s.Failed:
		return deploy.VerdictFail
	case s.Passed:
		return deploy.VerdictPass
	}
	return deploy.VerdictInconclusive
}

func (j *errorsJudge) Result() Result {
	s := &j.st
	lbf := s.Test.logBF()
	st := map[string]float64{
		"log_bf": math.Max(lbf, -1e6), "log_bf_threshold": math.Log(1 / j.alpha),
		"canary_requests": s.Canary.N, "canary_errors": s.Canary.X,
		"base_requests": s.Base.N, "base_errors": s.Base.X,
		"canary_upper": s.Canary.Hi, "base_lower": s.Base.Lo, "margin": j.margin,
	}
	put(st, "canary_rate", s.Canary.rate())
	put(st, "base_rate", s.Base.rate())
	put(st, "diff_upper", s.Canary.Hi-s.Base.Lo)
	r := Result{Verdict: deploy.VerdictInconclusive, Stats: st}
	switch {
	case s.Canary.N < j.minRequests:
		r.Why = fmt.Sprintf("%.0f of %.0f requests on the new colour before a verdict", s.Canary.N, j.minRequests)
	case s.Failed:
		r.Verdict = deploy.VerdictFail
		r.Why = fmt.Sprintf("new colour's error rate %.3g%% exceeds the live colour's %.3g%% (Bayes factor %.3g >= 1/alpha = %.3g)",
			100*s.Canary.rate(), 100*s.Base.rate(), math.Exp(math.Min(lbf, 700)), 1/j.alpha)
	case s.Passed:
		r.Verdict = deploy.VerdictPass
		r.Why = fmt.Sprintf("new colour's error rate is at most the live colour's + %.3g%% (canary <= %.3g%%, live >= %.3g%%)",
			100*j.margin, 100*s.Canary.Hi, 100*s.Base.Lo)
	default:
		r.Why = fmt.Sprintf("error rates %.3g%% (new) vs %.3g%% (live): Bayes factor %.3g < %.3g, difference bound %.3g%% > margin %.3g%%",
			100*s.Canary.rate(), 100*s.Base.rate(), math.Exp(math.Min(lbf, 700)), 1/j.alpha, 100*(s.Canary.Hi-s.Base.Lo), 100*j.margin)
	}
	return r
}

func (j *errorsJudge) State() (json.RawMessage, error) { return json.Marshal(j.st) }

func (j *errorsJudge) Restore(raw json.RawMessage) error {
	var s errorsState
	if err := restore(raw, deploy.JudgeErrors, &s, func() deploy.JudgeKind { return s.Kind }); err != nil {
		return err
	}
	if !s.Test.valid() {
		return deploy.Errorf("judge.Restore", deploy.KindInvalid, "errors judge state has no test grid")
	}
	j.st = s
	return nil
}
