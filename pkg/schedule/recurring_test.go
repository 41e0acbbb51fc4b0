package schedule

import (
	"strings"
	"testing"
	"time"
)

var nightly = Recurring{
	Name: "pre-market", Service: "web",
	Cron: "15 7 * * 1-5", TZ: "America/New_York",
	Tags: `^v\d+\.\d+\.\d+$`,
}

func tags(base time.Time) []Candidate {
	return []Candidate{
		{"v1.4.0", base.Add(-72 * time.Hour)},
		{"v1.5.0", base.Add(-2 * time.Hour)},
		{"v1.6.0-rc1", base.Add(-time.Hour)}, // newer, but does not match
		{"latest", base.Add(-time.Minute)},
	}
}

func TestRecurringValidate(t *testing.T) {
	cases := []struct {
		mod  func(*Recurring)
		want string
	}{
		{func(r *Recurring) { r.Name = "" }, "name: required"},
		{func(r *Recurring) { r.Service = "" }, "service: required"},
		{func(r *Recurring) { r.Tags = "" }, "tags: required"},
		{func(r *Recurring) { r.Tags = "^v(" }, "tags: error parsing regexp"},
		{func(r *Recurring) { r.Policy = "later" }, `policy: "later"`},
		{func(r *Recurring) { r.TZ = "" }, "cron: needs a time zone"},
	}
	for _, tc := range cases {
		r := nightly
		tc.mod(&r)
		if err := r.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate = %v, want %q", err, tc.want)
		}
	}
	if err := nightly.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestRecurringNextAcrossDST(t *testing.T) {
	got, err := nightly.Next(at(2026, 3, 6, 7, 15)) // strictly after Friday's activation
	if err != nil || got.UTC() != time.Date(2026, 3, 9, 11, 15, 0, 0, time.UTC) {
		t.Fatalf("Next = %s, %v", got.UTC(), err)
	}
	p := nightly
	p.Paused = true
	if got, _ := p.Next(at(2026, 3, 6, 7, 15)); !got.IsZero() {
		t.Fatal("a paused schedule has a next activation")
	}
}

func TestRecurringChoosesNewestMatchingTag(t *testing.T) {
	fire := at(2026, 6, 10, 7, 15)
	w := win(t, prePost)
	d, _ := nightly.Decide(Fire{At: fire, Window: w, Need: 30 * time.Minute, LiveTag: "v1.4.0", Candidates: tags(fire)})
	if d.Action != ActionDeploy || d.Tag != "v1.5.0" || !strings.Contains(d.Reason, "live: v1.4.0") {
		t.Fatalf("decision = %+v", d)
	}
	d, _ = nightly.Decide(Fire{At: fire, Window: w, LiveTag: "v1.5.0", Candidates: tags(fire)})
	if d.Action != ActionNothing || !strings.Contains(d.Reason, "already live") {
		t.Fatalf("live tag: %+v", d)
	}
	d, _ = nightly.Decide(Fire{At: fire, Window: w, Candidates: []Candidate{{"latest", fire}}})
	if d.Action != ActionNothing || !strings.Contains(d.Reason, "no tag matches") {
		t.Fatalf("no match: %+v", d)
	}
	// Same push time: the choice is still deterministic.
	d, _ = nightly.Decide(Fire{At: fire, Candidates: []Candidate{{"v2.0.1", fire}, {"v2.0.0", fire}}})
	if d.Tag != "v2.0.1" {
		t.Fatalf("tie: %+v", d)
	}
}

func TestRecurringWhileAnotherDeploymentIsActive(t *testing.T) {
	fire := at(2026, 6, 10, 7, 15)
	want := map[Policy]Action{"": ActionSkip, PolicySkip: ActionSkip, PolicyDefer: ActionDefer, PolicyQueue: ActionQueue}
	for p, action := range want {
		r := nightly
		r.Policy = p
		d, err := r.Decide(Fire{At: fire, Window: win(t, prePost), ActiveID: "d-41", LiveTag: "v1.4.0", Candidates: tags(fire)})
		if err != nil || d.Action != action || d.Tag != "v1.5.0" || !strings.Contains(d.Reason, "deployment d-41 of web is active") {
			t.Errorf("policy %q: %+v %v, want %s", p, d, err, action)
		}
		if !d.RetryAt.IsZero() {
			t.Errorf("policy %q: RetryAt %s: waits for the active deployment, not a time", p, d.RetryAt)
		}
	}
}

func TestRecurringInClosedWindow(t *testing.T) {
	// Fires at 08:45: a first step needing 30m would straddle 09:00; the next fit is 16:30.
	fire := at(2026, 6, 10, 8, 45)
	w := win(t, prePost)
	cases := []struct {
		p      Policy
		action Action
		retry  time.Time
		reason string
	}{
		{PolicySkip, ActionSkip, time.Time{}, "skipped v1.5.0"},
		{PolicyDefer, ActionDefer, at(2026, 6, 10, 16, 30), "deferred to 2026-06-10 16:30 EDT (-04:00)"},
		{PolicyQueue, ActionQueue, at(2026, 6, 10, 16, 30), "v1.5.0 queued to start at 2026-06-10 16:30 EDT"},
	}
	for _, tc := range cases {
		r := nightly
		r.Policy = tc.p
		d, err := r.Decide(Fire{At: fire, Window: w, Need: 30 * time.Minute, LiveTag: "v1.4.0", Candidates: tags(fire)})
		if err != nil || d.Action != tc.action || !d.RetryAt.Equal(tc.retry) ||
			!strings.Contains(d.Reason, tc.reason) || !strings.Contains(d.Reason, "would not finish") {
			t.Errorf("policy %s: %+v %v", tc.p, d, err)
		}
	}
	// On a holiday the reason says the window is shut.
	hol := at(2026, 4, 3, 7, 15)
	d, _ := nightly.Decide(Fire{At: hol, Window: w, Need: time.Minute, Candidates: tags(hol)})
	if d.Action != ActionSkip || !strings.Contains(d.Reason, "outside the window") {
		t.Fatalf("holiday: %+v", d)
	}
	p := nightly
	p.Paused = true
	if d, _ := p.Decide(Fire{At: fire}); d.Action != ActionSkip || d.Reason != "schedule is paused" {
		t.Fatalf("paused: %+v", d)
	}
}
