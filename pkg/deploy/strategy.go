package deploy

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/switchyard/switchyard/pkg/schedule"
)

// StrategyType names how traffic moves to the new slot.
type StrategyType string

const (
	StrategyCanary    StrategyType = "canary"      // CanaryPercent, bake, then 100%
	StrategyLinear    StrategyType = "linear"      // LinearSteps equal steps to 100%
	StrategyAllAtOnce StrategyType = "all-at-once" // straight to 100%
	StrategySteps     StrategyType = "steps"       // an explicit list of steps
)

// StepKind names what a step does. A new kind is a constant here, its checks in checkStepList and
// CheckReadable, and one file in pkg/controller (step_<kind>.go) that decides it.
type StepKind string

const (
	// StepWeight (the default: "" reads as weight) gives the new slot Percent of traffic, then bakes
	// (watches the guards) for Bake before the next step. The last step is always a weight step of 100.
	StepWeight StepKind = "weight"
	// StepPause holds the deployment, paused and still guarded, at the weights of the step before it
	// until an operator resumes (the next step follows) or promotes it.
	StepPause StepKind = "pause"
	// StepAnalysis holds the weights of the step before it (none before the first weight step: the
	// release is then seen only through the test listener) until the service's analysis passes (next
	// step) or fails (rollback). Bake is the longest it waits; then analysis.on_inconclusive applies.
	StepAnalysis StepKind = "analysis"
)

// StepKinds lists the accepted step kinds.
func StepKinds() []string {
	return []string{string(StepWeight), string(StepPause), string(StepAnalysis)}
}

// Step is one step of a deployment's plan.
type Step struct {
	Kind    StepKind `json:"kind,omitempty" yaml:"kind,omitempty"`
	Percent float64  `json:"percent,omitempty" yaml:"percent,omitempty"`
	Bake    Duration `json:"bake,omitempty" yaml:"bake,omitempty"`
	// Timing, when set, holds the step until a wall-clock time (at) or a cron activation (cron, in a
	// zone), inside the service's window (docs/schedules.md).
	schedule.Timing `yaml:",inline"`
}

// KindOf returns the step's kind, weight when unset.
func (s Step) KindOf() StepKind {
	if s.Kind == "" {
		return StepWeight
	}
	return s.Kind
}

// Strategy is a deployment strategy as requested; Plan turns it into Steps.
type Strategy struct {
	Type          StrategyType `json:"type" yaml:"type"`
	CanaryPercent float64      `json:"canary_percent,omitempty" yaml:"canary_percent,omitempty"`
	LinearSteps   int          `json:"linear_steps,omitempty" yaml:"linear_steps,omitempty"`
	Bake          Duration     `json:"bake,omitempty" yaml:"bake,omitempty"`
	Steps         []Step       `json:"steps,omitempty" yaml:"steps,omitempty"`
	// PauseBeforeTraffic holds the deployment, paused, once the new slot is ready and the test listener
	// points at it: nothing moves to production until an operator resumes or promotes it.
	PauseBeforeTraffic bool `json:"pause_before_traffic,omitempty" yaml:"pause_before_traffic,omitempty"`
}

// MaxSteps bounds a plan so that a typo cannot create a day-long rollout.
const MaxSteps = 100

// DefaultCanaryPercent is the canary step when canary_percent is not set.
const DefaultCanaryPercent = 10

// Plan validates s and expands it into the ordered weight steps. The final step is 100% with no bake:
// once all traffic is on the new slot, finalizing takes over.
//
// Every message starts with the offending field relative to the strategy ("steps[1].bake: ..."), so
// callers prefix their own location ("strategy.", "services.web.strategy."). Every value that is
// stored with a deployment is checked, including those its type ignores: a strategy that Plan accepts
// always reads back.
func (s Strategy) Plan() ([]Step, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	switch s.Type {
	case StrategyCanary:
		p := s.CanaryPercent
		if p == 0 {
			p = DefaultCanaryPercent
		}
		return []Step{{Percent: p, Bake: s.Bake}, {Percent: 100}}, nil
	case StrategyLinear:
		n := s.LinearSteps
		steps := make([]Step, n)
		for i := range steps {
			steps[i] = Step{Percent: math.Round(1000*100*float64(i+1)/float64(n)) / 1000, Bake: s.Bake}
		}
		steps[n-1] = Step{Percent: 100}
		return steps, nil
	case StrategyAllAtOnce:
		return []Step{{Percent: 100}}, nil
	default: // StrategySteps; check refused every other type
		steps := append([]Step(nil), s.Steps...)
		steps[len(steps)-1].Bake = 0
		return steps, nil
	}
}

func (s Strategy) check() error {
	const op = "strategy.Plan"
	bad := func(format string, args ...any) error { return Errorf(op, KindInvalid, format, args...) }
	if msg := bakeProblem(s.Bake); msg != "" {
		return bad("bake: %s", msg)
	}
	// Fields of another type would be stored and silently ignored: refuse them, the request meant
	// something else.
	if s.Type != StrategyCanary && s.CanaryPercent != 0 {
		return bad("canary_percent: applies only to the canary strategy, not %q", s.Type)
	}
	if s.Type != StrategyLinear && s.LinearSteps != 0 {
		return bad("linear_steps: applies only to the linear strategy, not %q", s.Type)
	}
	if s.Type != StrategySteps && len(s.Steps) != 0 {
		return bad("steps: applies only to the steps strategy, not %q", s.Type)
	}
	switch s.Type {
	case StrategyCanary:
		p := s.CanaryPercent
		if p == 0 {
			p = DefaultCanaryPercent
		}
		if msg := percentProblem(p, 0, true); msg != "" {
			return bad("canary_percent: %s", msg)
		}
	case StrategyLinear:
		if s.LinearSteps < 1 || s.LinearSteps > MaxSteps {
			return bad("linear_steps: must be between 1 and %d, got %d", MaxSteps, s.LinearSteps)
		}
	case StrategyAllAtOnce:
		if s.Bake != 0 {
			return bad("bake: has no effect with all-at-once (there is no step to bake after)")
		}
	case StrategySteps:
		return checkStepList(s.Steps)
	case "":
		return bad("type: required (one of %s)", strings.Join(StrategyTypes(), ", "))
	default:
		return bad("type: unknown strategy %q (one of %s)", s.Type, strings.Join(StrategyTypes(), ", "))
	}
	return nil
}

func checkStepList(steps []Step) error {
	const op = "strategy.Plan"
	bad := func(format string, args ...any) error { return Errorf(op, KindInvalid, format, args...) }
	if len(steps) == 0 {
		return bad("steps: the steps strategy needs at least one step")
	}
	if len(steps) > MaxSteps {
		return bad("steps: at most %d steps, got %d", MaxSteps, len(steps))
	}
	prev := 0.0
	for i, st := range steps {
		last := i == len(steps)-1
		if err := st.Timing.Validate(fmt.Sprintf("steps[%d]", i)); err != nil {
			return Invalid(op, "", err)
		}
		if !st.Timing.IsZero() && st.KindOf() != StepWeight {
			return bad("steps[%d]: at and cron apply to weight steps only, not %s steps", i, st.KindOf())
		}
		switch st.KindOf() {
		case StepWeight:
			if msg := percentProblem(st.Percent, prev, !last); msg != "" {
				return bad("steps[%d].percent: %s", i, msg)
			}
			if msg := bakeProblem(st.Bake); msg != "" {
				return bad("steps[%d].bake: %s", i, msg)
			}
			prev = st.Percent
		case StepPause:
			switch {
			case last:
				return bad("steps[%d].kind: the last step must be a weight step of 100, not a pause", i)
			case st.Percent != 0:
				return bad("steps[%d].percent: a pause step keeps the weights of the step before it", i)
			case st.Bake != 0:
				return bad("steps[%d].bake: a pause step waits for an operator; to wait a fixed time, bake the weight step before it", i)
			}
		case StepAnalysis:
			switch {
			case last:
				return bad("steps[%d].kind: the last step must be a weight step of 100, not an analysis", i)
			case st.Percent != 0:
				return bad("steps[%d].percent: an analysis step keeps the weights of the step before it", i)
			case st.Bake <= 0:
				return bad("steps[%d].bake: an analysis step needs the longest time it waits for a verdict", i)
			}
			if msg := bakeProblem(st.Bake); msg != "" {
				return bad("steps[%d].bake: %s", i, msg)
			}
		default:
			return bad("steps[%d].kind: unknown step kind %q (one of %s)", i, st.Kind, strings.Join(StepKinds(), ", "))
		}
	}
	if prev != 100 {
		return bad("steps[%d].percent: the last step must be 100, got %v", len(steps)-1, prev)
	}
	return nil
}

// minPercent and maxPartialPercent are the smallest percent that gives the new slot any ALB weight and
// the largest that still leaves some on the old one (weights are 0-999, see Split).
const (
	minPercent        = 100 * 0.5 / MaxWeight
	maxPartialPercent = 100 * (MaxWeight - 0.5) / MaxWeight
)

// percentProblem explains why p is not a usable step after prev, or returns "". partial says the step
// must leave traffic on the old slot (a canary, or any step but the last).
func percentProblem(p, prev float64, partial bool) string {
	w := func(p float64) int { return Split(SlotGreen, p).Green }
	switch {
	case math.IsNaN(p) || math.IsInf(p, 0) || p <= 0 || p > 100:
		return fmt.Sprintf("must be within (0, 100], got %v", p)
	case w(p) == 0:
		return fmt.Sprintf("%v%% rounds to ALB weight 0 of %d, which sends the new slot nothing (at least %.3g%%)", p, MaxWeight, minPercent)
	case p <= prev:
		return fmt.Sprintf("percent must increase strictly, got %v after %v", p, prev)
	case w(p) == w(prev):
		return fmt.Sprintf("%v%% is not distinguishable from %v%% at ALB weight resolution (1/%d)", p, prev, MaxWeight)
	case partial && p < 100 && w(p) == MaxWeight:
		return fmt.Sprintf("%v%% rounds to the full weight %d, which leaves the old slot nothing (at most %.4g%% below 100)", p, MaxWeight, maxPartialPercent)
	case partial && p == 100:
		return "a canary or intermediate step must be below 100"
	}
	return ""
}

// bakeProblem explains why d is not a usable bake, or returns "".
func bakeProblem(d Duration) string {
	switch {
	case d < 0:
		return fmt.Sprintf("must not be negative, got %s", time.Duration(d))
	case d.D() > MaxBake:
		return fmt.Sprintf("%s is longer than the maximum bake of %s", time.Duration(d), MaxBake)
	}
	return ""
}

// StrategyTypes lists the accepted strategy names.
func StrategyTypes() []string {
	return []string{string(StrategyCanary), string(StrategyLinear), string(StrategyAllAtOnce), string(StrategySteps)}
}

func (s Step) String() string {
	switch s.KindOf() {
	case StepPause:
		return "pause"
	case StepAnalysis:
		return fmt.Sprintf("analysis (up to %s)", s.Bake)
	}
	return fmt.Sprintf("%g%% (bake %s)", s.Percent, s.Bake)
}
