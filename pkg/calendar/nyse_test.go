package calendar

import (
	"strings"
	"testing"
	"time"
)

// published is NYSE's holiday and early-closing calendar as NYSE Group announced it (the 2025-2027
// announcement of November 2024 and the 2026-2028 one of December 2025). Every year here is checked in
// full: the rules must produce exactly these days, no more.
var published = map[int]struct{ holidays, early []string }{
	2025: {
		holidays: []string{"2025-01-01", "2025-01-20", "2025-02-17", "2025-04-18", "2025-05-26", "2025-06-19",
			"2025-07-04", "2025-09-01", "2025-11-27", "2025-12-25"},
		early: []string{"2025-07-03", "2025-11-28", "2025-12-24"},
	},
	2026: {
		holidays: []string{"2026-01-01", "2026-01-19", "2026-02-16", "2026-04-03", "2026-05-25", "2026-06-19",
			"2026-07-03", "2026-09-07", "2026-11-26", "2026-12-25"},
		early: []string{"2026-11-27", "2026-12-24"}, // no July early close: July 3 is the observed holiday
	},
	2027: {
		holidays: []string{"2027-01-01", "2027-01-18", "2027-02-15", "2027-03-26", "2027-05-31", "2027-06-18",
			"2027-07-05", "2027-09-06", "2027-11-25", "2027-12-24"},
		early: []string{"2027-11-26"}, // July 3 is a Saturday, Dec 24 the observed Christmas
	},
	2028: {
		// No New Year's Day: Jan 1 2028 is a Saturday and NYSE does not close Dec 31 2027.
		holidays: []string{"2028-01-17", "2028-02-21", "2028-04-14", "2028-05-29", "2028-06-19",
			"2028-07-04", "2028-09-04", "2028-11-23", "2028-12-25"},
		early: []string{"2028-07-03", "2028-11-24"},
	},
}

func dates(days []Day) []string {
	var out []string
	for _, d := range days {
		out = append(out, d.Date.String())
	}
	return out
}

func mustNYSE(t *testing.T, closures ...Closure) *Calendar {
	t.Helper()
	c, err := NYSE(closures)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestNYSEMatchesPublishedCalendar(t *testing.T) {
	c := mustNYSE(t)
	for y, want := range published {
		if got := dates(c.Holidays(y)); !equal(got, want.holidays) {
			t.Errorf("%d holidays:\n got %v\nwant %v", y, got, want.holidays)
		}
		if got := dates(c.EarlyCloses(y)); !equal(got, want.early) {
			t.Errorf("%d early closes:\n got %v\nwant %v", y, got, want.early)
		}
	}
}

// The day of mourning for President Carter (2025-01-09) was not in any published calendar: it is an
// operator closure, and the day is then closed with the operator's reason.
func TestNYSEDayOfMourningAsOperatorClosure(t *testing.T) {
	d := Date{2025, time.January, 9}
	if !mustNYSE(t).Day(d).Trading {
		t.Fatal("2025-01-09 is a trading day by the rules")
	}
	c := mustNYSE(t, Closure{Date: d, Reason: "national day of mourning for President Carter"})
	day := c.Day(d)
	if day.Trading || day.Reason != "closure: national day of mourning for President Carter" {
		t.Fatalf("2025-01-09 = %+v, want closed with the operator's reason", day)
	}
	got := dates(c.Holidays(2025))
	if len(got) != 11 || got[1] != "2025-01-09" {
		t.Fatalf("2025 closed weekdays = %v, want the published ten plus 2025-01-09", got)
	}
	if c.IsOpen(d.At(12, 0, c.Location())) {
		t.Fatal("open at noon on a closed day")
	}
}

func TestNYSEObservanceNames(t *testing.T) {
	c := mustNYSE(t)
	cases := map[Date]string{
		{2026, time.July, 3}:      "Independence Day (observed)",
		{2027, time.June, 18}:     "Juneteenth National Independence Day (observed)",
		{2027, time.December, 24}: "Christmas Day (observed)",
		{2025, time.April, 18}:    "Good Friday",
		{2022, time.June, 20}:     "Juneteenth National Independence Day (observed)",
		{2023, time.January, 2}:   "New Year's Day (observed)",
	}
	for d, want := range cases {
		if got := c.Day(d); got.Trading || got.Reason != want {
			t.Errorf("%s = %+v, want closed for %q", d, got, want)
		}
	}
	// Juneteenth 2021 was federal but NYSE traded; Dec 31 before a Saturday New Year trades in full.
	for _, d := range []Date{{2021, time.June, 18}, {2021, time.December, 31}, {2027, time.December, 31}} {
		if got := c.Day(d); !got.Trading || got.EarlyClose {
			t.Errorf("%s = %+v, want a full trading day", d, got)
		}
	}
}

func TestNYSESessions(t *testing.T) {
	c := mustNYSE(t)
	ny := c.Location()
	at := func(y int, m time.Month, d, hh, mm int) time.Time { return time.Date(y, m, d, hh, mm, 0, 0, ny) }

	day := c.Day(Date{2026, time.November, 27})
	if !day.Trading || !day.EarlyClose || !day.Session.End.Equal(at(2026, 11, 27, 13, 0)) {
		t.Fatalf("day after Thanksgiving 2026 = %+v, want a session ending 13:00", day)
	}
	cases := []struct {
		t    time.Time
		open bool
	}{
		{at(2026, 11, 27, 12, 59), true},
		{at(2026, 11, 27, 13, 0), false},
		{at(2026, 11, 30, 9, 29), false},
		{at(2026, 11, 30, 9, 30), true},
		{at(2026, 11, 30, 15, 59), true},
		{at(2026, 11, 30, 16, 0), false},
		{at(2026, 11, 28, 12, 0), false}, // Saturday
		{at(2026, 11, 26, 12, 0), false}, // Thanksgiving
		// 09:30 New York is 14:30 UTC in winter and 13:30 UTC in summer.
		{time.Date(2026, 3, 6, 14, 30, 0, 0, time.UTC), true},
		{time.Date(2026, 3, 9, 13, 30, 0, 0, time.UTC), true},
		{time.Date(2026, 3, 6, 13, 30, 0, 0, time.UTC), false},
	}
	for _, tc := range cases {
		if got := c.IsOpen(tc.t); got != tc.open {
			t.Errorf("IsOpen(%s) = %v, want %v", tc.t.In(ny).Format(time.RFC3339), got, tc.open)
		}
	}
}

func TestTimeRangeClosureCutsSession(t *testing.T) {
	ny := mustNYSE(t).Location()
	start := time.Date(2026, 6, 10, 11, 0, 0, 0, ny)
	c := mustNYSE(t, Closure{Start: start, End: start.Add(2 * time.Hour), Reason: "exchange outage"})
	got := c.Sessions(Date{2026, time.June, 10})
	if len(got) != 2 || !got[0].End.Equal(start) || !got[1].Start.Equal(start.Add(2*time.Hour)) {
		t.Fatalf("sessions = %v, want 09:30-11:00 and 13:00-16:00", got)
	}
	if c.IsOpen(start.Add(time.Hour)) || !c.IsOpen(start.Add(-time.Minute)) {
		t.Fatal("IsOpen does not follow the closure")
	}
	if bs := c.ClosureBlocks(start.Add(-time.Hour), start); len(bs) != 0 {
		t.Fatalf("a closure starting at the end of the span overlaps it: %v", bs)
	}
}

func TestClosureValidationNamesTheField(t *testing.T) {
	now := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		c    Closure
		want string
	}{
		{Closure{Reason: "x"}, "closures[0]: set either date"},
		{Closure{Date: Date{2026, 1, 5}, Start: now, End: now.Add(time.Hour), Reason: "x"}, "closures[0]: date and start/end are exclusive"},
		{Closure{Start: now, Reason: "x"}, "closures[0].end: a time range needs both"},
		{Closure{Start: now, End: now, Reason: "x"}, "closures[0].end: 2026-01-05T10:00:00Z is not after"},
		{Closure{Date: Date{2026, 1, 5}}, "closures[0].reason: required"},
	}
	for _, tc := range cases {
		_, err := NYSE([]Closure{tc.c})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NYSE(%+v) = %v, want %q", tc.c, err, tc.want)
		}
	}
}

func TestFreezeValidation(t *testing.T) {
	now := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		f    Freeze
		want string
	}{
		{Freeze{End: now, Reason: "x"}, "freezes[1].start: required"},
		{Freeze{Start: now, Reason: "x"}, "freezes[1].end: required"},
		{Freeze{Start: now, End: now.Add(-time.Hour), Reason: "x"}, "freezes[1].end:"},
		{Freeze{Start: now, End: now.Add(time.Hour)}, "freezes[1].reason: required"},
		{Freeze{Start: now, End: now.Add(time.Hour), Reason: "x", Services: []string{""}}, "freezes[1].services[0]"},
	}
	for _, tc := range cases {
		if err := CheckFreeze(tc.f, "freezes[1]"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("CheckFreeze(%+v) = %v, want %q", tc.f, err, tc.want)
		}
	}
	ok := Freeze{Start: now, End: now.Add(time.Hour), Reason: "quarter end", Services: []string{"web"}}
	if err := CheckFreeze(ok, "f"); err != nil {
		t.Fatal(err)
	}
	if !ok.Applies("web") || ok.Applies("api") || !(Freeze{}).Applies("api") {
		t.Fatal("Applies does not follow Services")
	}
	if bs := FreezeBlocks([]Freeze{ok}, "api", now, now.Add(time.Hour)); len(bs) != 0 {
		t.Fatalf("a freeze of web blocks api: %v", bs)
	}
	if bs := FreezeBlocks([]Freeze{ok}, "web", now.Add(30*time.Minute), now.Add(2*time.Hour)); len(bs) != 1 {
		t.Fatalf("overlapping freeze not returned: %v", bs)
	}
}
