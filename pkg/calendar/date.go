package calendar

import (
	"fmt"
	"time"
)

// Date is a civil date (a day on an exchange's wall calendar), independent of any instant: a trading day
// in New York is the same Date whatever the offset of the machine that asks.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf is the civil date of t in loc.
func DateOf(t time.Time, loc *time.Location) Date {
	y, m, d := t.In(loc).Date()
	return Date{y, m, d}
}

// ParseDate reads "2006-01-02".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("%q is not a date of the form 2006-01-02", s)
	}
	return Date{t.Year(), t.Month(), t.Day()}, nil
}

func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

// At is the instant of the wall-clock time hh:mm on d in loc. An hour of 24 is the next midnight. A time
// that does not exist (inside a spring-forward gap) is normalised by time.Date.
func (d Date) At(hh, mm int, loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, hh, mm, 0, 0, loc)
}

// Start is midnight at the start of d in loc (the day is 23 or 25 hours long on a DST change).
func (d Date) Start(loc *time.Location) time.Time { return d.At(0, 0, loc) }

// AddDays moves by n calendar days.
func (d Date) AddDays(n int) Date {
	t := time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC)
	return Date{t.Year(), t.Month(), t.Day()}
}

// Weekday of d.
func (d Date) Weekday() time.Weekday {
	return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC).Weekday()
}

// Before reports whether d is an earlier day than e.
func (d Date) Before(e Date) bool {
	if d.Year != e.Year {
		return d.Year < e.Year
	}
	if d.Month != e.Month {
		return d.Month < e.Month
	}
	return d.Day < e.Day
}

func (d Date) IsZero() bool { return d == Date{} }

// MarshalText writes "2006-01-02" so that a Date persists and reads back as the operator wrote it.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Interval is the half-open range of instants [Start, End).
type Interval struct {
	Start time.Time `json:"start" yaml:"start"`
	End   time.Time `json:"end" yaml:"end"`
}

// Contains reports whether t is in [Start, End).
func (i Interval) Contains(t time.Time) bool { return !t.Before(i.Start) && t.Before(i.End) }

// Overlaps reports whether the two ranges share an instant.
func (i Interval) Overlaps(j Interval) bool { return i.Start.Before(j.End) && j.Start.Before(i.End) }

// Empty reports a range with no instant in it.
func (i Interval) Empty() bool { return !i.Start.Before(i.End) }
