package config

import (
	"github.com/switchyard/switchyard/pkg/calendar"
	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/schedule"
)

// Calendar is the exchange calendar block:
//
//	calendar:
//	  exchange: NYSE            # the only exchange so far (default)
//	  closures:                 # closures the rules do not know; more can be added through the API
//	    - {date: 2025-01-09, reason: "National Day of Mourning"}
type Calendar struct {
	Exchange string             `yaml:"exchange"`
	Closures []calendar.Closure `yaml:"closures"`
}

func (c *Config) checkCalendar(add func(string, ...any)) {
	switch c.Calendar.Exchange {
	case "", "NYSE":
	default:
		add("calendar.exchange: %q is not supported (NYSE)", c.Calendar.Exchange)
	}
	if _, err := calendar.NYSE(c.Calendar.Closures); err != nil {
		add("calendar.%s", deploy.MessageOf(deploy.Invalid("config", "", err)))
	}
}

// checkWindow validates a service's window and policy, naming the key (services.web.window.open[1].to).
func checkWindow(p string, s *Service, add func(string, ...any)) {
	if s.Window != nil {
		if err := s.Window.Validate(); err != nil {
			add("%s.%s", p, deploy.MessageOf(deploy.Invalid("config", "window", err)))
		}
	}
	if err := schedule.CheckOutsidePolicy(schedule.OutsidePolicy(s.WindowPolicy), "window_policy"); err != nil {
		add("%s.%s", p, deploy.MessageOf(deploy.Invalid("config", "", err)))
	}
}
