package deploy

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSplitUsesFullWeightRange(t *testing.T) {
	cases := []struct {
		pct  float64
		want Weights
	}{
		{0, Weights{Blue: 999, Green: 0}},
		{0.1, Weights{Blue: 998, Green: 1}},
		{0.5, Weights{Blue: 994, Green: 5}},
		{10, Weights{Blue: 899, Green: 100}},
		{50, Weights{Blue: 499, Green: 500}},
		{100, Weights{Blue: 0, Green: 999}},
	}
	for _, c := range cases {
		if got := Split(SlotGreen, c.pct); got != c.want {
			t.Errorf("Split(green, %v) = %s, want %s", c.pct, got, c.want)
		}
		if got := Split(SlotBlue, c.pct); got != (Weights{Blue: c.want.Green, Green: c.want.Blue}) {
			t.Errorf("Split(blue, %v) = %s", c.pct, got)
		}
	}
}

func TestWeightsValidate(t *testing.T) {
	for _, w := range []Weights{{Blue: 1000}, {Blue: -1, Green: 5}, {Green: 1000}, {}} {
		if err := w.Validate(); KindOf(err) != KindInvalid {
			t.Errorf("%s: want invalid, got %v", w, err)
		}
	}
	for _, w := range []Weights{{Blue: 999}, {Green: 999}, {Blue: 1, Green: 998}} {
		if err := w.Validate(); err != nil {
			t.Errorf("%s: %v", w, err)
		}
	}
}

func TestLiveSlot(t *testing.T) {
	if s, ok := (Weights{Blue: 999}).LiveSlot(); !ok || s != SlotBlue {
		t.Fatal("blue")
	}
	if s, ok := (Weights{Green: 1}).LiveSlot(); !ok || s != SlotGreen {
		t.Fatal("green")
	}
	if _, ok := (Weights{Blue: 1, Green: 1}).LiveSlot(); ok {
		t.Fatal("split must not have a live slot")
	}
}

func TestPlan(t *testing.T) {
	bake := Duration(30 * time.Second)
	steps, err := Strategy{Type: StrategyCanary, CanaryPercent: 5, Bake: bake}.Plan()
	if err != nil || len(steps) != 2 || steps[0] != (Step{Percent: 5, Bake: bake}) || steps[1] != (Step{Percent: 100, Bake: 0}) {
		t.Fatalf("canary: %v %v", steps, err)
	}
	steps, err = Strategy{Type: StrategyLinear, LinearSteps: 3, Bake: bake}.Plan()
	if err != nil || len(steps) != 3 || steps[0].Percent != 33.333 || steps[1].Percent != 66.667 || steps[2] != (Step{Percent: 100, Bake: 0}) {
		t.Fatalf("linear: %v %v", steps, err)
	}
	steps, err = Strategy{Type: StrategyAllAtOnce}.Plan()
	if err != nil || len(steps) != 1 || steps[0].Percent != 100 {
		t.Fatalf("all-at-once: %v %v", steps, err)
	}
	steps, err = Strategy{Type: StrategySteps, Steps: []Step{{Percent: 1, Bake: bake}, {Percent: 20, Bake: bake}, {Percent: 100, Bake: bake}}}.Plan()
	if err != nil || len(steps) != 3 || steps[2].Bake != 0 {
		t.Fatalf("steps: %v %v", steps, err)
	}
	bad := map[string]Strategy{
		"empty type":        {},
		"unknown":           {Type: "blue-green"},
		"canary 100":        {Type: StrategyCanary, CanaryPercent: 100},
		"canary negative":   {Type: StrategyCanary, CanaryPercent: -5},
		"linear 0":          {Type: StrategyLinear},
		"linear too many":   {Type: StrategyLinear, LinearSteps: 101},
		"no steps":          {Type: StrategySteps},
		"decreasing":        {Type: StrategySteps, Steps: []Step{{Percent: 50, Bake: 0}, {Percent: 40, Bake: 0}, {Percent: 100, Bake: 0}}},
		"not ending at 100": {Type: StrategySteps, Steps: []Step{{Percent: 10, Bake: 0}, {Percent: 50, Bake: 0}}},
		"above 100":         {Type: StrategySteps, Steps: []Step{{Percent: 10, Bake: 0}, {Percent: 150, Bake: 0}}},
		"indistinguishable": {Type: StrategySteps, Steps: []Step{{Percent: 10, Bake: 0}, {Percent: 10.01, Bake: 0}, {Percent: 100, Bake: 0}}},
	}
	for name, s := range bad {
		if _, err := s.Plan(); KindOf(err) != KindInvalid {
			t.Errorf("%s: want invalid, got %v", name, err)
		}
	}
}

func TestValidateTag(t *testing.T) {
	for _, ok := range []string{"v1.2.3", "2026-11-27_abc123", "latest", "A", strings.Repeat("a", 128)} {
		if err := ValidateTag(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "-x", ".x", "a b", "a:b", "a/b", strings.Repeat("a", 129), "ä"} {
		if err := ValidateTag(bad); KindOf(err) != KindInvalid {
			t.Errorf("%q: want invalid, got %v", bad, err)
		}
	}
}

func TestDurationJSON(t *testing.T) {
	var s Strategy
	if err := json.Unmarshal([]byte(`{"type":"canary","bake":"1m30s"}`), &s); err != nil || s.Bake.D() != 90*time.Second {
		t.Fatalf("%v %v", s, err)
	}
	if err := json.Unmarshal([]byte(`{"type":"canary","bake":"soon"}`), &s); err == nil {
		t.Fatal("bad duration accepted")
	}
	b, _ := json.Marshal(Step{Percent: 10, Bake: Duration(time.Minute)})
	if string(b) != `{"percent":10,"bake":"1m0s"}` {
		t.Fatalf("%s", b)
	}
}

func TestErrorKindsAndMessages(t *testing.T) {
	base := Errorf("store.Get", KindNotFound, "deployment x not found")
	wrapped := Wrap("controller.Get", "", base, "")
	if KindOf(wrapped) != KindNotFound {
		t.Fatalf("kind not kept: %v", KindOf(wrapped))
	}
	if !errors.Is(wrapped, base) {
		t.Fatal("chain broken")
	}
	if got := MessageOf(wrapped); got != "deployment x not found" {
		t.Fatalf("message %q", got)
	}
	if KindOf(errors.New("plain")) != KindInternal {
		t.Fatal("plain errors are internal")
	}
	c := &Error{Op: "x", Kind: KindConflict, ActiveID: "abc"}
	if ActiveIDOf(Wrap("y", "", c, "")) != "abc" {
		t.Fatal("active id lost")
	}
}

func TestDurationJSONNumbersOutOfRangeRefused(t *testing.T) {
	for _, in := range []string{`1e300`, `-5`, `1e10`} {
		var d Duration
		if err := d.UnmarshalJSON([]byte(in)); err == nil {
			t.Errorf("%s: accepted as %s", in, d)
		}
	}
	var d Duration
	if err := d.UnmarshalJSON([]byte(`1.5`)); err != nil || d.D() != 1500*time.Millisecond {
		t.Fatalf("1.5: %v %s", err, d)
	}
}
