package config

import (
	"github.com/switchyard/switchyard/pkg/analysis/judge"
	"github.com/switchyard/switchyard/pkg/deploy"
)

// checkAnalysis validates a service's analysis block and the steps that need one.
func (c *Config) checkAnalysis(p string, s *Service, add func(string, ...any)) {
	strategy := c.Defaults.Strategy
	if s.Strategy != nil {
		strategy = s.Strategy
	}
	if s.Analysis == nil {
		if strategy != nil {
			for i, st := range strategy.Steps {
				if st.KindOf() == deploy.StepAnalysis {
					add("%s.strategy.steps[%d]: an analysis step needs the service's analysis block", p, i)
				}
			}
		}
		return
	}
	if err := s.Analysis.Check(); err != nil {
		add("%s.analysis.%s", p, deploy.MessageOf(err))
		return
	}
	for i, m := range s.Analysis.Metrics {
		// The judge's own settings (margin, quantile, threshold) are checked by building it.
		if _, err := judge.New(m, s.Analysis.Alpha); err != nil {
			add("%s.analysis.metrics[%d]: %s", p, i, deploy.MessageOf(err))
		}
	}
	if s.Analysis.HasPreTraffic() && s.TestListenerARN == "" {
		add("%s.analysis: pre-traffic metrics (probes) reach the new colour through the test listener: set test_listener_arn", p)
	}
}
