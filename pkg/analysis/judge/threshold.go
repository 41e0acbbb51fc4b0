package judge

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// thresholdJudge judges one value of the new colour per interval against fixed limits, as Argo
// Rollouts' AnalysisTemplate does with successCondition/failureCondition, failureLimit and count:
// a value beyond Max or below Min is a failure; more than FailureLimit failures fail the metric; after
// MinSamples measured intervals (default 1) without that, it passes. An interval without requests on
// the new colour is no sample: it has no rate, no quantile and no mean. This judge is not
// sequentially valid in the statistical sense (each sample is a fixed-limit check, like the peers');
// it is for absolute service levels, beside the comparative judges.
type thresholdJudge struct {
	spec deploy.ThresholdSpec
	st   thresholdState
}

type thresholdState struct {
	Kind     deploy.JudgeKind `json:"kind"`
	Samples  int              `json:"samples"`
	Failures int              `json:"failures"`
	Last     float64          `json:"last"`
	Worst    float64          `json:"worst"`
}

// thresholdValues are the values a ThresholdSpec may name, computed from one interval of one colour.
var thresholdValues = map[string]func(Arm) float64{
	"error_rate": func(a Arm) float64 { return a.Errors / a.Requests },
	"p50":        func(a Arm) float64 { return Quantile(a, 0.5) },
	"p90":        func(a Arm) float64 { return Quantile(a, 0.9) },
	"p99":        func(a Arm) float64 { return Quantile(a, 0.99) },
	"mean":       mean,
	"requests":   func(a Arm) float64 { return a.Requests },
}

func newThresholdJudge(spec *deploy.ThresholdSpec, bad func(string, string, ...any) error) (Judge, error) {
	switch {
	case spec == nil:
		return nil, bad("threshold", "required by the threshold judge")
	case thresholdValues[spec.Value] == nil:
		return nil, bad("threshold.value", "want error_rate, p50, p90, p99, mean or requests, got %q", spec.Value)
	case spec.Max == nil && spec.Min == nil:
		return nil, bad("threshold.max", "max or min is required")
	case spec.Max != nil && spec.Min != nil && *spec.Min > *spec.Max:
		return nil, bad("threshold.min", "%v is above max %v", *spec.Min, *spec.Max)
	case spec.FailureLimit < 0:
		return nil, bad("threshold.failure_limit", "must not be negative, got %d", spec.FailureLimit)
	case spec.MinSamples < 0:
		return nil, bad("threshold.min_samples", "must not be negative, got %d", spec.MinSamples)
	}
	s := *spec
	if s.MinSamples == 0 {
		s.MinSamples = 1
	}
	return &thresholdJudge{spec: s, st: thresholdState{Kind: deploy.JudgeThreshold, Worst: math.NaN()}}, nil
}

func (j *thresholdJudge) Observe(iv Interval) {
	if iv.Canary.Requests <= 0 {
		return
	}
	v := thresholdValues[j.spec.Value](iv.Canary)
	if math.IsNaN(v) { // a latency value without buckets: nothing was measured
		return
	}
	s := &j.st
	s.Samples++
	s.Last = v
	if j.beyond(v) {
		s.Failures++
	}
	if math.IsNaN(s.Worst) || j.worse(v, s.Worst) {
		s.Worst = v
	}
}

func (j *thresholdJudge) beyond(v float64) bool {
	return (j.spec.Max != nil && v > *j.spec.Max) || (j.spec.Min != nil && v < *j.spec.Min)
}

// worse orders values by how far they are towards the limit that is set (Max when both are).
func (j *thresholdJudge) worse(v, than float64) bool {
	if j.spec.Max != nil {
		return v > than
	}
	return v < than
}

func (j *thresholdJudge) verdict() deploy.Verdict {
	switch {
	case j.st.Failures > j.spec.FailureLimit:
		return deploy.VerdictFail
	case j.st.Samples >= j.spec.MinSamples:
		return deploy.VerdictPass
	}
	return deploy.VerdictInconclusive
}

func (j *thresholdJudge) Result() Result {
	s := j.st
	st := map[string]float64{"samples": float64(s.Samples), "failures": float64(s.Failures),
		"failure_limit": float64(j.spec.FailureLimit), "min_samples": float64(j.spec.MinSamples)}
	if s.Samples > 0 {
		put(st, "value", s.Last)
		put(st, "worst", s.Worst)
	}
	r := Result{Verdict: deploy.VerdictInconclusive, Stats: st}
	limits := ""
	if j.spec.Min != nil {
		limits += fmt.Sprintf(" min %g", *j.spec.Min)
	}
	if j.spec.Max != nil {
		limits += fmt.Sprintf(" max %g", *j.spec.Max)
	}
	switch {
	case s.Failures > j.spec.FailureLimit:
		r.Verdict = deploy.VerdictFail
		r.Why = fmt.Sprintf("%s beyond%s in %d of %d intervals (limit %d); last %g", j.spec.Value, limits,
			s.Failures, s.Samples, j.spec.FailureLimit, s.Last)
	case s.Samples >= j.spec.MinSamples:
		r.Verdict = deploy.VerdictPass
		r.Why = fmt.Sprintf("%s within%s in %d intervals (%d beyond, limit %d); last %g", j.spec.Value, limits,
			s.Samples, s.Failures, j.spec.FailureLimit, s.Last)
	default:
		r.Why = fmt.Sprintf("%d of %d samples of %s", s.Samples, j.spec.MinSamples, j.spec.Value)
	}
	return r
}

func (j *thresholdJudge) State() (json.RawMessage, error) {
	s := j.st
	if math.IsNaN(s.Worst) {
		s.Worst = 0 // JSON has no NaN; Samples == 0 says there is no worst yet
	}
	return json.Marshal(s)
}

func (j *thresholdJudge) Restore(raw json.RawMessage) error {
	var s thresholdState
	if err := restore(raw, deploy.JudgeThreshold, &s, func() deploy.JudgeKind { return s.Kind }); err != nil {
		return err
	}
	if s.Samples == 0 {
		s.Worst = math.NaN()
	}
	j.st = s
	return nil
}
