package schedule

import (
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/calendar"
	"github.com/switchyard/switchyard/pkg/window"
)

var to = Timeouts{Step: 2 * time.Minute, Verify: time.Minute}

func cronAt(expr string) Timing { return Timing{Cron: expr, TZ: "America/New_York"} }

// The trading dashboard's scheduled canary: 1% in the pre-market, 5% at 09:45, 25% at 11:00, 100%
// after the close. Its window is trading days 07:00-18:00.
var dashboard = []Step{
	{Percent: 1, Bake: 2 * time.Hour, Timing: cronAt("0 7 * * 1-5")},
	{Percent: 5, Bake: time.Hour, Timing: cronAt("45 9 * * 1-5")},
	{Percent: 25, Bake: 4 * time.Hour, Timing: cronAt("0 11 * * 1-5")},
	{Percent: 100, Timing: cronAt("30 16 * * 1-5")},
}

var tradingDay = window.Spec{Open: []window.Rule{{From: "07:00", To: "18:00"}}}

func kinds(es []Entry) string {
	var k []string
	for _, e := range es {
		k = append(k, string(e.Kind))
	}
	return strings.Join(k, ",")
}

func find(t *testing.T, es []Entry, kind EntryKind, step int) Entry {
	t.Helper()
	for _, e := range es {
		if e.Kind == kind && e.Step == step {
			return e
		}
	}
	t.Fatalf("no %s entry for step %d in\n%s", kind, step, Render(es, ny))
	return Entry{}
}

func TestTimelineScheduledCanary(t *testing.T) {
	// Requested the evening before Thanksgiving 2026: Thursday is a holiday, so it runs on Friday.
	es := Timeline(at(2026, 11, 25, 19, 0), dashboard, win(t, tradingDay), to)
	wantStarts := []time.Time{at(2026, 11, 27, 7, 0), at(2026, 11, 27, 9, 45), at(2026, 11, 27, 11, 0), at(2026, 11, 27, 16, 30)}
	for i, want := range wantStarts {
		if got := find(t, es, EntryShift, i); !got.At.Equal(want) || got.Percent != dashboard[i].Percent {
			t.Errorf("step %d at %s (%g%%), want %s", i+1, got.At, got.Percent, want)
		}
	}
	hold := find(t, es, EntryHold, 0)
	if !strings.Contains(hold.Text, "hold until 2026-11-27 07:00 EST (-05:00)") || !strings.Contains(hold.Text, "Thanksgiving") {
		t.Fatalf("hold = %q", hold.Text)
	}
	if got := find(t, es, EntryBakeEnd, 2); !got.At.Equal(at(2026, 11, 27, 15, 0)) {
		t.Fatalf("25%% bake ends %s", got.At)
	}
	if es[len(es)-1].Kind != EntryDone || es[len(es)-1].Percent != 100 {
		t.Fatalf("last entry %+v", es[len(es)-1])
	}
}

// The market closed window on the day after Thanksgiving 2026 opens at the 13:00 early close.
func TestTimelineEarlyClose(t *testing.T) {
	steps := []Step{{Percent: 10, Bake: time.Hour}, {Percent: 100}}
	es := Timeline(at(2026, 11, 27, 10, 0), steps, win(t, window.MarketClosed), to)
	if got := kinds(es); got != "requested,hold,shift,bake end,shift,done" {
		t.Fatalf("kinds = %s", got)
	}
	if s := find(t, es, EntryShift, 0); !s.At.Equal(at(2026, 11, 27, 13, 0)) {
		t.Fatalf("first shift at %s, want the 13:00 early close", s.At)
	}
	if s := find(t, es, EntryShift, 1); !s.At.Equal(at(2026, 11, 27, 14, 0)) {
		t.Fatalf("100%% at %s", s.At)
	}
}

func TestTimelineStepStraddlingWindowEnd(t *testing.T) {
	// 10% at 07:00 bakes until 08:30; 50% needs 45m+3m and would straddle 09:00: held to 16:30.
	steps := []Step{{Percent: 10, Bake: 90 * time.Minute}, {Percent: 50, Bake: 45 * time.Minute}, {Percent: 100}}
	es := Timeline(at(2026, 6, 10, 7, 0), steps, win(t, prePost), to)
	h := find(t, es, EntryHold, 1)
	if !h.At.Equal(at(2026, 6, 10, 8, 30)) || h.Percent != 10 ||
		!strings.Contains(h.Text, "hold until 2026-06-10 16:30 EDT (-04:00) because a step of 48m0s would not finish: the window closes at 2026-06-10 09:00 EDT") {
		t.Fatalf("hold = %+v", h)
	}
}

func TestTimelineFreezeSetMidPlan(t *testing.T) {
	// Step 1 reserves 16:30-16:53, step 2 16:50-17:23; a freeze from 16:55 to 17:10 (set while the
	// deployment runs, so the controller plans again) holds step 2 only.
	steps := []Step{{Percent: 10, Bake: 20 * time.Minute}, {Percent: 50, Bake: 30 * time.Minute}, {Percent: 100}}
	start := at(2026, 6, 10, 16, 30)
	plain := Timeline(start, steps, win(t, prePost), to)
	if s := find(t, plain, EntryShift, 1); !s.At.Equal(at(2026, 6, 10, 16, 50)) {
		t.Fatalf("without freeze 50%% at %s", s.At)
	}
	f := calendar.Freeze{Start: at(2026, 6, 10, 16, 55), End: at(2026, 6, 10, 17, 10), Reason: "incident 9"}
	es := Timeline(start, steps, win(t, prePost, f), to)
	if got := kinds(es); got != "requested,shift,bake end,hold,shift,bake end,shift,done" {
		t.Fatalf("kinds = %s", got)
	}
	h := find(t, es, EntryHold, 1)
	if !h.At.Equal(at(2026, 6, 10, 16, 50)) || h.Percent != 10 ||
		!strings.Contains(h.Text, "hold until 2026-06-10 17:10 EDT (-04:00) because a step of 33m0s would not finish: freeze: incident 9") {
		t.Fatalf("hold = %+v", h)
	}
	if s := find(t, es, EntryShift, 1); !s.At.Equal(f.End) {
		t.Fatalf("100%% at %s, want the freeze's end", s.At)
	}
}

func TestTimelineRefusedAndPause(t *testing.T) {
	steps := []Step{{Percent: 10, Bake: time.Minute}, {Pause: true}, {Percent: 50, Bake: 3 * time.Hour}, {Percent: 100}}
	es := Timeline(at(2026, 6, 10, 7, 0), steps, win(t, prePost), to)
	if got := kinds(es); got != "requested,shift,bake end,pause,refused" {
		t.Fatalf("kinds = %s\n%s", got, Render(es, ny))
	}
	r := es[len(es)-1]
	if r.Step != 2 || r.Percent != 10 || !strings.Contains(r.Text, "refused: step 3 (50%) cannot start") || !strings.Contains(r.Text, "within 400 days") {
		t.Fatalf("refused = %+v", r)
	}
	bad := []Step{{Percent: 100, Timing: Timing{Cron: "0 7 * * *"}}}
	if es := Timeline(at(2026, 6, 10, 7, 0), bad, nil, to); es[len(es)-1].Kind != EntryRefused || !strings.Contains(es[1].Text, "needs a time zone") {
		t.Fatalf("invalid timing: %+v", es)
	}
}

func TestTimelineAcrossDST(t *testing.T) {
	// Requested Friday 2026-03-06 17:00 EST: a 1h03m step does not fit before 18:00, and is held over
	// the weekend (and the change to EDT) to Monday 07:00 EDT, 11:00 UTC (Friday's 07:00 was 12:00 UTC).
	steps := []Step{{Percent: 50, Bake: time.Hour}, {Percent: 100}}
	es := Timeline(at(2026, 3, 6, 17, 0), steps, win(t, prePost), to)
	s := find(t, es, EntryShift, 0)
	if s.At.UTC() != time.Date(2026, 3, 9, 11, 0, 0, 0, time.UTC) {
		t.Fatalf("50%% at %s", s.At.UTC())
	}
	out := Render(es, ny)
	if !strings.Contains(out, "2026-03-06 17:00 EST (-05:00)") || !strings.Contains(out, "2026-03-09 07:00 EDT (-04:00)") {
		t.Fatalf("render:\n%s", out)
	}
}

func TestRenderAlignsColumns(t *testing.T) {
	es := Timeline(at(2026, 11, 25, 19, 0), dashboard, win(t, tradingDay), to)
	out := Render(es, ny)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(es)+1 || !strings.HasPrefix(lines[0], "TIME") {
		t.Fatalf("render:\n%s", out)
	}
	col := strings.Index(lines[0], "DETAIL")
	for _, l := range lines[1:] {
		if len(l) <= col || l[col-1] != ' ' || l[col] == ' ' {
			t.Fatalf("DETAIL column not aligned at %d:\n%s", col, out)
		}
	}
	t.Logf("\n%s", out)
}
