package calendar

import (
	"time"

	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/aa"
	"github.com/rickar/cal/v2/us"
)

// NYSE observance: a holiday on Saturday closes the Friday before, on Sunday the Monday after (NYSE
// Rule 7.2). New Year's Day is the exception: on a Saturday it is not observed at all, because the
// preceding Dec 31 ends an accounting year (so 2021-12-31 and 2027-12-31 are full trading days).
var (
	nyseWeekend  = []cal.AltDay{{Day: time.Saturday, Offset: -1}, {Day: time.Sunday, Offset: 1}}
	nyseNewYear  = []cal.AltDay{{Day: time.Sunday, Offset: 1}}
	nyseHolidays = []*cal.Holiday{
		us.NewYear.Clone(&cal.Holiday{Observed: nyseNewYear}),
		us.MlkDay.Clone(&cal.Holiday{Name: "Martin Luther King, Jr. Day"}),
		us.PresidentsDay.Clone(&cal.Holiday{Name: "Washington's Birthday"}),
		aa.GoodFriday.Clone(&cal.Holiday{Name: "Good Friday"}),
		us.MemorialDay,
		// Federal since 2021, first closed by NYSE in 2022.
		us.Juneteenth.Clone(&cal.Holiday{Name: "Juneteenth National Independence Day", StartYear: 2022, Observed: nyseWeekend}),
		us.IndependenceDay.Clone(&cal.Holiday{Observed: nyseWeekend}),
		us.LaborDay,
		us.ThanksgivingDay.Clone(&cal.Holiday{Name: "Thanksgiving Day"}),
		us.ChristmasDay.Clone(&cal.Holiday{Observed: nyseWeekend}),
	}
)

// NYSE is the New York Stock Exchange's calendar: regular session 09:30-16:00 America/New_York on
// trading days, 13:00 on early-close days, plus the operator closures given.
func NYSE(closures []Closure) (*Calendar, error) {
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		return nil, Invalid("calendar.NYSE", "", "zone America/New_York: %v", err)
	}
	return newCalendar("calendar.NYSE", rules{
		name: "NYSE", loc: loc,
		openH: 9, openM: 30, closeH: 16, earlyCloseH: 13,
		holidays:    nyseHolidaysOf,
		earlyCloses: nyseEarlyCloses,
	}, closures)
}

func nyseHolidaysOf(y int) map[Date]string {
	out := map[Date]string{}
	// An observance can cross a year's end (a Saturday Jan 1 observed on Dec 31 under the federal
	// rule), so the neighbouring years are computed too and only year y's dates kept.
	for _, hy := range []int{y - 1, y, y + 1} {
		for _, h := range nyseHolidays {
			actual, observed := h.Calc(hy)
			// rickar computes in its package-wide zone; only the civil date matters here.
			d := Date{observed.Year(), observed.Month(), observed.Day()}
			if observed.IsZero() || d.Year != y {
				continue
			}
			name := h.Name
			if !observed.Equal(actual) {
				name += " (observed)"
			}
			out[d] = name
		}
	}
	return out
}

// nyseEarlyCloses: NYSE closes at 13:00 on the day before Independence Day, the day after Thanksgiving
// and Christmas Eve, each only when it is a trading day. So none on July 2 when July 3 is the observed
// holiday (2026) or on Friday July 2 when July 4 is a Sunday (2027), and none on Dec 23 when Dec 24 is
// the observed Christmas (2027): NYSE's published calendars agree.
func nyseEarlyCloses(y int, holidays map[Date]string) map[Date]string {
	out := map[Date]string{}
	add := func(d Date, name string) {
		if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
			return
		}
		if _, closed := holidays[d]; closed {
			return
		}
		out[d] = name
	}
	add(Date{y, time.July, 3}, "early close: day before Independence Day")
	_, thanksgiving := us.ThanksgivingDay.Calc(y)
	add(Date{y, time.November, thanksgiving.Day() + 1}, "early close: day after Thanksgiving")
	add(Date{y, time.December, 24}, "early close: Christmas Eve")
	return out
}
