// Package calendar holds exchange calendars: which days an exchange trades, its regular session on each
// (early closes included), and the closures that operators declare as data.
//
// How the NYSE table is kept current. The calendar is rules in code, not a list of dates: the
// holidays come from github.com/rickar/cal/v2 (US federal rules, Easter for Good Friday) and NYSE's own
// observance rules are composed on top in nyse.go (a Saturday holiday closes the Friday before, except
// New Year's Day; Sunday closes the Monday after; Juneteenth from 2022; 13:00 early closes on July 3,
// the day after Thanksgiving and Christmas Eve when each is a trading day). The rules were checked
// against NYSE's published holiday and early-closing calendars for 2025, 2026, 2027 and 2028 (table in
// nyse_test.go). Each year NYSE publishes the next year's calendar: add that year to the table test; a
// difference is either a rule to change here or, for a one-off (a day of mourning such as 2025-01-09,
// a storm such as 2012-10-29/30), an operator Closure, which the daemon persists and needs no release.
package calendar

import (
	"cmp"
	"slices"
	"strconv"
	"sync"
	"time"

	// The zone database is embedded so that America/New_York resolves in a container image without
	// /usr/share/zoneinfo: a missing zone would make every window unreadable.
	_ "time/tzdata"
)

// Day is what the calendar says about one civil date.
type Day struct {
	Date    Date
	Trading bool     // the exchange holds a regular session
	Session Interval // the regular session, early close applied; zero when not trading
	// EarlyClose marks a shortened session; Reason names it.
	EarlyClose bool
	// Reason says why the day is not a (full) trading day: "weekend", a holiday's name, an operator
	// closure's reason, or the early close's name. Empty on an ordinary trading day.
	Reason string
}

// rules are what an exchange's calendar is computed from.
type rules struct {
	name         string
	loc          *time.Location
	openH, openM int
	closeH       int
	earlyCloseH  int
	holidays     func(year int) map[Date]string // full-day holidays, observed dates
	earlyCloses  func(year int, holidays map[Date]string) map[Date]string
}

type year struct {
	holidays, early map[Date]string
}

// Calendar is an exchange calendar with its operator closures. It is immutable after construction and
// safe for concurrent use; a change of closures builds a new Calendar.
type Calendar struct {
	r        rules
	closures []Closure
	fullDay  map[Date]string
	ranges   []Block // time-range closures, sorted by start

	mu    sync.Mutex
	years map[int]year
}

func newCalendar(op string, r rules, closures []Closure) (*Calendar, error) {
	c := &Calendar{r: r, fullDay: map[Date]string{}, years: map[int]year{}}
	for i, cl := range closures {
		if err := cl.check(op, "closures["+strconv.Itoa(i)+"]"); err != nil {
			return nil, err
		}
		if cl.Date.IsZero() {
			c.ranges = append(c.ranges, Block{Interval{cl.Start, cl.End}, "closure: " + cl.Reason})
		} else {
			c.fullDay[cl.Date] = "closure: " + cl.Reason
		}
	}
	slices.SortFunc(c.ranges, func(a, b Block) int { return a.Start.Compare(b.Start) })
	c.closures = slices.Clone(closures)
	return c, nil
}

// Name of the exchange ("NYSE").
func (c *Calendar) Name() string { return c.r.name }

// Location is the exchange's zone; its sessions and full-day closures are in it.
func (c *Calendar) Location() *time.Location { return c.r.loc }

// Closures returns the operator closures the calendar was built with.
func (c *Calendar) Closures() []Closure { return slices.Clone(c.closures) }

func (c *Calendar) year(y int) year {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.years[y]; ok {
		return v
	}
	h := c.r.holidays(y)
	v := year{holidays: h, early: c.r.earlyCloses(y, h)}
	c.years[y] = v
	return v
}

// Day reports what the exchange does on d.
func (c *Calendar) Day(d Date) Day {
	out := Day{Date: d}
	if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
		out.Reason = "weekend"
		return out
	}
	y := c.year(d.Year)
	if name, ok := y.holidays[d]; ok {
		out.Reason = name
		return out
	}
	if reason, ok := c.fullDay[d]; ok {
		out.Reason = reason
		return out
	}
	out.Trading = true
	closeH := c.r.closeH
	if name, ok := y.early[d]; ok {
		out.EarlyClose, out.Reason, closeH = true, name, c.r.earlyCloseH
	}
	out.Session = Interval{d.At(c.r.openH, c.r.openM, c.r.loc), d.At(closeH, 0, c.r.loc)}
	return out
}

// DayOf is Day for the civil date of t in the exchange's zone.
func (c *Calendar) DayOf(t time.Time) Day { return c.Day(DateOf(t, c.r.loc)) }

// Sessions returns the parts of d's regular session in which the exchange is open: the session less
// any time-range closure. Empty on a day without trading.
func (c *Calendar) Sessions(d Date) []Interval {
	day := c.Day(d)
	if !day.Trading {
		return nil
	}
	return subtract([]Interval{day.Session}, c.ClosureBlocks(day.Session.Start, day.Session.End))
}

// IsOpen reports whether the exchange is in its regular session at t.
func (c *Calendar) IsOpen(t time.Time) bool {
	for _, s := range c.Sessions(DateOf(t, c.r.loc)) {
		if s.Contains(t) {
			return true
		}
	}
	return false
}

// ClosureBlocks returns the operator closures overlapping [from, to): full-day closures as the whole
// civil day in the exchange's zone, time ranges as given.
func (c *Calendar) ClosureBlocks(from, to time.Time) []Block {
	span := Interval{from, to}
	var out []Block
	for d, reason := range c.fullDay {
		iv := Interval{d.Start(c.r.loc), d.AddDays(1).Start(c.r.loc)}
		if iv.Overlaps(span) {
			out = append(out, Block{iv, reason})
		}
	}
	for _, b := range c.ranges {
		if b.Overlaps(span) {
			out = append(out, b)
		}
	}
	slices.SortFunc(out, func(a, b Block) int { return a.Start.Compare(b.Start) })
	return out
}

// Holidays lists the full-day closures of a year that fall on weekdays (rule holidays and operator
// full-day closures), in date order: what an exchange publishes as its holiday calendar.
func (c *Calendar) Holidays(y int) []Day {
	return c.collect(y, func(d Day) bool { return !d.Trading && d.Reason != "weekend" })
}

// EarlyCloses lists the shortened sessions of a year in date order.
func (c *Calendar) EarlyCloses(y int) []Day {
	return c.collect(y, func(d Day) bool { return d.EarlyClose })
}

func (c *Calendar) collect(y int, keep func(Day) bool) []Day {
	var out []Day
	for d := (Date{y, time.January, 1}); d.Year == y; d = d.AddDays(1) {
		if day := c.Day(d); keep(day) {
			out = append(out, day)
		}
	}
	return out
}

// subtract removes the blocks from the sorted, disjoint intervals ivs.
func subtract(ivs []Interval, blocks []Block) []Interval {
	for _, b := range blocks {
		var next []Interval
		for _, iv := range ivs {
			if !iv.Overlaps(b.Interval) {
				next = append(next, iv)
				continue
			}
			if iv.Start.Before(b.Start) {
				next = append(next, Interval{iv.Start, b.Start})
			}
			if b.End.Before(iv.End) {
				next = append(next, Interval{b.End, iv.End})
			}
		}
		ivs = next
	}
	return ivs
}

// Subtract removes the blocks from ivs (sorted, disjoint) and returns what is left, in order.
func Subtract(ivs []Interval, blocks []Block) []Interval {
	return subtract(slices.Clone(ivs), blocks)
}

// SortBlocks orders blocks by start, then end.
func SortBlocks(bs []Block) {
	slices.SortFunc(bs, func(a, b Block) int {
		return cmp.Or(a.Start.Compare(b.Start), a.End.Compare(b.End))
	})
}
