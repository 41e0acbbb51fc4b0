package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// strategyFlags are deploy's strategy options. With none of them set the service's configured default
// strategy applies.
type strategyFlags struct {
	typ           string
	canaryPercent float64
	linearSteps   int
	steps         string
	bake          time.Duration
}

func (s *strategyFlags) register(f *pflag.FlagSet) {
	f.StringVar(&s.typ, "strategy", "", "canary, linear, all-at-once or steps (default: the service's configured strategy)")
	f.Float64Var(&s.canaryPercent, "canary-percent", 0, "canary: percent of traffic for the canary step (default 10)")
	f.IntVar(&s.linearSteps, "linear-steps", 0, "linear: number of equal steps up to 100%")
	f.StringVar(&s.steps, "steps", "", `steps: comma-separated PERCENT[:BAKE], e.g. "10:30s,50:1m,100"`)
	f.DurationVar(&s.bake, "bake", 0, "time to watch alarms and health after each step (default bake for --steps entries without one)")
}

// build turns the flags into a strategy (nil: use the service default), inferring the type from the
// type-specific flag when --strategy is absent, and validating it with the same rules as the daemon so
// that mistakes fail before anything is sent.
func (s *strategyFlags) build(f *pflag.FlagSet) (*deploy.Strategy, error) {
	typ := deploy.StrategyType(s.typ)
	implied := map[string]deploy.StrategyType{
		"canary-percent": deploy.StrategyCanary, "linear-steps": deploy.StrategyLinear, "steps": deploy.StrategySteps,
	}
	for _, name := range []string{"canary-percent", "linear-steps", "steps"} {
		if !f.Changed(name) {
			continue
		}
		want := implied[name]
		switch {
		case typ == "":
			typ = want
		case typ != want:
			return nil, fmt.Errorf("--%s applies to the %s strategy, not %s", name, want, typ)
		}
	}
	if typ == "" {
		if f.Changed("bake") {
			return nil, fmt.Errorf("--bake needs --strategy (without one the service's configured strategy, including its bake, applies)")
		}
		return nil, nil
	}
	if s.bake < 0 {
		return nil, fmt.Errorf("--bake %s: must not be negative", s.bake)
	}
	st := &deploy.Strategy{Type: typ, Bake: deploy.Duration(s.bake)}
	switch typ {
	case deploy.StrategyCanary:
		st.CanaryPercent = s.canaryPercent
		if f.Changed("canary-percent") && (s.canaryPercent <= 0 || s.canaryPercent >= 100) {
			return nil, fmt.Errorf("--canary-percent %g: must be above 0 and below 100", s.canaryPercent)
		}
	case deploy.StrategyLinear:
		if !f.Changed("linear-steps") {
			return nil, fmt.Errorf("--strategy linear needs --linear-steps N")
		}
		st.LinearSteps = s.linearSteps
	case deploy.StrategySteps:
		if !f.Changed("steps") {
			return nil, fmt.Errorf(`--strategy steps needs --steps, e.g. --steps "10:30s,50:1m,100"`)
		}
		steps, err := parseSteps(s.steps, st.Bake)
		if err != nil {
			return nil, err
		}
		st.Steps, st.Bake = steps, 0
	case deploy.StrategyAllAtOnce:
		if f.Changed("bake") {
			return nil, fmt.Errorf("--bake has no effect with all-at-once (there is no step to bake after)")
		}
	default:
		return nil, fmt.Errorf("--strategy %q: must be one of %s", s.typ, strings.Join(deploy.StrategyTypes(), ", "))
	}
	if _, err := st.Plan(); err != nil {
		return nil, fmt.Errorf("invalid strategy: %s", deploy.MessageOf(err))
	}
	return st, nil
}

// parseSteps parses "10:30s,50:1m,100": PERCENT (optionally with %) and an optional bake duration.
func parseSteps(spec string, defaultBake deploy.Duration) ([]deploy.Step, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, fmt.Errorf("--steps is empty")
	}
	var steps []deploy.Step
	for i, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if strings.EqualFold(part, "pause") {
			steps = append(steps, deploy.Step{Kind: deploy.StepPause})
			continue
		}
		pct, bake, hasBake := strings.Cut(part, ":")
		p, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(pct), "%"), 64)
		if err != nil {
			return nil, fmt.Errorf("--steps element %d %q: percent %q is not a number (want PERCENT[:BAKE], e.g. 50:1m, or pause)", i+1, part, pct)
		}
		st := deploy.Step{Percent: p, Bake: defaultBake}
		if hasBake {
			d, err := time.ParseDuration(strings.TrimSpace(bake))
			if err != nil || d < 0 {
				return nil, fmt.Errorf("--steps element %d %q: bake %q is not a duration such as 30s or 2m", i+1, part, bake)
			}
			st.Bake = deploy.Duration(d)
		}
		steps = append(steps, st)
	}
	return steps, nil
}
