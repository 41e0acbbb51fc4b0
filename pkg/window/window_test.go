package window

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/calendar"
)

var ny, _ = time.LoadLocation("America/New_York")

func at(y int, m time.Month, d, hh, mm int) time.Time { return time.Date(y, m, d, hh, mm, 0, 0, ny) }

func utc(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, time.UTC)
}

// prePost is the trading dashboard's window: before the open and after the close, trading days only.
var prePost = Spec{Zone: "America/New_York", Open: []Rule{
	{Days: DaysTrading, From: "07:00", To: "09:00"},
	{Days: DaysTrading, From: "16:30", To: "18:00"},
}}

func build(t *testing.T, spec Spec, closures []calendar.Closure, freezes ...calendar.Freeze) *Window {
	t.Helper()
	cal, err := calendar.NYSE(closures)
	if err != nil {
		t.Fatal(err)
	}
	w, err := New(spec, cal, "web", freezes)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func mustNext(t *testing.T, w *Window, from time.Time, d time.Duration) time.Time {
	t.Helper()
	got, err := w.NextStart(from, d)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestOpenOnTradingDays(t *testing.T) {
	w := build(t, prePost, nil)
	cases := []struct {
		t    time.Time
		open bool
	}{
		{at(2026, 6, 10, 6, 59), false},
		{at(2026, 6, 10, 7, 0), true},
		{at(2026, 6, 10, 8, 59), true},
		{at(2026, 6, 10, 9, 0), false},
		{at(2026, 6, 10, 12, 0), false},
		{at(2026, 6, 10, 16, 30), true},
		{at(2026, 6, 10, 18, 0), false},
		{at(2026, 6, 13, 7, 30), false}, // Saturday
		{at(2026, 6, 19, 7, 30), false}, // Juneteenth
	}
	for _, tc := range cases {
		if got := w.Open(tc.t); got != tc.open {
			t.Errorf("Open(%s) = %v, want %v", tc.t.Format(time.RFC3339), got, tc.open)
		}
	}
}

// The window is in New York time, so against UTC it moves an hour earlier when DST starts (Sunday
// 2026-03-08) and back when it ends (Sunday 2026-11-01).
func TestDSTMovesWindowAgainstUTC(t *testing.T) {
	w := build(t, prePost, nil)
	cases := []struct {
		from, want time.Time
	}{
		{utc(2026, 3, 6, 10, 0), utc(2026, 3, 6, 12, 0)},     // Friday, EST: 07:00 = 12:00 UTC
		{utc(2026, 3, 7, 10, 0), utc(2026, 3, 9, 11, 0)},     // weekend, then Monday EDT: 11:00 UTC
		{utc(2026, 10, 30, 10, 0), utc(2026, 10, 30, 11, 0)}, // Friday, EDT
		{utc(2026, 10, 31, 10, 0), utc(2026, 11, 2, 12, 0)},  // Monday after the change, EST
	}
	for _, tc := range cases {
		if got := mustNext(t, w, tc.from, 0); !got.Equal(tc.want) {
			t.Errorf("NextOpen(%s) = %s, want %s", tc.from.Format(time.RFC3339), got.UTC().Format(time.RFC3339), tc.want.Format(time.RFC3339))
		}
	}
	// The weekend "market closed" range across the March change is an hour shorter than usual.
	mc := build(t, MarketClosed, nil)
	fri := at(2026, 3, 6, 16, 0)
	end := mc.OpenUntil(fri)
	if !end.Equal(at(2026, 3, 9, 9, 30)) || end.Sub(fri) != 64*time.Hour+30*time.Minute {
		t.Fatalf("market closed from %s until %s (%s), want Monday 09:30 EDT, 64h30m", fri, end, end.Sub(fri))
	}
	fri = at(2026, 10, 30, 16, 0)
	if end := mc.OpenUntil(fri); end.Sub(fri) != 66*time.Hour+30*time.Minute {
		t.Fatalf("November weekend closed for %s, want 66h30m", end.Sub(fri))
	}
}

func TestFullDayHoliday(t *testing.T) {
	w := build(t, prePost, nil)
	// Good Friday 2026-04-03: the next pre-market after Thursday's close is Monday's.
	if got := mustNext(t, w, at(2026, 4, 2, 18, 0), 0); !got.Equal(at(2026, 4, 6, 7, 0)) {
		t.Fatalf("NextOpen after Thursday = %s, want Monday 07:00", got)
	}
	mc := build(t, MarketClosed, nil)
	if !mc.CanFinish(at(2026, 4, 3, 9, 0), 8*time.Hour) {
		t.Fatal("market closed window shut on Good Friday")
	}
	if mc.CanFinish(at(2026, 4, 2, 9, 0), time.Hour) {
		t.Fatal("market closed window open across Thursday's open")
	}
}

func TestEarlyCloseDayAfterThanksgiving2026(t *testing.T) {
	mc := build(t, MarketClosed, nil)
	if mc.Open(at(2026, 11, 27, 12, 59)) || !mc.Open(at(2026, 11, 27, 13, 0)) {
		t.Fatal("market closed window does not open at the 13:00 early close")
	}
	if got := mustNext(t, mc, at(2026, 11, 27, 10, 0), 2*time.Hour); !got.Equal(at(2026, 11, 27, 13, 0)) {
		t.Fatalf("NextStart = %s, want 13:00", got)
	}
	// A normal Monday: the market closes at 16:00.
	if got := mustNext(t, mc, at(2026, 11, 30, 10, 0), 2*time.Hour); !got.Equal(at(2026, 11, 30, 16, 0)) {
		t.Fatalf("NextStart Monday = %s, want 16:00", got)
	}
	// The after-hours rule is by the clock, not by the session: unchanged on the early close.
	if !build(t, prePost, nil).Open(at(2026, 11, 27, 16, 45)) {
		t.Fatal("16:30-18:00 shut on the early-close day")
	}
}

func TestStepStraddlingWindowEnd(t *testing.T) {
	w := build(t, prePost, nil)
	start := at(2026, 6, 10, 8, 30)
	if w.CanFinish(start, 45*time.Minute) {
		t.Fatal("a 45m step at 08:30 would end after 09:00")
	}
	if !w.CanFinish(start, 30*time.Minute) {
		t.Fatal("a 30m step at 08:30 ends at 09:00 exactly: it fits")
	}
	if got := mustNext(t, w, start, 45*time.Minute); !got.Equal(at(2026, 6, 10, 16, 30)) {
		t.Fatalf("NextStart = %s, want 16:30", got)
	}
	why := w.Why(start, 45*time.Minute)
	if !strings.Contains(why, "would not finish") || !strings.Contains(why, "2026-06-10 09:00 EDT (-04:00)") {
		t.Fatalf("Why = %q", why)
	}
	// No range is 2h30m long: the search ends at the horizon with a typed error.
	_, err := w.NextStart(start, 150*time.Minute)
	var noOpen *NoOpeningError
	if !errors.As(err, &noOpen) || noOpen.Need != 150*time.Minute {
		t.Fatalf("err = %v, want *NoOpeningError", err)
	}
}

func TestFreezeMidWindow(t *testing.T) {
	f := calendar.Freeze{Start: at(2026, 6, 10, 16, 45), End: at(2026, 6, 10, 17, 15), Reason: "incident 42", Services: []string{"web"}}
	other := calendar.Freeze{Start: at(2026, 6, 10, 7, 0), End: at(2026, 6, 10, 9, 0), Reason: "api only", Services: []string{"api"}}
	w := build(t, prePost, nil, f, other)
	if !w.CanFinish(at(2026, 6, 10, 7, 0), time.Hour) {
		t.Fatal("another service's freeze blocks web")
	}
	if w.CanFinish(at(2026, 6, 10, 16, 30), 30*time.Minute) || w.Open(at(2026, 6, 10, 17, 0)) {
		t.Fatal("the freeze does not block")
	}
	if got := mustNext(t, w, at(2026, 6, 10, 16, 30), 30*time.Minute); !got.Equal(f.End) {
		t.Fatalf("NextStart = %s, want the freeze's end", got)
	}
	if why := w.Why(at(2026, 6, 10, 16, 30), 30*time.Minute); !strings.Contains(why, "freeze: incident 42") {
		t.Fatalf("Why = %q", why)
	}
	if why := w.Why(at(2026, 6, 10, 17, 0), time.Minute); !strings.HasPrefix(why, "freeze: incident 42") {
		t.Fatalf("Why inside the freeze = %q", why)
	}
}

func TestOperatorClosurePolicies(t *testing.T) {
	mourning := []calendar.Closure{{Date: calendar.Date{Year: 2025, Month: time.January, Day: 9}, Reason: "national day of mourning"}}
	noon := at(2025, 1, 9, 12, 0)
	if build(t, Always, mourning).Open(noon) {
		t.Fatal("block policy: an always window is open during a closure")
	}
	if why := build(t, Always, mourning).Why(noon, time.Hour); !strings.Contains(why, "closure: national day of mourning") {
		t.Fatalf("Why = %q", why)
	}
	allowAlways := Spec{Open: Always.Open, Closures: ClosuresAllow}
	if !build(t, allowAlways, mourning).Open(noon) {
		t.Fatal("allow policy: always window shut by a closure")
	}
	allowMC := Spec{Open: MarketClosed.Open, Closures: ClosuresAllow}
	if !build(t, allowMC, mourning).CanFinish(at(2025, 1, 9, 9, 0), 8*time.Hour) {
		t.Fatal("allow policy: the market is closed all day, the market closed window must be open")
	}
	if build(t, prePost, mourning).Open(at(2025, 1, 9, 7, 30)) {
		t.Fatal("a trading-day rule is open on a closed day")
	}
}

func TestAlwaysMergesAcrossMidnight(t *testing.T) {
	w := build(t, Always, nil)
	if !w.CanFinish(at(2026, 3, 7, 23, 0), 6*time.Hour) { // across midnight and the DST change
		t.Fatal("always window split at midnight")
	}
	year := calendar.Freeze{Start: at(2026, 1, 1, 0, 0), End: at(2027, 6, 1, 0, 0), Reason: "long freeze"}
	_, err := build(t, Always, nil, year).NextOpen(at(2026, 1, 2, 0, 0))
	var noOpen *NoOpeningError
	if !errors.As(err, &noOpen) || !strings.Contains(err.Error(), "within 400 days") {
		t.Fatalf("err = %v, want *NoOpeningError within the horizon", err)
	}
}

func TestOtherZoneAndDays(t *testing.T) {
	spec := Spec{Zone: "Europe/London", Open: []Rule{{Days: DaysWeekdays, From: "22:00", To: "24:00"}, {Days: DaysEvery, From: "00:00", To: "01:00"}}}
	w := build(t, spec, nil)
	lon, _ := time.LoadLocation("Europe/London")
	// Good Friday is a weekday: the weekdays rule ignores holidays; Friday 22:00 runs into Saturday 01:00.
	start := time.Date(2026, 4, 3, 22, 0, 0, 0, lon)
	if !w.CanFinish(start, 3*time.Hour) || w.CanFinish(start, 3*time.Hour+time.Minute) {
		t.Fatal("22:00-24:00 + 00:00-01:00 is one 3h range")
	}
	if !strings.Contains(w.String(), "weekdays 22:00-24:00 and every day 00:00-01:00 Europe/London") {
		t.Fatalf("String = %q", w.String())
	}
}
