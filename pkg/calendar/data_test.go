package calendar

import (
	"encoding/json"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// Closures and freezes are persisted by the daemon: they must read back exactly as written.
func TestClosureAndFreezeRoundTrip(t *testing.T) {
	start := time.Date(2026, 3, 31, 16, 0, 0, 0, time.UTC)
	in := struct {
		Closures []Closure `json:"closures" yaml:"closures"`
		Freezes  []Freeze  `json:"freezes" yaml:"freezes"`
	}{
		Closures: []Closure{
			{Date: Date{2025, time.January, 9}, Reason: "national day of mourning"},
			{Start: start, End: start.Add(time.Hour), Reason: "outage"},
		},
		Freezes: []Freeze{{Start: start, End: start.Add(48 * time.Hour), Reason: "quarter end", Services: []string{"web"}}},
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"closures":[{"date":"2025-01-09","reason":"national day of mourning"},` +
		`{"start":"2026-03-31T16:00:00Z","end":"2026-03-31T17:00:00Z","reason":"outage"}],` +
		`"freezes":[{"start":"2026-03-31T16:00:00Z","end":"2026-04-02T16:00:00Z","reason":"quarter end","services":["web"]}]}`
	if string(b) != want {
		t.Fatalf("json:\n got %s\nwant %s", b, want)
	}
	back := in
	back.Closures, back.Freezes = nil, nil
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if _, err := NYSE(back.Closures); err != nil || back.Closures[0].Date != in.Closures[0].Date ||
		!back.Closures[1].End.Equal(in.Closures[1].End) {
		t.Fatalf("json read back %+v (%v)", back.Closures, err)
	}

	y, err := yaml.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	back.Closures = nil
	if err := yaml.Unmarshal(y, &back); err != nil {
		t.Fatal(err)
	}
	if back.Closures[0].Date != in.Closures[0].Date || !back.Closures[0].Start.IsZero() ||
		!back.Closures[1].Start.Equal(start) {
		t.Fatalf("yaml read back %+v from\n%s", back.Closures, y)
	}
	var bad Date
	if err := json.Unmarshal([]byte(`"2025-13-01"`), &bad); err == nil {
		t.Fatal("month 13 accepted")
	}
}

func TestDateArithmetic(t *testing.T) {
	d := Date{2026, time.December, 31}
	if got := d.AddDays(1); got != (Date{2027, time.January, 1}) {
		t.Fatalf("AddDays = %v", got)
	}
	if !d.Before(d.AddDays(1)) || d.AddDays(1).Before(d) || d.Before(d) {
		t.Fatal("Before")
	}
	ny, _ := time.LoadLocation("America/New_York")
	// The March change day is 23 hours long in New York, the November one 25.
	for _, tc := range []struct {
		d    Date
		want time.Duration
	}{{Date{2026, time.March, 8}, 23 * time.Hour}, {Date{2026, time.November, 1}, 25 * time.Hour}} {
		if got := tc.d.AddDays(1).Start(ny).Sub(tc.d.Start(ny)); got != tc.want {
			t.Errorf("%s is %v long, want %v", tc.d, got, tc.want)
		}
	}
	if DateOf(time.Date(2026, 3, 9, 3, 0, 0, 0, time.UTC), ny) != (Date{2026, time.March, 8}) {
		t.Fatal("DateOf ignores the zone")
	}
}
