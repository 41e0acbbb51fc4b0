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
		{"step bake negative", steps(Step{Percent: 10, Bake: min}, Step{Percent: 50, Bake: Duration(-5 * time.Second)}, Step{Percent: 100, Bake: 0}), "steps[1].bake: ", "negative"},
		{"step bake absurd", steps(Step{Percent: 10, Bake: Duration(25 * time.Hour)}, Step{Percent: 100, Bake: 0}), "steps[0].bake: ", "maximum bake"},
		{"last step bake negative", steps(Step{Percent: 10, Bake: 0}, Step{Percent: 100, Bake: -1}), "steps[1].bake: ", "negative"},
		{"step weight 0", steps(Step{Percent: 0.01, Bake: 0}, Step{Percent: 100, Bake: 0}), "steps[0].percent: ", "rounds to ALB weight 0"},
		{"step weight 999", steps(Step{Percent: 10, Bake: 0}, Step{Percent: 99.99, Bake: 0}, Step{Percent: 100, Bake: 0}), "steps[1].percent: ", "rounds to the full weight 999"},
		{"step zero", steps(Step{Percent: 0, Bake: 0}, Step{Percent: 100, Bake: 0}), "steps[0].percent: ", "within (0, 100]"},
		{"step above 100", steps(Step{Percent: 10, Bake: 0}, Step{Percent: 150, Bake: 0}), "steps[1].percent: ", "within (0, 100]"},
		{"step NaN", steps(Step{Percent: math.NaN(), Bake: 0}, Step{Percent: 100, Bake: 0}), "steps[0].percent: ", "within (0, 100]"},
		{"step -Inf", steps(Step{Percent: math.Inf(-1), Bake: 0}, Step{Percent: 100, Bake: 0}), "steps[0].percent: ", "within (0, 100]"},
		{"decreasing", steps(Step{Percent: 50, Bake: 0}, Step{Percent: 40, Bake: 0}, Step{Percent: 100, Bake: 0}), "steps[1].percent: ", "increase strictly"},
		{"indistinguishable", steps(Step{Percent: 10, Bake: 0}, Step{Percent: 10.01, Bake: 0}, Step{Percent: 100, Bake: 0}), "steps[1].percent: ", "not distinguishable"},
		{"100 before the end", steps(Step{Percent: 100, Bake: 0}, Step{Percent: 100, Bake: 0}), "steps[0].percent: ", "below 100"},
		{"not ending at 100", steps(Step{Percent: 10, Bake: 0}, Step{Percent: 50, Bake: 0}), "steps[1].percent: ", "last step must be 100"},
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
		{Type: StrategySteps, Steps: []Step{{Percent: 0.1, Bake: Duration(MaxBake)}, {Percent: 99.9, Bake: 0}, {Percent: 100, Bake: Duration(MaxBake)}}},
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

func TestPauseSteps(t *testing.T) {
	ok := Strategy{Type: StrategySteps, Steps: []Step{{Percent: 10, Bake: Duration(time.Minute)}, {Kind: StepPause}, {Percent: 100}}}
	steps, err := ok.Plan()
	if err != nil || len(steps) != 3 || steps[1].KindOf() != StepPause || steps[0].KindOf() != StepWeight {
		t.Fatalf("%v %v", steps, err)
	}
	for name, c := range map[string]struct {
		steps []Step
		want  string
	}{
		"pause last":       {[]Step{{Percent: 10}, {Kind: StepPause}}, "steps[1].kind: the last step"},
		"pause with pct":   {[]Step{{Kind: StepPause, Percent: 20}, {Percent: 100}}, "steps[0].percent: a pause step"},
		"pause with bake":  {[]Step{{Kind: StepPause, Bake: Duration(time.Second)}, {Percent: 100}}, "steps[0].bake: a pause step"},
		"unknown kind":     {[]Step{{Kind: "gate"}, {Percent: 100}}, `steps[0].kind: unknown step kind "gate"`},
		"weights increase": {[]Step{{Percent: 50}, {Kind: StepPause}, {Percent: 40}, {Percent: 100}}, "steps[2].percent"},
	} {
		_, err := Strategy{Type: StrategySteps, Steps: c.steps}.Plan()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", name, err, c.want)
		}
	}
}
