package alarmeval

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/switchyard/switchyard/pkg/clock"
)

var (
	t0   = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	dims = []cwtypes.Dimension{{Name: aws.String("LoadBalancer"), Value: aws.String("app/demo/1")},
		{Name: aws.String("TargetGroup"), Value: aws.String("targetgroup/green/2")}}
)

const ns, metric = "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count"

// stackAlarm is a shift alarm as terraform/modules/monitoring defines it: Sum over 60 s, 1 of 1,
// above 5.
func stackAlarm(name string) cwtypes.MetricAlarm {
	return cwtypes.MetricAlarm{AlarmName: aws.String(name), Namespace: aws.String(ns), MetricName: aws.String(metric),
		Dimensions: dims, Statistic: cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1),
		Threshold: aws.Float64(5), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold}
}

func TestRoundFoldsPeriodsAndSetsOnlyChanges(t *testing.T) {
	api := newFakeAPI()
	api.put(stackAlarm("green-5xx"))
	e, err := New(Config{API: api, Alarms: []string{"green-5xx"}, Overrides: map[string]Override{"green-5xx": {TreatMissingData: NotBreaching}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// Two 10 s datapoints in the minute 12:01: their Sum (4+3) breaches, neither alone does.
	api.add(ns, metric, dims, t0.Add(70*time.Second), 4)
	api.add(ns, metric, dims, t0.Add(80*time.Second), 3)
	steps := []struct {
		end  time.Time
		want string
	}{
		{t0.Add(time.Minute), StateOK},        // range 11:58-12:01: no data, notBreaching
		{t0.Add(2 * time.Minute), StateAlarm}, // 12:01 summed to 7 > 5
		{t0.Add(3 * time.Minute), StateAlarm}, // the breaching datapoint is still the newest real one in range
		{t0.Add(4 * time.Minute), StateAlarm},
		{t0.Add(5 * time.Minute), StateOK}, // out of the 3-period range
	}
	for _, s := range steps {
		if err := e.Round(ctx, s.end); err != nil {
			t.Fatal(err)
		}
		if got := api.state("green-5xx"); got != s.want {
			t.Fatalf("round ending %s: %s, want %s", s.end.Format("15:04"), got, s.want)
		}
	}
	if api.sets != 3 {
		t.Fatalf("SetAlarmState called %d times, want 3 (only on a change)", api.sets)
	}
	h := e.History()
	if len(h) != 3 || h[1].From != StateOK || h[1].To != StateAlarm || !strings.Contains(h[1].Reason, "[7.0 (01/12/26 12:01:00)]") {
		t.Fatalf("history: %+v", h)
	}
}

func TestOverridesAndDefaults(t *testing.T) {
	api := newFakeAPI()
	a := stackAlarm("p99")
	a.MetricName, a.Statistic, a.Threshold = aws.String("TargetResponseTime"), "", aws.Float64(1)
	api.put(a)
	b := stackAlarm("two-of-three")
	b.EvaluationPeriods = aws.Int32(3)
	api.put(b)
	var errs []error
	e, _ := New(Config{API: api, Alarms: []string{"p99", "two-of-three"}, OnError: func(err error) { errs = append(errs, err) },
		Overrides: map[string]Override{"two-of-three": {DatapointsToAlarm: 2}}})
	for i, v := range []float64{9, 0, 9} {
		api.add(ns, metric, dims, t0.Add(time.Duration(i)*time.Minute), v)
	}
	if err := e.Round(context.Background(), t0.Add(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := api.state("two-of-three"); got != StateAlarm {
		t.Fatalf("2 of 3 override: %s", got)
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "ExtendedStatistic") {
		t.Fatalf("an alarm without a statistic must be reported: %v", errs)
	}
	// With the override the p99 alarm evaluates; missing data defaults to "missing".
	e, _ = New(Config{API: api, Alarms: []string{"p99"}, Overrides: map[string]Override{"p99": {ExtendedStatistic: "p99"}}})
	api.add(ns, "TargetResponseTime", dims, t0.Add(2*time.Minute), 0.2)
	api.add(ns, "TargetResponseTime", dims, t0.Add(2*time.Minute+10*time.Second), 1.4)
	if err := e.Round(context.Background(), t0.Add(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := api.state("p99"); got != StateAlarm {
		t.Fatalf("p99 of [0.2 1.4] > 1: %s", got)
	}
}

func TestFailedSetIsReportedAndRetried(t *testing.T) {
	api := newFakeAPI()
	api.put(stackAlarm("a"))
	api.add(ns, metric, dims, t0, 50)
	e, _ := New(Config{API: api, Alarms: []string{"a"}})
	api.failSet = errors.New("throttled")
	if err := e.Round(context.Background(), t0.Add(time.Minute)); err == nil {
		t.Fatal("a failed SetAlarmState was not reported")
	}
	api.failSet = nil
	if err := e.Round(context.Background(), t0.Add(time.Minute)); err != nil || api.state("a") != StateAlarm {
		t.Fatalf("retry: %v %s", err, api.state("a"))
	}
}

// TestRunScaledInVirtualTime runs a 60 s alarm at scale 60 (one alarm minute per wall second) on a
// virtual clock and checks when each transition happens.
func TestRunScaledInVirtualTime(t *testing.T) {
	api := newFakeAPI()
	api.put(stackAlarm("green-5xx"))
	fc := clock.NewFake(t0)
	var mu sync.Mutex
	var seen []Transition
	e, err := New(Config{API: api, Alarms: []string{"green-5xx"}, Scale: 60, Clock: fc,
		Overrides:    map[string]Override{"green-5xx": {TreatMissingData: NotBreaching}},
		OnTransition: func(tr Transition) { mu.Lock(); seen = append(seen, tr); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- e.Run(ctx) }()
	// Breaching datapoints for the wall seconds [12:00:03, 12:00:05).
	api.add(ns, metric, dims, t0.Add(3*time.Second), 20)
	api.add(ns, metric, dims, t0.Add(4*time.Second), 20)
	for i := 0; i < 40; i++ { // 10 s of wall time in 250 ms steps
		waitFor(t, func() bool { return fc.Pending() == 1 })
		fc.Advance(250 * time.Millisecond)
	}
	waitFor(t, func() bool { return fc.Pending() == 1 })
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	// Rounds run 250 ms (the default lag: a quarter of the 1 s interval) after each second.
	want := []struct {
		to string
		at time.Duration
	}{
		{StateOK, 250 * time.Millisecond},     // first round (periods ending at +0 s): nothing in range, notBreaching
		{StateAlarm, 4250 * time.Millisecond}, // the period [3 s, 4 s) is complete at 4 s
		{StateOK, 8250 * time.Millisecond},    // the last breaching period [4 s, 5 s) leaves the 3-period range at 8 s
	}
	if len(seen) != len(want) {
		t.Fatalf("transitions: %+v", seen)
	}
	for i, w := range want {
		if seen[i].To != w.to || seen[i].At.Sub(t0) != w.at {
			t.Errorf("transition %d: %s at +%v, want %s at +%v", i, seen[i].To, seen[i].At.Sub(t0), w.to, w.at)
		}
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestFold(t *testing.T) {
	pts := []Point{{t0, 1}, {t0.Add(30 * time.Second), 3}, {t0.Add(time.Minute), 8}, {t0.Add(3 * time.Minute), 100}}
	for stat, want := range map[string][]float64{"Sum": {4, 8, -1}, "Average": {2, 8, -1}, "Maximum": {3, 8, -1},
		"Minimum": {1, 8, -1}, "SampleCount": {2, 1, -1}, "p50": {1, 8, -1}, "p99": {3, 8, -1}} {
		slots, err := Fold(pts, stat, t0.Add(3*time.Minute), time.Minute, 3)
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range slots {
			if (want[i] < 0) != s.Missing || (!s.Missing && s.Value != want[i]) || !s.Start.Equal(t0.Add(time.Duration(i)*time.Minute)) {
				t.Errorf("%s slot %d: %+v, want %g", stat, i, s, want[i])
			}
		}
	}
	if _, err := Fold(pts, "IQM", t0.Add(time.Minute), time.Minute, 1); err == nil {
		t.Error("unknown statistic accepted")
	}
}
