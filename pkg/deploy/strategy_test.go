package deploy

import (
	"math"
	"strings"
	"testing"
	"time"
)

// Each rule of Plan, with the field its message must start with.
func TestPlanRefusesNamingTheField(t *testing.T) {
	min := Duration(time.Minute)
	steps := func(s ...Step) Strategy { return Strategy{Type: StrategySteps, Steps: s} }
	cases := []struct {
		name  string
		s     Strategy
		field string
		msg   string
	}{
		{"no type", Strategy{}, "type: ", "required"},
		{"unknown type", Strategy{Type: "blue-green"}, "type: ", "unknown strategy"},
		{"negative bake", Strategy{Type: StrategyCanary, Bake: Duration(-5 * time.Second)}, "bake: ", "negative"},
		{"absurd bake", Strategy{Type: StrategyLinear, LinearSteps: 2, Bake: Duration(MaxBake + time.Second)}, "bake: ", "maximum bake of 24h"},
		{"overflowed bake", Strategy{Type: StrategyCanary, Bake: Duration(math.MinInt64)}, "bake: ", "negative"},
		{"bake on all-at-once", Strategy{Type: StrategyAllAtOnce, Bake: min}, "bake: ", "no effect"},
		{"canary 100", Strategy{Type: StrategyCanary, CanaryPercent: 100}, "canary_percent: ", "below 100"},
		{"canary negative", Strategy{Type: StrategyCanary, CanaryPercent: -1}, "canary_percent: ", "within (0, 100]"},
		{"canary NaN", Strategy{Type: StrategyCanary, CanaryPercent: math.NaN()}, "canary_percent: ", "within (0, 100]"},
		{"canary Inf", Strategy{Type: StrategyCanary, CanaryPercent: math.Inf(1)}, "canary_percent: ", "within (0, 100]"},
		{"canary weight 0", Strategy{Type: StrategyCanary, CanaryPercent: 0.01}, "canary_percent: ", "rounds to ALB weight 0"},
		{"canary weight 999", Strategy{Type: StrategyCanary, CanaryPercent: 99.96}, "canary_percent: ", "rounds to the full weight 999"},
		{"canary field on linear", Strategy{Type: StrategyLinear, LinearSteps: 2, CanaryPercent: 5}, "canary_percent: ", "only to the canary"},
		{"linear field on canary", Strategy{Type: StrategyCanary, LinearSteps: 2}, "linear_steps: ", "only to the linear"},
		{"steps on canary", Strategy{Type: StrategyCanary, Steps: []Step{{Percent: 100}}}, "steps: ", "only to the steps"},
		{"linear 0", Strategy{Type: StrategyLinear}, "linear_steps: ", "between 1 and 100"},
		{"linear too many", Strategy{Type: StrategyLinear, LinearSteps: 101}, "linear_steps: ", "between 1 and 100"},
		{"no steps", steps(), "steps: ", "at least one"},
		{"too many steps", Strategy{Type: StrategySteps, Steps: make([]Step, 101)}, "steps: ", "at most 100"},
		{"step bake negative", steps(Step{10, min}, Step{50, Duration(-5 * time.Second)}, Step{100, 0}), "steps[1].bake: ", "negative"},
		{"step bake absurd", steps(Step{10, Duration(25 * time.Hour)}, Step{100, 0}), "steps[0].bake: ", "maximum bake"},
		{"last step bake negative", steps(Step{10, 0}, Step{100, -1}), "steps[1].bake: ", "negative"},
		{"step weight 0", steps(Step{0.01, 0}, Step{100, 0}), "steps[0].percent: ", "rounds to ALB weight 0"},
		{"step weight 999", steps(Step{10, 0}, Step{99.99, 0}, Step{100, 0}), "steps[1].percent: ", "rounds to the full weight 999"},
		{"step zero", steps(Step{0, 0}, Step{100, 0}), "steps[0].percent: ", "within (0, 100]"},
		{"step above 100", steps(Step{10, 0}, Step{150, 0}), "steps[1].percent: ", "within (0, 100]"},
		{"step NaN", steps(Step{math.NaN(), 0}, Step{100, 0}), "steps[0].percent: ", "within (0, 100]"},
		{"step -Inf", steps(Step{math.Inf(-1), 0}, Step{100, 0}), "steps[0].percent: ", "within (0, 100]"},
		{"decreasing", steps(Step{50, 0}, Step{40, 0}, Step{100, 0}), "steps[1].percent: ", "increase strictly"},
		{"indistinguishable", steps(Step{10, 0}, Step{10.01, 0}, Step{100, 0}), "steps[1].percent: ", "not distinguishable"},
		{"100 before the end", steps(Step{100, 0}, Step{100, 0}), "steps[0].percent: ", "below 100"},
		{"not ending at 100", steps(Step{10, 0}, Step{50, 0}), "steps[1].percent: ", "last step must be 100"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.s.Plan()
			if KindOf(err) != KindInvalid {
				t.Fatalf("want invalid, got %v", err)
			}
			if msg := MessageOf(err); !strings.HasPrefix(msg, c.field) || !strings.Contains(msg, c.msg) {
				t.Fatalf("message %q, want prefix %q containing %q", msg, c.field, c.msg)
			}
		})
	}
}

// The edges of the rules are accepted: smallest and largest partial weights, the maximum bake.
func TestPlanAcceptsTheEdges(t *testing.T) {
	ok := []Strategy{
		{Type: StrategyCanary, CanaryPercent: 0.06, Bake: Duration(MaxBake)},
		{Type: StrategyCanary, CanaryPercent: 99.9},
		{Type: StrategyCanary},
		{Type: StrategySteps, Steps: []Step{{0.1, Duration(MaxBake)}, {99.9, 0}, {100, Duration(MaxBake)}}},
		{Type: StrategyLinear, LinearSteps: MaxSteps, Bake: Duration(time.Second)},
		{Type: StrategyAllAtOnce, PauseBeforeTraffic: true},
	}
	for _, s := range ok {
		steps, err := s.Plan()
		if err != nil {
			t.Errorf("%+v: %v", s, err)
			continue
		}
		prev := 0
		for i, st := range steps {
			w := Split(SlotGreen, st.Percent).Green
			if w <= prev || (i < len(steps)-1 && w >= MaxWeight) {
				t.Errorf("%+v: step %d weight %d after %d", s, i, w, prev)
			}
			prev = w
		}
		if steps[len(steps)-1].Percent != 100 || steps[len(steps)-1].Bake != 0 {
			t.Errorf("%+v: last step %v", s, steps[len(steps)-1])
		}
	}
}
