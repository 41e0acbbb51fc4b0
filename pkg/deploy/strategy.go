package deploy

import (
	"fmt"
	"math"
	"strings"
)

// StrategyType names how traffic moves to the new slot.
type StrategyType string

const (
	StrategyCanary    StrategyType = "canary"      // CanaryPercent, bake, then 100%
	StrategyLinear    StrategyType = "linear"      // LinearSteps equal steps to 100%
	StrategyAllAtOnce StrategyType = "all-at-once" // straight to 100%
	StrategySteps     StrategyType = "steps"       // an explicit list of steps
)

// Step is one weight change: the new slot gets Percent of traffic, then the controller bakes (watches
// alarms and health) for Bake before the next step. The last step is always 100.
type Step struct {
	Percent float64  `json:"percent" yaml:"percent"`
	Bake    Duration `json:"bake" yaml:"bake"`
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

// Plan validates s and expands it into the ordered weight steps. The final step is 100% with no bake:
// once all traffic is on the new slot, finalizing takes over.
func (s Strategy) Plan() ([]Step, error) {
	const op = "strategy.Plan"
	bad := func(format string, args ...any) ([]Step, error) {
		return nil, Errorf(op, KindInvalid, format, args...)
	}
	switch s.Type {
	case StrategyCanary:
		p := s.CanaryPercent
		if p == 0 {
			p = 10
		}
		if p <= 0 || p >= 100 || math.IsNaN(p) {
			return bad("canary_percent must be above 0 and below 100, got %v", s.CanaryPercent)
		}
		return []Step{{Percent: p, Bake: s.Bake}, {Percent: 100}}, nil
	case StrategyLinear:
		n := s.LinearSteps
		if n < 1 || n > MaxSteps {
			return bad("linear_steps must be between 1 and %d, got %d", MaxSteps, n)
		}
		steps := make([]Step, n)
		for i := range steps {
			steps[i] = Step{Percent: math.Round(1000*100*float64(i+1)/float64(n)) / 1000, Bake: s.Bake}
		}
		steps[n-1] = Step{Percent: 100}
		return steps, nil
	case StrategyAllAtOnce:
		return []Step{{Percent: 100}}, nil
	case StrategySteps:
		if len(s.Steps) == 0 {
			return bad("steps strategy needs at least one step")
		}
		if len(s.Steps) > MaxSteps {
			return bad("at most %d steps, got %d", MaxSteps, len(s.Steps))
		}
		prev := 0.0
		for i, st := range s.Steps {
			if math.IsNaN(st.Percent) || st.Percent <= prev || st.Percent > 100 {
				return bad("step %d: percent must increase strictly within (0, 100], got %v after %v", i+1, st.Percent, prev)
			}
			if Split(SlotGreen, st.Percent).Green == Split(SlotGreen, prev).Green {
				return bad("step %d: %v%% is not distinguishable from %v%% at ALB weight resolution (1/999)", i+1, st.Percent, prev)
			}
			prev = st.Percent
		}
		if prev != 100 {
			return bad("the last step must be 100%%, got %v", prev)
		}
		steps := append([]Step(nil), s.Steps...)
		steps[len(steps)-1].Bake = 0
		return steps, nil
	case "":
		return bad("strategy type is required (one of %s)", strings.Join(StrategyTypes(), ", "))
	default:
		return bad("unknown strategy %q (one of %s)", s.Type, strings.Join(StrategyTypes(), ", "))
	}
}

// StrategyTypes lists the accepted strategy names.
func StrategyTypes() []string {
	return []string{string(StrategyCanary), string(StrategyLinear), string(StrategyAllAtOnce), string(StrategySteps)}
}

func (s Step) String() string { return fmt.Sprintf("%g%% (bake %s)", s.Percent, s.Bake) }
