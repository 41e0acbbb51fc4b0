package judge

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// Interval is one measurement interval's deltas: Base is the live colour, Canary the new one.
type Interval struct {
	Base, Canary Arm
}

// Result is a judge's verdict so far, a sentence saying why, and the figures behind it.
type Result struct {
	Verdict deploy.Verdict
	Why     string
	Stats   map[string]float64
}

// Judge judges a release from the intervals it is fed, in order.
type Judge interface {
	Observe(iv Interval)
	Result() Result
	// State is everything needed to continue after a restart; Restore continues from it (on a judge
	// New built from the same metric and alpha).
	State() (json.RawMessage, error)
	Restore(json.RawMessage) error
}

// Defaults of deploy.AnalysisMetric.
const (
	DefaultAlpha         = 0.01
	DefaultErrorsMargin  = 0.01
	DefaultLatencyMargin = 0.05
	DefaultQuantile      = 0.9
	// DefaultLatencyTolerance: slowdowns below it are not failures (see deploy.AnalysisMetric.Tolerance).
	DefaultLatencyTolerance = 20 * time.Millisecond
	DefaultErrorsMin        = 20
	DefaultLatencyMin       = 50
)

// New builds the judge metric m names (m.Judge: errors, latency or threshold) with the documented
// defaults of deploy.AnalysisMetric and alpha (DefaultAlpha when 0). Bad settings are a
// deploy.KindInvalid error naming the field.
func New(m deploy.AnalysisMetric, alpha float64) (Judge, error) {
	const op = "judge.New"
	bad := func(field, format string, args ...any) error {
		return deploy.Errorf(op, deploy.KindInvalid, "metric %q: %s: %s", m.Name, field, fmt.Sprintf(format, args...))
	}
	if alpha == 0 {
		alpha = DefaultAlpha
	}
	if !(alpha > 0 && alpha < 1) {
		return nil, bad("alpha", "must be in (0, 1), got %v", alpha)
	}
	if m.MinRequests < 0 {
		return nil, bad("min_requests", "must not be negative, got %d", m.MinRequests)
	}
	switch m.Judge {
	case deploy.JudgeErrors:
		margin, err := orDefault(m.Margin, DefaultErrorsMargin, bad)
		if err != nil {
			return nil, err
		}
		return newErrorsJudge(alpha, margin, minOr(m.MinRequests, DefaultErrorsMin)), nil
	case deploy.JudgeLatency:
		margin, err := orDefault(m.Margin, DefaultLatencyMargin, bad)
		if err != nil {
			return nil, err
		}
		q := m.Quantile
		if q == 0 {
			q = DefaultQuantile
		}
		if !(q > 0 && q < 1) {
			return nil, bad("quantile", "must be in (0, 1), got %v", m.Quantile)
		}
		tol := m.Tolerance.D()
		switch {
		case tol == 0:
			tol = DefaultLatencyTolerance
		case tol < 0:
			return nil, bad("tolerance", "must not be negative, got %s", tol)
		}
		j := newLatencyJudge(alpha, margin, q, minOr(m.MinRequests, DefaultLatencyMin))
		j.tolerance = tol.Seconds()
		return j, nil
	case deploy.JudgeThreshold:
		return newThresholdJudge(m.Threshold, bad)
	default:
		return nil, bad("judge", "want errors, latency or threshold, got %q", m.Judge)
	}
}

func orDefault(margin, def float64, bad func(string, string, ...any) error) (float64, error) {
	if margin == 0 {
		return def, nil
	}
	if !(margin > 0 && margin < 1) {
		return 0, bad("margin", "must be in (0, 1), got %v", margin)
	}
	return margin, nil
}

func minOr(v, def int) float64 {
	if v == 0 {
		return float64(def)
	}
	return float64(v)
}

// restore decodes a state, refusing one of another judge.
func restore(raw json.RawMessage, kind deploy.JudgeKind, into any, got func() deploy.JudgeKind) error {
	if err := json.Unmarshal(raw, into); err != nil {
		return deploy.Wrap("judge.Restore", deploy.KindInvalid, err, "decode "+string(kind)+" judge state")
	}
	if k := got(); k != kind {
		return deploy.Errorf("judge.Restore", deploy.KindInvalid, "state of a %q judge given to a %q judge", k, kind)
	}
	return nil
}

// put sets stats[k] = v when v is finite: JSON cannot carry NaN or infinities, and an undefined
// figure (a rate without requests) is better absent than invented.
func put(stats map[string]float64, k string, v float64) {
	if !math.IsNaN(v) && !math.IsInf(v, 0) {
		stats[k] = v
	}
}
