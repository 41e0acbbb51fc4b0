package schedule

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/calendar"
	"github.com/switchyard/switchyard/pkg/window"
)

var ny, _ = time.LoadLocation("America/New_York")

func at(y int, m time.Month, d, hh, mm int) time.Time { return time.Date(y, m, d, hh, mm, 0, 0, ny) }

var prePost = window.Spec{Open: []window.Rule{
	{From: "07:00", To: "09:00"},
	{From: "16:30", To: "18:00"},
}}

func win(t *testing.T, spec window.Spec, freezes ...calendar.Freeze) *window.Window {
	t.Helper()
	cal, err := calendar.NYSE(nil)
	if err != nil {
		t.Fatal(err)
	}
	w, err := window.New(spec, cal, "web", freezes)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestParseCronZone(t *testing.T) {
	cases := []struct{ expr, tz, want string }{
		{"", "UTC", "c: required"},
		{"15 7 * * 1-5", "", "c: needs a time zone"},
		{"CRON_TZ=America/New_York 15 7 * * 1-5", "UTC", "c: the zone is given twice"},
		{"15 7 * * 1-5", "Mars/Base", `tz: "Mars/Base"`},
		{"61 7 * * *", "UTC", "c: "},
	}
	for _, tc := range cases {
		if _, err := ParseCron(tc.expr, tc.tz, "c"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseCron(%q, %q) = %v, want %q", tc.expr, tc.tz, err, tc.want)
		}
	}
	c, err := ParseCron("15 7 * * 1-5", "America/New_York", "c")
	if err != nil {
		t.Fatal(err)
	}
	// At or after: a fire exactly at t is t.
	if got := c.FireAtOrAfter(at(2026, 3, 6, 7, 15)); !got.Equal(at(2026, 3, 6, 7, 15)) {
		t.Fatalf("FireAtOrAfter(exact) = %s", got)
	}
	if got := c.FireAtOrAfter(at(2026, 3, 6, 7, 15).Add(time.Millisecond)); !got.Equal(at(2026, 3, 9, 7, 15)) {
		t.Fatalf("FireAtOrAfter(just after) = %s", got)
	}
	// 07:15 New York is 12:15 UTC before the March change and 11:15 UTC after it.
	if got := c.FireAtOrAfter(at(2026, 3, 7, 0, 0)).UTC(); got.Hour() != 11 || got.Day() != 9 {
		t.Fatalf("after DST start = %s, want 2026-03-09 11:15 UTC", got)
	}
	if got := c.FireAtOrAfter(at(2026, 10, 31, 0, 0)).UTC(); got.Hour() != 12 || got.Day() != 2 {
		t.Fatalf("after DST end = %s, want 2026-11-02 12:15 UTC", got)
	}
}

func TestTimingValidate(t *testing.T) {
	now := at(2026, 1, 5, 7, 0)
	cases := []struct {
		t    Timing
		want string
	}{
		{Timing{At: &now, Cron: "0 7 * * *", TZ: "UTC"}, "steps[1].cron: at and cron are exclusive"},
		{Timing{TZ: "UTC"}, "steps[1].tz: only for cron"},
		{Timing{At: &time.Time{}}, "steps[1].at: not a time"},
		{Timing{Cron: "0 7 * *"}, "steps[1].cron: needs a time zone"},
	}
	for _, tc := range cases {
		if err := tc.t.Validate("steps[1]"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%+v) = %v, want %q", tc.t, err, tc.want)
		}
	}
	if err := (Timing{Cron: "CRON_TZ=America/New_York 45 9 * * 1-5"}).Validate("s"); err != nil {
		t.Fatal(err)
	}
}

func TestStepStartAt(t *testing.T) {
	w := win(t, prePost)
	ready := at(2026, 6, 10, 7, 0)
	early, late := at(2026, 6, 10, 6, 0), at(2026, 6, 10, 7, 30)
	if s, why, _ := StepStart(ready, Timing{At: &early}, time.Minute, w); !s.Equal(ready) || why != "" {
		t.Fatalf("At before ready: %s %q", s, why)
	}
	if s, why, _ := StepStart(ready, Timing{At: &late}, time.Minute, w); !s.Equal(late) || !strings.Contains(why, "timed at") {
		t.Fatalf("At after ready: %s %q", s, why)
	}
	// At 09:45 is inside the session: the window holds the step until the after-hours range.
	noon := at(2026, 6, 10, 9, 45)
	s, why, err := StepStart(ready, Timing{At: &noon}, 30*time.Minute, w)
	if err != nil || !s.Equal(at(2026, 6, 10, 16, 30)) || !strings.Contains(why, "outside the window") {
		t.Fatalf("At in a shut window: %s %q %v", s, why, err)
	}
}

func TestStepStartCronHolidayAndDST(t *testing.T) {
	w := win(t, prePost)
	daily := Timing{Cron: "0 7 * * *", TZ: "America/New_York"}
	// Ready after Thursday's after-hours; Good Friday 2026-04-03 and the weekend fire but do not fit.
	s, why, err := StepStart(at(2026, 4, 2, 18, 0), daily, time.Hour, w)
	if err != nil || !s.Equal(at(2026, 4, 6, 7, 0)) {
		t.Fatalf("StepStart = %s, %v; want Monday 07:00", s, err)
	}
	if !strings.Contains(why, "the activation at 2026-04-03 07:00 EDT (-04:00) does not fit") {
		t.Fatalf("why = %q", why)
	}
	// Across the March change: Monday 07:00 EDT is 11:00 UTC.
	s, _, _ = StepStart(at(2026, 3, 6, 18, 0), daily, time.Hour, w)
	if s.UTC() != time.Date(2026, 3, 9, 11, 0, 0, 0, time.UTC) {
		t.Fatalf("StepStart across DST = %s", s.UTC())
	}
	// A cron that never fits its window is an error, not a loop.
	never := Timing{Cron: "0 12 * * *", TZ: "America/New_York"}
	_, _, err = StepStart(at(2026, 4, 2, 18, 0), never, time.Hour, w)
	var noOpen *window.NoOpeningError
	if !errors.As(err, &noOpen) {
		t.Fatalf("err = %v, want *window.NoOpeningError", err)
	}
}

func TestCheckStepGate(t *testing.T) {
	w := win(t, prePost)
	ready := at(2026, 6, 10, 8, 0)
	g, err := CheckStep(at(2026, 6, 10, 8, 0), ready, Timing{}, 50*time.Minute, w)
	if err != nil || !g.Go {
		t.Fatalf("on time: %+v %v", g, err)
	}
	// The controller woke late (08:20): the step would now straddle 09:00, so it holds to 16:30.
	g, _ = CheckStep(at(2026, 6, 10, 8, 20), ready, Timing{}, 50*time.Minute, w)
	if g.Go || !g.WakeAt.Equal(at(2026, 6, 10, 16, 30)) || !strings.Contains(g.Reason, "would not finish") {
		t.Fatalf("late wake: %+v", g)
	}
	g, _ = CheckStep(at(2026, 6, 10, 6, 0), at(2026, 6, 10, 6, 0), Timing{}, time.Minute, w)
	if g.Go || !g.WakeAt.Equal(at(2026, 6, 10, 7, 0)) {
		t.Fatalf("before the window: %+v", g)
	}
	// Inside an open window, a step timed later waits for its time.
	later := at(2026, 6, 10, 7, 30)
	g, _ = CheckStep(at(2026, 6, 10, 7, 5), at(2026, 6, 10, 7, 0), Timing{At: &later}, time.Minute, w)
	if g.Go || !g.WakeAt.Equal(later) || !strings.Contains(g.Reason, "timed at 2026-06-10 07:30 EDT") {
		t.Fatalf("timed step: %+v", g)
	}
	if g, _ := CheckStep(ready, ready, Timing{}, time.Hour, nil); !g.Go {
		t.Fatal("no window holds")
	}
}

// A freeze set while a deployment runs: it holds its weights until the freeze ends, or rolls back.
func TestOutsideFreezeMidDeployment(t *testing.T) {
	now := at(2026, 6, 10, 7, 30)
	if g, rb, _ := Outside(now, win(t, prePost), OutsideHold); !g.Go || rb {
		t.Fatal("open window: must go on")
	}
	f := calendar.Freeze{Start: now.Add(-time.Minute), End: now.Add(time.Hour), Reason: "incident 7"}
	w := win(t, prePost, f)
	g, rb, err := Outside(now, w, OutsideHold)
	if err != nil || g.Go || rb || !g.WakeAt.Equal(f.End) || !strings.Contains(g.Reason, "freeze: incident 7") {
		t.Fatalf("hold: %+v %v %v", g, rb, err)
	}
	g, rb, _ = Outside(now, w, OutsideRollback)
	if !rb || !strings.Contains(g.Reason, "rolled back by window policy: freeze: incident 7") {
		t.Fatalf("rollback: %+v %v", g, rb)
	}
	if err := CheckOutsidePolicy("pray", "window_policy"); err == nil || !strings.Contains(err.Error(), "window_policy") {
		t.Fatal(err)
	}
}
