package calendar

import (
	"fmt"
	"slices"
	"time"
)

// InvalidError is bad operator data (a closure, a freeze, a window or a schedule): nothing was applied.
// Field names the offending value relative to what was checked ("closures[0].reason"), so callers
// prefix their own location; the daemon maps it to its "invalid" kind. It does not use pkg/deploy's
// error type because pkg/deploy will import these packages (a step's timing), not the other way round.
type InvalidError struct {
	Op      string // e.g. "calendar.NYSE", "window.Spec.Validate"
	Field   string
	Message string
}

func (e *InvalidError) Error() string {
	if e.Field == "" {
		return e.Op + ": " + e.Message
	}
	return e.Op + ": " + e.Field + ": " + e.Message
}

// Invalid builds an *InvalidError.
func Invalid(op, field, format string, args ...any) *InvalidError {
	return &InvalidError{Op: op, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Closure is an exchange closure that the rules do not know (a national day of mourning, a storm): the
// operator adds it as data, the daemon persists it, and no release is needed. It is either a whole
// trading day (Date, in the calendar's zone) or a time range [Start, End).
type Closure struct {
	Date   Date      `json:"date,omitzero" yaml:"date,omitempty"`
	Start  time.Time `json:"start,omitzero" yaml:"start,omitempty"`
	End    time.Time `json:"end,omitzero" yaml:"end,omitempty"`
	Reason string    `json:"reason" yaml:"reason"`
}

func (c Closure) check(op, field string) error {
	hasRange := !c.Start.IsZero() || !c.End.IsZero()
	switch {
	case c.Date.IsZero() && !hasRange:
		return Invalid(op, field, "set either date (a whole day) or start and end (a time range)")
	case !c.Date.IsZero() && hasRange:
		return Invalid(op, field, "date and start/end are exclusive: a closure is a whole day or a time range")
	case hasRange && (c.Start.IsZero() || c.End.IsZero()):
		return Invalid(op, field+".end", "a time range needs both start and end")
	case hasRange && !c.Start.Before(c.End):
		return Invalid(op, field+".end", "%s is not after start %s", c.End.Format(time.RFC3339), c.Start.Format(time.RFC3339))
	case c.Reason == "":
		return Invalid(op, field+".reason", "required: say why the exchange is closed")
	}
	return nil
}

// Freeze is a period in which no deployment starts and no step advances (quarter-end, an incident),
// set by an operator with a reason. Services limits it to those services; empty means every service.
type Freeze struct {
	Start    time.Time `json:"start" yaml:"start"`
	End      time.Time `json:"end" yaml:"end"`
	Reason   string    `json:"reason" yaml:"reason"`
	Services []string  `json:"services,omitempty" yaml:"services,omitempty"`
}

// Applies reports whether the freeze covers service.
func (f Freeze) Applies(service string) bool {
	return len(f.Services) == 0 || slices.Contains(f.Services, service)
}

// CheckFreeze validates one freeze; field is its location ("freezes[2]").
func CheckFreeze(f Freeze, field string) error {
	const op = "calendar.CheckFreeze"
	switch {
	case f.Start.IsZero():
		return Invalid(op, field+".start", "required (RFC 3339)")
	case f.End.IsZero():
		return Invalid(op, field+".end", "required (RFC 3339)")
	case !f.Start.Before(f.End):
		return Invalid(op, field+".end", "%s is not after start %s", f.End.Format(time.RFC3339), f.Start.Format(time.RFC3339))
	case f.Reason == "":
		return Invalid(op, field+".reason", "required: say why deployments are frozen")
	}
	for i, s := range f.Services {
		if s == "" {
			return Invalid(op, fmt.Sprintf("%s.services[%d]", field, i), "empty service name")
		}
	}
	return nil
}

// Block is a range in which something forbids deployment steps, with the reason to show and record.
type Block struct {
	Interval
	Reason string `json:"reason" yaml:"reason"`
}

// FreezeBlocks returns the freezes that apply to service and overlap [from, to), as blocks.
func FreezeBlocks(freezes []Freeze, service string, from, to time.Time) []Block {
	var out []Block
	span := Interval{from, to}
	for _, f := range freezes {
		iv := Interval{f.Start, f.End}
		if f.Applies(service) && iv.Overlaps(span) {
			out = append(out, Block{iv, "freeze: " + f.Reason})
		}
	}
	return out
}
