package window

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/switchyard/switchyard/pkg/calendar"
)

// Horizon bounds every search for an opening: a window that does not open within it (a freeze of a
// year, a rule that never matches) is reported, not searched for ever.
const Horizon = 400 * 24 * time.Hour

// NoOpeningError says no time in the horizon lets a step of Need start and finish.
type NoOpeningError struct {
	Op      string
	From    time.Time
	Need    time.Duration
	Horizon time.Duration
	Window  string
}

func (e *NoOpeningError) Error() string {
	what := "the window opens"
	if e.Need > 0 {
		what = fmt.Sprintf("a step of %s fits", e.Need)
	}
	return fmt.Sprintf("%s: no time within %d days of %s at which %s in %s", e.Op,
		int(e.Horizon/(24*time.Hour)), e.From.Format(time.RFC3339), what, e.Window)
}

// Window is a Spec compiled against a calendar, the freezes and a service. It is immutable: a new
// freeze or closure builds a new Window (cheap), so a decision always sees one consistent set.
type Window struct {
	spec    Spec
	loc     *time.Location
	cal     *calendar.Calendar
	service string
	freezes []calendar.Freeze
	rules   []rule
}

type rule struct {
	Rule
	from, to int // minutes after midnight
}

// New compiles spec for service. Freezes that do not apply to service are ignored.
func New(spec Spec, cal *calendar.Calendar, service string, freezes []calendar.Freeze) (*Window, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if cal == nil {
		return nil, calendar.Invalid("window.New", "calendar", "required")
	}
	for i, f := range freezes {
		if err := calendar.CheckFreeze(f, fmt.Sprintf("freezes[%d]", i)); err != nil {
			return nil, err
		}
	}
	w := &Window{spec: spec, loc: cal.Location(), cal: cal, service: service}
	if spec.Zone != "" {
		w.loc, _ = time.LoadLocation(spec.Zone) // checked by Validate
	}
	for _, f := range freezes {
		if f.Applies(service) {
			w.freezes = append(w.freezes, f)
		}
	}
	for _, r := range spec.Open {
		cr := rule{Rule: r}
		if r.Kind == "" || r.Kind == KindHours {
			cr.from, _ = parseClock(r.From)
			cr.to, _ = parseClock(r.To)
		}
		w.rules = append(w.rules, cr)
	}
	return w, nil
}

// Location is the zone the window's hours are in (the zone to show its times in).
func (w *Window) Location() *time.Location { return w.loc }

// Calendar the window was compiled against.
func (w *Window) Calendar() *calendar.Calendar { return w.cal }

// String describes the window: "trading days 07:00-09:00 and 16:30-18:00 America/New_York".
func (w *Window) String() string {
	var parts []string
	for _, r := range w.rules {
		parts = append(parts, r.describe())
	}
	return strings.Join(parts, " and ") + " " + w.loc.String() + " (" + w.cal.Name() + ")"
}

// blocks are the ranges in [from, until) that no rule can open: freezes, and closures unless allowed.
func (w *Window) blocks(from, until time.Time) []calendar.Block {
	bs := calendar.FreezeBlocks(w.freezes, w.service, from, until)
	if w.spec.Closures != ClosuresAllow {
		bs = append(bs, w.cal.ClosureBlocks(from, until)...)
	}
	calendar.SortBlocks(bs)
	return bs
}

// day returns the open ranges of the rules on civil date d (in the window's zone), sorted and merged,
// before blocks.
func (w *Window) day(d calendar.Date) []calendar.Interval {
	start, end := d.Start(w.loc), d.AddDays(1).Start(w.loc)
	var ivs []calendar.Interval
	for _, r := range w.rules {
		switch r.Kind {
		case KindAlways:
			ivs = append(ivs, calendar.Interval{Start: start, End: end})
		case KindMarketClosed:
			ivs = append(ivs, w.marketClosed(start, end)...)
		default:
			if w.dayMatches(r.Days, d) {
				ivs = append(ivs, calendar.Interval{Start: d.At(r.from/60, r.from%60, w.loc), End: d.At(r.to/60, r.to%60, w.loc)})
			}
		}
	}
	return merge(ivs)
}

func (w *Window) dayMatches(days Days, d calendar.Date) bool {
	switch days {
	case DaysEvery:
		return true
	case DaysWeekdays:
		return d.Weekday() != time.Saturday && d.Weekday() != time.Sunday
	}
	return w.cal.Day(d).Trading
}

// marketClosed is [start, end) less the exchange's sessions (which are in the exchange's zone, so the
// neighbouring exchange days are looked at too when the window's zone differs).
func (w *Window) marketClosed(start, end time.Time) []calendar.Interval {
	var sessions []calendar.Block
	cloc := w.cal.Location()
	for d := calendar.DateOf(start, cloc).AddDays(-1); !d.Start(cloc).After(end); d = d.AddDays(1) {
		for _, s := range w.cal.Sessions(d) {
			sessions = append(sessions, calendar.Block{Interval: s})
		}
	}
	return calendar.Subtract([]calendar.Interval{{Start: start, End: end}}, sessions)
}

// merge sorts ivs and joins those that overlap or touch.
func merge(ivs []calendar.Interval) []calendar.Interval {
	slices.SortFunc(ivs, func(a, b calendar.Interval) int { return a.Start.Compare(b.Start) })
	var out []calendar.Interval
	for _, iv := range ivs {
		if iv.Empty() {
			continue
		}
		if n := len(out); n > 0 && !iv.Start.After(out[n-1].End) {
			if iv.End.After(out[n-1].End) {
				out[n-1].End = iv.End
			}
			continue
		}
		out = append(out, iv)
	}
	return out
}

// scan calls yield with the window's open ranges in [from, until), in order, clipped to the span and
// merged across midnight (so an open range is one range however many days it spans), until yield
// returns false.
func (w *Window) scan(from, until time.Time, yield func(calendar.Interval) bool) {
	blocks := w.blocks(from, until)
	var cur calendar.Interval
	for d := calendar.DateOf(from, w.loc); d.Start(w.loc).Before(until); d = d.AddDays(1) {
		for _, iv := range calendar.Subtract(w.day(d), blocks) {
			iv = clip(iv, from, until)
			if iv.Empty() {
				continue
			}
			if !cur.Empty() && !iv.Start.After(cur.End) {
				cur.End = iv.End
				continue
			}
			if !cur.Empty() && !yield(cur) {
				return
			}
			cur = iv
		}
	}
	if !cur.Empty() {
		yield(cur)
	}
}

func clip(iv calendar.Interval, from, until time.Time) calendar.Interval {
	if iv.Start.Before(from) {
		iv.Start = from
	}
	if iv.End.After(until) {
		iv.End = until
	}
	return iv
}

// Intervals returns the open ranges in [from, until).
func (w *Window) Intervals(from, until time.Time) []calendar.Interval {
	var out []calendar.Interval
	w.scan(from, until, func(iv calendar.Interval) bool { out = append(out, iv); return true })
	return out
}

// Open reports whether the window is open at t.
func (w *Window) Open(t time.Time) bool { return len(w.Intervals(t, t.Add(time.Nanosecond))) > 0 }

// CanFinish reports whether a step of length d started at start runs wholly inside one open range:
// no window end, freeze or blocking closure falls inside [start, start+d).
func (w *Window) CanFinish(start time.Time, d time.Duration) bool {
	if d <= 0 {
		return w.Open(start)
	}
	ivs := w.Intervals(start, start.Add(d))
	return len(ivs) == 1 && ivs[0].Start.Equal(start) && ivs[0].End.Equal(start.Add(d))
}

// NextOpen is the earliest time >= t at which the window is open.
func (w *Window) NextOpen(t time.Time) (time.Time, error) { return w.NextStart(t, 0) }

// NextStart is the earliest time >= t at which a step of length d can start and finish (CanFinish).
func (w *Window) NextStart(t time.Time, d time.Duration) (time.Time, error) {
	var found time.Time
	w.scan(t, t.Add(Horizon+d), func(iv calendar.Interval) bool {
		if iv.End.Sub(iv.Start) >= d {
			found = iv.Start
			return false
		}
		return true
	})
	if found.IsZero() {
		return time.Time{}, &NoOpeningError{Op: "window.NextStart", From: t, Need: d, Horizon: Horizon, Window: w.String()}
	}
	return found, nil
}

// OpenUntil is the end of the open range that contains t (zero when the window is shut at t). A range
// that reaches the horizon ends there.
func (w *Window) OpenUntil(t time.Time) time.Time {
	var end time.Time
	w.scan(t, t.Add(Horizon), func(iv calendar.Interval) bool {
		if iv.Start.Equal(t) {
			end = iv.End
		}
		return false
	})
	return end
}

// Why says why a step of length d cannot start at start ("" when it can): what shuts the window at
// the first instant of [start, start+d) that is not open: a freeze or closure, the window's own hours.
func (w *Window) Why(start time.Time, d time.Duration) string {
	if w.CanFinish(start, d) {
		return ""
	}
	if !w.Open(start) {
		return w.shutAt(start, "")
	}
	end := w.OpenUntil(start)
	return w.shutAt(end, fmt.Sprintf("a step of %s would not finish: ", d))
}

// shutAt names what shuts the window at t.
func (w *Window) shutAt(t time.Time, prefix string) string {
	for _, b := range w.blocks(t, t.Add(time.Nanosecond)) {
		return fmt.Sprintf("%s%s (%s to %s)", prefix, b.Reason, w.fmt(b.Start), w.fmt(b.End))
	}
	if prefix != "" {
		return prefix + "the window closes at " + w.fmt(t)
	}
	msg := "outside the window " + w.String()
	// Say what the calendar knows about the day: a holiday or closure is why a trading-day window is shut.
	if day := w.cal.Day(calendar.DateOf(t, w.loc)); !day.Trading || day.EarlyClose {
		msg += "; " + day.Date.String() + ": " + day.Reason
	}
	return msg
}

func (w *Window) fmt(t time.Time) string { return t.In(w.loc).Format(Layout) }

// Layout is how times are shown to operators: wall clock in the window's zone with its offset.
const Layout = "2006-01-02 15:04 MST (-07:00)"
