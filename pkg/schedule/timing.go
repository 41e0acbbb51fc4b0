package schedule

import (
	"fmt"
	"time"

	"github.com/switchyard/switchyard/pkg/calendar"
	"github.com/switchyard/switchyard/pkg/window"
)

// Timing is when a step may advance, beyond its turn. Meant to be embedded in a deployment's step
// (deploy.Step) with its fields inline. With none set the step starts as soon as the one before it
// has baked (and its window allows).
//
//   - At: not before this wall-clock instant (RFC 3339, e.g. 2026-12-03T09:45:00-05:00). A step ready
//     after At starts when ready.
//   - Cron: at an activation of the expression (e.g. "CRON_TZ=America/New_York 45 9 * * 1-5"): the
//     first activation at or after the step is ready at which the step fits its window. An activation
//     missed while the daemon was down is caught up on recovery if the step still fits.
//
// At and Cron are exclusive.
type Timing struct {
	At   *time.Time `json:"at,omitempty" yaml:"at,omitempty"`
	Cron string     `json:"cron,omitempty" yaml:"cron,omitempty"`
	TZ   string     `json:"tz,omitempty" yaml:"tz,omitempty"` // zone of Cron when it has no CRON_TZ= prefix
}

// IsZero reports a step without timing.
func (t Timing) IsZero() bool { return t.At == nil && t.Cron == "" && t.TZ == "" }

// Validate checks the timing; field is its location ("steps[2]").
func (t Timing) Validate(field string) error {
	_, err := t.compile(field)
	return err
}

func (t Timing) compile(field string) (*Cron, error) {
	const op = "schedule.Timing.Validate"
	switch {
	case t.At != nil && t.Cron != "":
		return nil, calendar.Invalid(op, field+".cron", "at and cron are exclusive")
	case t.At != nil && t.At.IsZero():
		return nil, calendar.Invalid(op, field+".at", "not a time (RFC 3339)")
	case t.Cron == "" && t.TZ != "":
		return nil, calendar.Invalid(op, field+".tz", "only for cron")
	case t.Cron == "":
		return nil, nil
	}
	c, err := ParseCron(t.Cron, t.TZ, field+".cron")
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// Timeouts are the parts of a step's worst-case length besides its bake: a step starts only if all of
// it fits its window (the rule: never start a step that cannot finish inside the window).
type Timeouts struct {
	Step   time.Duration // a weight change must verify within this (deploy.Service.StepTimeout)
	Verify time.Duration // the verification after the shift (analysis or guard confirmation), if any
	// Finalize is added to the last step: the old colour's drain (deregistration delay) and scale-down.
	// Zero lets finalizing run past the window's end (it moves no traffic).
	Finalize time.Duration
}

// Need is the worst-case length of a step with this bake.
func (to Timeouts) Need(bake time.Duration, last bool) time.Duration {
	d := bake + to.Step + to.Verify
	if last {
		d += to.Finalize
	}
	return d
}

// OutsidePolicy is what a deployment does when it is caught outside its window (a freeze or closure
// set while it runs, or a restart after the window closed). It never starts a new step there.
type OutsidePolicy string

const (
	// OutsideHold (the default) keeps the current weights, still guarded (alarms and health can roll
	// it back), and continues when the window next opens.
	OutsideHold OutsidePolicy = "hold"
	// OutsideRollback takes the release out of traffic: for services where a half-shifted release
	// must not sit through the trading day.
	OutsideRollback OutsidePolicy = "rollback"
)

// CheckOutsidePolicy validates a policy value; field names it.
func CheckOutsidePolicy(p OutsidePolicy, field string) error {
	switch p {
	case "", OutsideHold, OutsideRollback:
		return nil
	}
	return calendar.Invalid("schedule.CheckOutsidePolicy", field, "%q: want hold or rollback", p)
}

// StepStart is the earliest time at or after ready at which a step of worst-case length need may
// start: after Timing allows and wholly inside the window (nil window: always). Reason says why that
// is later than ready ("" when it is not).
func StepStart(ready time.Time, t Timing, need time.Duration, w *window.Window) (time.Time, string, error) {
	c, err := t.compile("timing")
	if err != nil {
		return time.Time{}, "", err
	}
	earliest, why := ready, ""
	if t.At != nil && t.At.After(ready) {
		earliest, why = *t.At, "the step is timed at "+show(*t.At, w)
	}
	if c == nil {
		return fit(earliest, need, w, why)
	}
	limit := ready.Add(window.Horizon)
	for f := c.FireAtOrAfter(earliest); !f.IsZero() && f.Before(limit); {
		s, _, err := fit(f, need, w, "")
		if err != nil {
			return time.Time{}, "", err
		}
		if s.Equal(f) {
			if f.After(ready) {
				why = "cron " + c.String() + " fires at " + show(f, w)
				if f0 := c.FireAtOrAfter(earliest); !f0.Equal(f) {
					why += "; the activation at " + show(f0, w) + " does not fit: " + whyNot(f0, need, w)
				}
			}
			return f, why, nil
		}
		f = c.FireAtOrAfter(s)
	}
	return time.Time{}, "", &window.NoOpeningError{Op: "schedule.StepStart", From: ready, Need: need,
		Horizon: window.Horizon, Window: windowName(w) + " at activations of " + c.String()}
}

// fit moves t to the window's next start for need, saying why when it moves.
func fit(t time.Time, need time.Duration, w *window.Window, why string) (time.Time, string, error) {
	if w == nil {
		return t, why, nil
	}
	s, err := w.NextStart(t, need)
	if err != nil {
		return time.Time{}, "", err
	}
	if s.After(t) {
		why = w.Why(t, need)
	}
	return s, why, nil
}

func whyNot(t time.Time, need time.Duration, w *window.Window) string {
	if w == nil {
		return ""
	}
	return w.Why(t, need)
}

// Gate is the controller's question before it starts a step, asked at now: go, or hold until WakeAt.
type Gate struct {
	Go     bool
	WakeAt time.Time // when to ask again (holding); zero when Go
	Reason string    // why it holds, to show and record
}

// CheckStep answers the gate for a step that became ready at ready. A late wake (now after the
// planned start) still goes only if the step fits from now.
func CheckStep(now, ready time.Time, t Timing, need time.Duration, w *window.Window) (Gate, error) {
	s, why, err := StepStart(ready, t, need, w)
	if err != nil {
		return Gate{}, err
	}
	if s.After(now) {
		return Gate{WakeAt: s, Reason: why}, nil
	}
	if w == nil || w.CanFinish(now, need) {
		return Gate{Go: true}, nil
	}
	next, _, err := StepStart(now, Timing{}, need, w)
	if err != nil {
		return Gate{}, err
	}
	return Gate{WakeAt: next, Reason: w.Why(now, need)}, nil
}

// Outside is what a running deployment does at now when its window is shut (a freeze or closure set
// mid-deployment, or a restart after the window closed): Go is true when the window is open.
func Outside(now time.Time, w *window.Window, p OutsidePolicy) (hold Gate, rollback bool, err error) {
	if w == nil || w.Open(now) {
		return Gate{Go: true}, false, nil
	}
	reason := w.Why(now, 0)
	if p == OutsideRollback {
		return Gate{Reason: "rolled back by window policy: " + reason}, true, nil
	}
	next, err := w.NextOpen(now)
	if err != nil {
		return Gate{}, false, err
	}
	return Gate{WakeAt: next, Reason: "holding weights until " + show(next, w) + ": " + reason}, false, nil
}

func show(t time.Time, w *window.Window) string {
	if w != nil {
		t = t.In(w.Location())
	}
	return t.Format(window.Layout)
}

func windowName(w *window.Window) string {
	if w == nil {
		return "no window"
	}
	return fmt.Sprint(w)
}
