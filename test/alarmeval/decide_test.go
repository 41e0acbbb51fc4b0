package alarmeval

import (
	"strings"
	"testing"
	"time"
)

// slots parses the CloudWatch guide's notation, oldest first: 0 not breaching, X breaching,
// - missing (threshold 5, GreaterThanThreshold).
func slots(s string) []Slot {
	var out []Slot
	start := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for i, f := range strings.Fields(s) {
		sl := Slot{Start: start.Add(time.Duration(i) * time.Minute)}
		switch f {
		case "0":
			sl.Value = 1
		case "X":
			sl.Value = 10
		case "-":
			sl.Missing = true
		}
		out = append(out, sl)
	}
	return out
}

// The two tables of "How alarm state is evaluated when data is missing" (CloudWatch User Guide,
// alarms-and-missing-data): 5 datapoints retrieved for 3 evaluation periods; columns MISSING,
// IGNORE, BREACHING, NOT BREACHING; "keep" is "Retain current state".
var guideTables = []struct {
	m      int
	points string
	want   [4]string
}{
	{3, "0 - X - X", [4]string{"OK", "OK", "OK", "OK"}},
	{3, "0 - - - -", [4]string{"OK", "OK", "OK", "OK"}},
	{3, "- - - - -", [4]string{"INSUFFICIENT_DATA", "keep", "ALARM", "OK"}},
	{3, "0 X X - X", [4]string{"ALARM", "ALARM", "ALARM", "ALARM"}},
	{3, "- - - - X", [4]string{"INSUFFICIENT_DATA", "keep", "ALARM", "OK"}},
	{3, "X - - - -", [4]string{"ALARM", "keep", "ALARM", "OK"}},
	{2, "0 - X - X", [4]string{"ALARM", "ALARM", "ALARM", "ALARM"}},
	{2, "0 0 X 0 X", [4]string{"ALARM", "ALARM", "ALARM", "ALARM"}},
	{2, "0 - X - -", [4]string{"OK", "OK", "ALARM", "OK"}},
	{2, "- - - - 0", [4]string{"OK", "OK", "ALARM", "OK"}},
	{2, "- - - - X", [4]string{"INSUFFICIENT_DATA", "keep", "ALARM", "OK"}},
}

func TestDecideMatchesTheCloudWatchGuide(t *testing.T) {
	for _, row := range guideTables {
		for i, treat := range []string{Missing, Ignore, Breaching, NotBreaching} {
			// "Retain current state" must keep each possible state.
			currents := []string{StateOK}
			if row.want[i] == "keep" {
				currents = []string{StateOK, StateAlarm, StateInsufficientData}
			}
			for _, cur := range currents {
				r := Rule{EvaluationPeriods: 3, DatapointsToAlarm: row.m, Threshold: 5, ComparisonOperator: "GreaterThanThreshold", TreatMissingData: treat}
				if err := r.Validate(); err != nil {
					t.Fatal(err)
				}
				want := row.want[i]
				if want == "keep" {
					want = cur
				}
				got, reason := r.Decide(slots(row.points), cur)
				if got != want {
					t.Errorf("%d of 3, %q, %s, current %s: got %s (%s), want %s", row.m, row.points, treat, cur, got, reason, want)
				}
				if reason == "" {
					t.Errorf("%q %s: no reason", row.points, treat)
				}
			}
		}
	}
}

func TestMOutOfNWithoutMissingData(t *testing.T) {
	for _, c := range []struct {
		m, n   int
		points string
		want   string
	}{
		{1, 1, "0 0 X", StateAlarm},
		{1, 1, "X X 0", StateOK},
		{3, 3, "0 X X X", StateAlarm},
		{3, 3, "X X 0 X X", StateOK},
		{2, 3, "X 0 X", StateAlarm},
		{2, 3, "X 0 0 X", StateOK}, // the first X is outside the last 3
		{4, 5, "X X 0 X X", StateAlarm},
		{4, 5, "X 0 0 X X X", StateOK},
	} {
		r := Rule{EvaluationPeriods: c.n, DatapointsToAlarm: c.m, Threshold: 5, ComparisonOperator: "GreaterThanThreshold", TreatMissingData: Missing}
		if got, reason := r.Decide(slots(c.points), StateInsufficientData); got != c.want {
			t.Errorf("%d of %d %q: got %s (%s), want %s", c.m, c.n, c.points, got, reason, c.want)
		}
	}
}

func TestComparisonOperators(t *testing.T) {
	for _, c := range []struct {
		op     string
		v      float64
		breach bool
	}{
		{"GreaterThanThreshold", 5, false}, {"GreaterThanThreshold", 5.5, true},
		{"GreaterThanOrEqualToThreshold", 5, true}, {"GreaterThanOrEqualToThreshold", 4.9, false},
		{"LessThanThreshold", 5, false}, {"LessThanThreshold", 4, true},
		{"LessThanOrEqualToThreshold", 5, true}, {"LessThanOrEqualToThreshold", 6, false},
	} {
		if got := (Rule{Threshold: 5, ComparisonOperator: c.op}).Breaches(c.v); got != c.breach {
			t.Errorf("%s %g: %v", c.op, c.v, got)
		}
	}
}

func TestReasonTextLikeCloudWatch(t *testing.T) {
	r := Rule{EvaluationPeriods: 1, DatapointsToAlarm: 1, Threshold: 5, ComparisonOperator: "GreaterThanThreshold", TreatMissingData: NotBreaching}
	_, reason := r.Decide(slots("- - X"), StateOK)
	want := "Threshold Crossed: 1 out of the last 1 datapoints [10.0 (01/12/26 12:02:00)] was greater than the threshold (5.0) (minimum 1 datapoint for OK -> ALARM transition)."
	if reason != want {
		t.Errorf("reason:\n%s\nwant:\n%s", reason, want)
	}
	_, reason = r.Decide(slots("- - -"), StateAlarm)
	want = "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [NonBreaching]."
	if reason != want {
		t.Errorf("reason:\n%s\nwant:\n%s", reason, want)
	}
}

func TestValidate(t *testing.T) {
	ok := Rule{EvaluationPeriods: 3, DatapointsToAlarm: 2, ComparisonOperator: "GreaterThanThreshold", TreatMissingData: Missing}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []Rule{
		{EvaluationPeriods: 2, DatapointsToAlarm: 3, ComparisonOperator: "GreaterThanThreshold", TreatMissingData: Missing},
		{EvaluationPeriods: 1, DatapointsToAlarm: 1, ComparisonOperator: "GreaterThanUpperThreshold", TreatMissingData: Missing},
		{EvaluationPeriods: 1, DatapointsToAlarm: 1, ComparisonOperator: "GreaterThanThreshold", TreatMissingData: "zero"},
	} {
		if bad.Validate() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
