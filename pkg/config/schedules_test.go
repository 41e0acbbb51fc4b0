package config

import (
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/schedule"
)

const scheduled = `
calendar:
  exchange: NYSE
  closures:
    - {date: 2025-01-09, reason: National Day of Mourning}
` + minimalService + `    window_policy: rollback
    window:
      zone: America/New_York
      open:
        - {days: trading, from: "07:00", to: "09:25"}
        - {days: trading, from: "16:05", to: "18:00"}
    strategy:
      type: steps
      steps:
        - {percent: 1, bake: 30m, cron: "0 7 * * 1-5", tz: America/New_York}
        - {percent: 5, bake: 1h, at: 2026-12-03T09:45:00-05:00}
        - {percent: 100}
`

func TestCalendarWindowAndStepTimingLoad(t *testing.T) {
	c, err := Parse([]byte(scheduled))
	if err != nil {
		t.Fatal(err)
	}
	web := c.DomainServices()["web"]
	if web.Window == nil || len(web.Window.Open) != 2 || web.Window.Open[1].From != "16:05" || web.WindowPolicy != schedule.OutsideRollback {
		t.Fatalf("window %+v policy %q", web.Window, web.WindowPolicy)
	}
	st := web.Strategy.Steps
	if st[0].Cron != "0 7 * * 1-5" || st[0].TZ != "America/New_York" || st[1].At == nil ||
		!st[1].At.Equal(time.Date(2026, 12, 3, 14, 45, 0, 0, time.UTC)) {
		t.Fatalf("step timing lost: %+v", st)
	}
	if len(c.Calendar.Closures) != 1 || c.Calendar.Closures[0].Reason != "National Day of Mourning" {
		t.Fatalf("closures %+v", c.Calendar.Closures)
	}
}

func TestScheduleConfigErrorsNameTheKey(t *testing.T) {
	for edit, want := range map[string]string{
		`exchange: NYSE`:                            "", // unchanged: valid
		`exchange: LSE`:                             `calendar.exchange: "LSE" is not supported`,
		`window_policy: rollback`:                   "", // valid
		`window_policy: later`:                      `services.web.window_policy: "later": want hold or rollback`,
		`to: "09:25"`:                               "", // valid
		`from: "16:05", to: "18:00"`:                "",
		`zone: America/New_York`:                    "",
		`tz: America/New_York`:                      "",
		`cron: "0 7 * * 1-5"`:                       "",
		`{days: trading, from: "07:00"`:             "",
		`from: "16:05", to: "25:00"`:                "services.web.window.open[1].to",
		`zone: Mars/Olympus`:                        "services.web.window.zone",
		`cron: "0 7 * * 1-5", tz: America/New_York`: "services.web.strategy.steps[0].cron: needs a time zone",
		`bake: 1h, at: 2026-12-03T09:45:00-05:00`:   "",
	} {
		if want == "" {
			continue
		}
		var y string
		switch edit {
		case `exchange: LSE`:
			y = strings.Replace(scheduled, `exchange: NYSE`, edit, 1)
		case `window_policy: later`:
			y = strings.Replace(scheduled, `window_policy: rollback`, edit, 1)
		case `from: "16:05", to: "25:00"`:
			y = strings.Replace(scheduled, `from: "16:05", to: "18:00"`, edit, 1)
		case `zone: Mars/Olympus`:
			y = strings.Replace(scheduled, `zone: America/New_York`, edit, 1)
		case `cron: "0 7 * * 1-5", tz: America/New_York`:
			y = strings.Replace(scheduled, edit, `cron: "0 7 * * 1-5"`, 1)
		}
		_, err := Parse([]byte(y))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want an error containing %q", edit, err, want)
		}
	}
	if _, err := Parse([]byte(strings.Replace(scheduled, "window_policy: rollback", "window_polcy: rollback", 1))); err == nil ||
		!strings.Contains(err.Error(), "window_polcy") {
		t.Errorf("unknown key: %v", err)
	}
}
