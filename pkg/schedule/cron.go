// Package schedule decides when things happen in time: when a step of a deployment may advance (at a
// wall-clock time, on a cron expression, inside its service's window), what a recurring deployment
// schedule does when it fires, and the dry-run timeline of a whole deployment.
//
// Everything is a pure function of the times it is given: nothing reads the wall clock, so the
// controller asks with its injected clock and tests run in virtual time. Cron expressions are parsed
// by github.com/robfig/cron/v3 (five fields, descriptors such as @daily, CRON_TZ=Zone prefix).
package schedule

import (
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/switchyard/switchyard/pkg/calendar"
)

// Cron is a parsed cron expression with its zone.
type Cron struct {
	expr  string
	sched cron.Schedule
}

// ParseCron reads a five-field cron expression. The zone is either a CRON_TZ= (or TZ=) prefix of the
// expression or tz, never both, and never neither: a schedule that silently ran in the daemon's zone
// would move with the machine it runs on.
func ParseCron(expr, tz, field string) (Cron, error) {
	const op = "schedule.ParseCron"
	expr = strings.TrimSpace(expr)
	prefixed := strings.HasPrefix(expr, "CRON_TZ=") || strings.HasPrefix(expr, "TZ=")
	switch {
	case expr == "":
		return Cron{}, calendar.Invalid(op, field, "required")
	case prefixed && tz != "":
		return Cron{}, calendar.Invalid(op, field, "the zone is given twice (CRON_TZ= in the expression and tz): keep one")
	case !prefixed && tz == "":
		return Cron{}, calendar.Invalid(op, field, "needs a time zone: prefix CRON_TZ=America/New_York or set tz")
	case !prefixed:
		if _, err := time.LoadLocation(tz); err != nil {
			return Cron{}, calendar.Invalid(op, "tz", "%q is not an IANA time zone", tz)
		}
		expr = "CRON_TZ=" + tz + " " + expr
	}
	s, err := cron.ParseStandard(expr)
	if err != nil {
		return Cron{}, calendar.Invalid(op, field, "%v", err)
	}
	return Cron{expr: expr, sched: s}, nil
}

// String is the expression with its zone prefix.
func (c Cron) String() string { return c.expr }

// FireAtOrAfter is the first activation at or after t (zero if none in robfig's five-year search).
func (c Cron) FireAtOrAfter(t time.Time) time.Time {
	// Next is strictly after its argument, truncated to the second: ask from just before t.
	f := c.sched.Next(t.Add(-time.Second))
	for !f.IsZero() && f.Before(t) {
		f = c.sched.Next(f)
	}
	return f
}
