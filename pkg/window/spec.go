// Package window holds per-service deployment windows: when a deployment may start and a step may
// advance. A window is a union of rules ("trading days 07:00-09:00", "market closed", "always") less
// every freeze that applies to the service and, by default, every operator closure of the calendar.
//
// Everything takes the time as an argument; nothing reads the wall clock, so the controller asks with
// its injected clock and tests run in virtual time.
package window

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/switchyard/switchyard/pkg/calendar"
)

// Kind is what a rule opens.
type Kind string

const (
	// KindHours (the default) opens From-To in the window's zone on the days of Days.
	KindHours Kind = "hours"
	// KindMarketClosed opens whenever the exchange is not in its regular session: nights, weekends,
	// holidays, and the afternoon of an early close.
	KindMarketClosed Kind = "market_closed"
	// KindAlways opens at all times (freezes, and closures under the block policy, still apply).
	KindAlways Kind = "always"
)

// Days selects the days an hours rule applies to.
type Days string

const (
	DaysTrading  Days = "trading"   // the default: the calendar's trading days (early closes included)
	DaysWeekdays Days = "weekdays"  // Monday to Friday, holidays or not
	DaysEvery    Days = "every_day" // all seven days
)

// ClosurePolicy says what an operator closure of the exchange does to the window.
type ClosurePolicy string

const (
	// ClosuresBlock (the default): no step runs during an operator closure, as during a freeze. An
	// unscheduled closure (a day of mourning, a storm) is an unusual day, and releasing on it is the
	// operator's explicit decision (remove the closure, or choose allow).
	ClosuresBlock ClosurePolicy = "block"
	// ClosuresAllow: a closure is only a market closure: a trading-day rule is shut on a closed day and
	// a market_closed rule is open during it.
	ClosuresAllow ClosurePolicy = "allow"
)

// Rule is one part of a window.
type Rule struct {
	Kind Kind   `json:"kind,omitempty" yaml:"kind,omitempty"`
	Days Days   `json:"days,omitempty" yaml:"days,omitempty"` // hours rules only
	From string `json:"from,omitempty" yaml:"from,omitempty"` // "07:00" (hours rules only)
	To   string `json:"to,omitempty" yaml:"to,omitempty"`     // "09:00"; "24:00" is the end of the day
}

// Spec is a window as configured, persisted and sent over the API:
//
//	zone: America/New_York
//	open:
//	  - {days: trading, from: "07:00", to: "09:00"}
//	  - {days: trading, from: "16:30", to: "18:00"}
//
// Freezes always apply: a window never opens during a freeze of its service ("never during freeze" is
// every window's rule; an emergency release overrides the freeze explicitly, it is not a window).
type Spec struct {
	// Zone is the IANA zone of the hours rules; default the calendar's (America/New_York for NYSE).
	Zone     string        `json:"zone,omitempty" yaml:"zone,omitempty"`
	Open     []Rule        `json:"open" yaml:"open"`
	Closures ClosurePolicy `json:"closures,omitempty" yaml:"closures,omitempty"`
}

// Always is the window of a service that configures none.
var Always = Spec{Open: []Rule{{Kind: KindAlways}}}

// MarketClosed opens only outside the regular session.
var MarketClosed = Spec{Open: []Rule{{Kind: KindMarketClosed}}}

// DecodeJSON reads a Spec strictly (unknown fields are errors) and validates it.
func DecodeJSON(b []byte) (Spec, error) {
	var s Spec
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Spec{}, calendar.Invalid("window.DecodeJSON", "", "%v", err)
	}
	return s, s.Validate()
}

// DecodeYAML reads a Spec strictly (unknown fields are errors) and validates it.
func DecodeYAML(b []byte) (Spec, error) {
	var s Spec
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		return Spec{}, calendar.Invalid("window.DecodeYAML", "", "%v", err)
	}
	return s, s.Validate()
}

// Validate checks every field; the error names the first bad one ("open[1].to").
func (s Spec) Validate() error {
	const op = "window.Spec.Validate"
	if s.Zone != "" {
		if _, err := time.LoadLocation(s.Zone); err != nil {
			return calendar.Invalid(op, "zone", "%q is not an IANA time zone (e.g. America/New_York)", s.Zone)
		}
	}
	switch s.Closures {
	case "", ClosuresBlock, ClosuresAllow:
	default:
		return calendar.Invalid(op, "closures", "%q: want block or allow", s.Closures)
	}
	if len(s.Open) == 0 {
		return calendar.Invalid(op, "open", "required: at least one rule (kind always, market_closed or hours)")
	}
	for i, r := range s.Open {
		if err := r.check(op, "open["+strconv.Itoa(i)+"]"); err != nil {
			return err
		}
	}
	return nil
}

func (r Rule) check(op, field string) error {
	switch r.Kind {
	case "", KindHours:
		switch r.Days {
		case "", DaysTrading, DaysWeekdays, DaysEvery:
		default:
			return calendar.Invalid(op, field+".days", "%q: want trading, weekdays or every_day", r.Days)
		}
		from, err := parseClock(r.From)
		if err != nil {
			return calendar.Invalid(op, field+".from", "%v", err)
		}
		to, err := parseClock(r.To)
		if err != nil {
			return calendar.Invalid(op, field+".to", "%v", err)
		}
		if to <= from {
			return calendar.Invalid(op, field+".to", "%s is not after from %s (a window across midnight is two rules)", r.To, r.From)
		}
	case KindMarketClosed, KindAlways:
		if r.Days != "" || r.From != "" || r.To != "" {
			return calendar.Invalid(op, field, "kind %s takes no days, from or to", r.Kind)
		}
	default:
		return calendar.Invalid(op, field+".kind", "%q: want hours, market_closed or always", r.Kind)
	}
	return nil
}

// parseClock reads "HH:MM" (00:00 to 24:00) as minutes after midnight.
func parseClock(s string) (int, error) {
	hh, mm, ok := strings.Cut(s, ":")
	h, err1 := strconv.Atoi(hh)
	m, err2 := strconv.Atoi(mm)
	if !ok || len(hh) != 2 || len(mm) != 2 || err1 != nil || err2 != nil || h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0) {
		if s == "" {
			return 0, fmt.Errorf("required: a time of day HH:MM")
		}
		return 0, fmt.Errorf("%q is not a time of day HH:MM (00:00 to 24:00)", s)
	}
	return h*60 + m, nil
}

// describe is the rule as people say it: "trading days 07:00-09:00".
func (r Rule) describe() string {
	switch r.Kind {
	case KindMarketClosed:
		return "market closed"
	case KindAlways:
		return "always"
	}
	days := map[Days]string{"": "trading days", DaysTrading: "trading days", DaysWeekdays: "weekdays", DaysEvery: "every day"}[r.Days]
	return days + " " + r.From + "-" + r.To
}
