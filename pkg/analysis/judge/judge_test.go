package judge

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/pkg/deploy"
)

func ptr(v float64) *float64 { return &v }

func TestNewValidates(t *testing.T) {
	th := func(s deploy.ThresholdSpec) deploy.AnalysisMetric {
		return deploy.AnalysisMetric{Name: "m", Judge: deploy.JudgeThreshold, Threshold: &s}
	}
	for _, c := range []struct {
		m     deploy.AnalysisMetric
		alpha float64
		field string
	}{
		{deploy.AnalysisMetric{Name: "m", Judge: "mann-whitney"}, 0, "judge"},
		{deploy.AnalysisMetric{Name: "m", Judge: deploy.JudgeErrors}, 1, "alpha"},
		{deploy.AnalysisMetric{Name: "m", Judge: deploy.JudgeErrors}, -0.1, "alpha"},
		{deploy.AnalysisMetric{Name: "m", Judge: deploy.JudgeErrors, Margin: 1.5}, 0, "margin"},
		{deploy.AnalysisMetric{Name: "m", Judge: deploy.JudgeLatency, Margin: -0.1}, 0, "margin"},
		{deploy.AnalysisMetric{Name: "m", Judge: deploy.JudgeLatency, Quantile: 1}, 0, "quantile"},
		{deploy.AnalysisMetric{Name: "m", Judge: deploy.JudgeLatency, Quantile: -0.5}, 0, "quantile"},
		{deploy.AnalysisMetric{Name: "m", Judge: deploy.JudgeErrors, MinRequests: -1}, 0, "min_requests"},
		{deploy.AnalysisMetric{Name: "m", Judge: deploy.JudgeThreshold}, 0, "threshold"},
		{th(deploy.ThresholdSpec{Value: "p95", Max: ptr(1)}), 0, "threshold.value"},
		{th(deploy.ThresholdSpec{Value: "p90"}), 0, "threshold.max"},
		{th(deploy.ThresholdSpec{Value: "p90", Max: ptr(1), Min: ptr(2)}), 0, "threshold.min"},
		{th(deploy.ThresholdSpec{Value: "p90", Max: ptr(1), FailureLimit: -1}), 0, "threshold.failure_limit"},
		{th(deploy.ThresholdSpec{Value: "p90", Max: ptr(1), MinSamples: -1}), 0, "threshold.min_samples"},
	} {
		_, err := New(c.m, c.alpha)
		if err == nil || deploy.KindOf(err) != deploy.KindInvalid || !strings.Contains(err.Error(), c.field+":") {
			t.Errorf("New(%+v, %v) = %v; want an invalid error naming %s", c.m, c.alpha, err, c.field)
		}
	}
	for _, m := range []deploy.AnalysisMetric{
		{Name: "e", Judge: deploy.JudgeErrors},
		{Name: "l", Judge: deploy.JudgeLatency, Quantile: 0.99, Margin: 0.02, MinRequests: 10},
		th(deploy.ThresholdSpec{Value: "error_rate", Max: ptr(0.05)}),
	} {
		if _, err := New(m, 0); err != nil {
			t.Errorf("New(%+v) = %v", m, err)
		}
	}
}

// Defaults as documented on deploy.AnalysisMetric.
func TestNewDefaults(t *testing.T) {
	j, _ := New(deploy.AnalysisMetric{Judge: deploy.JudgeErrors}, 0)
	e := j.(*errorsJudge)
	if e.alpha != 0.01 || e.margin != 0.01 || e.minRequests != 20 {
		t.Errorf("errors defaults: alpha %v margin %v min %v", e.alpha, e.margin, e.minRequests)
	}
	j, _ = New(deploy.AnalysisMetric{Judge: deploy.JudgeLatency}, 0)
	l := j.(*latencyJudge)
	if l.alpha != 0.01 || l.margin != 0.05 || l.q != 0.9 || l.minRequests != 50 {
		t.Errorf("latency defaults: alpha %v margin %v q %v min %v", l.alpha, l.margin, l.q, l.minRequests)
	}
}

// A judge restored from its state continues exactly as the original: same results, same state.
func TestStateRestoreContinues(t *testing.T) {
	for _, m := range []deploy.AnalysisMetric{
		{Name: "e", Judge: deploy.JudgeErrors},
		{Name: "l", Judge: deploy.JudgeLatency},
		{Name: "t", Judge: deploy.JudgeThreshold, Threshold: &deploy.ThresholdSpec{Value: "p90", Max: ptr(0.2), FailureLimit: 3, MinSamples: 50}},
	} {
		w := newWorld(3, 100, arm{errRate: 0.01, cum: lognormal(0.05, 0.5, 0)}, arm{errRate: 0.012, cum: lognormal(0.06, 0.5, 0)})
		a, _ := New(m, 0.01)
		for i := 0; i < 40; i++ {
			a.Observe(w.step(0.1))
		}
		raw, err := a.State()
		if err != nil {
			t.Fatal(err)
		}
		raw = json.RawMessage(string(raw)) // as stored: bytes only
		b, _ := New(m, 0.01)
		if err := b.Restore(raw); err != nil {
			t.Fatalf("%s: Restore: %v", m.Name, err)
		}
		for i := 0; i < 200; i++ {
			iv := w.step(0.5)
			a.Observe(iv)
			b.Observe(iv)
			ra, rb := a.Result(), b.Result()
			if !reflect.DeepEqual(ra, rb) {
				t.Fatalf("%s: interval %d after restore: %+v != %+v", m.Name, i, rb, ra)
			}
			if v := verdictOf(a); v != ra.Verdict { // the simulations' shortcut agrees with Result
				t.Fatalf("%s: verdict() %s, Result %s", m.Name, v, ra.Verdict)
			}
		}
		sa, _ := a.State()
		sb, _ := b.State()
		if string(sa) != string(sb) {
			t.Errorf("%s: states differ after the same intervals", m.Name)
		}
		if _, err := json.Marshal(a.Result().Stats); err != nil {
			t.Errorf("%s: Stats not JSON: %v", m.Name, err)
		}
		t.Logf("%s after 240 intervals (state %d bytes): %s: %s", m.Name, len(sa), a.Result().Verdict, a.Result().Why)
	}
	// A state of another judge, or garbage, is refused.
	e, _ := New(deploy.AnalysisMetric{Judge: deploy.JudgeErrors}, 0)
	l, _ := New(deploy.AnalysisMetric{Judge: deploy.JudgeLatency}, 0)
	raw, _ := e.State()
	if err := l.Restore(raw); deploy.KindOf(err) != deploy.KindInvalid {
		t.Errorf("latency judge restored an errors state: %v", err)
	}
	if err := e.Restore(json.RawMessage(`{"kind":"errors"}`)); deploy.KindOf(err) != deploy.KindInvalid {
		t.Errorf("errors judge restored a state without a grid: %v", err)
	}
	if err := e.Restore(json.RawMessage(`nope`)); deploy.KindOf(err) != deploy.KindInvalid {
		t.Errorf("errors judge restored garbage: %v", err)
	}
}

func feed(j Judge, n int, iv Interval) Result {
	for i := 0; i < n; i++ {
		j.Observe(iv)
	}
	return j.Result()
}

func TestErrorsJudge(t *testing.T) {
	m := deploy.AnalysisMetric{Judge: deploy.JudgeErrors}
	// Hard failure: every canary request fails. The evidence is there after one interval, the
	// verdict waits for MinRequests canary requests.
	j, _ := New(m, 0)
	bad := Interval{Base: Arm{Requests: 90}, Canary: Arm{Requests: 10, Errors: 10}}
	if r := feed(j, 1, bad); r.Verdict != deploy.VerdictInconclusive || r.Stats["log_bf"] < r.Stats["log_bf_threshold"] {
		t.Fatalf("after 10 requests: %s (%s), log BF %v", r.Verdict, r.Why, r.Stats["log_bf"])
	}
	if r := feed(j, 1, bad); r.Verdict != deploy.VerdictFail {
		t.Fatalf("after 20 failing requests: %s (%s)", r.Verdict, r.Why)
	}
	// A better canary never fails, however much evidence: the test is one-sided.
	j, _ = New(m, 0)
	if r := feed(j, 300, Interval{Base: Arm{Requests: 50, Errors: 5}, Canary: Arm{Requests: 50}}); r.Verdict != deploy.VerdictPass {
		t.Errorf("better canary: %s (%s)", r.Verdict, r.Why)
	}
	// Errors that follow the split (same rate) do not fail; a skewed split of the same totals does.
	j, _ = New(m, 0)
	if r := feed(j, 200, Interval{Base: Arm{Requests: 90, Errors: 9}, Canary: Arm{Requests: 10, Errors: 1}}); r.Verdict == deploy.VerdictFail {
		t.Errorf("equal rates: %s (%s)", r.Verdict, r.Why)
	}
	j, _ = New(m, 0)
	if r := feed(j, 30, Interval{Base: Arm{Requests: 90, Errors: 7}, Canary: Arm{Requests: 10, Errors: 3}}); r.Verdict != deploy.VerdictFail {
		t.Errorf("canary 30%% vs 7.8%%: %s (%s)", r.Verdict, r.Why)
	}
	// No errors at all: passes once the bound shows the canary's rate is under the margin.
	j, _ = New(m, 0)
	n := 0
	for ; n < 1000 && j.Result().Verdict != deploy.VerdictPass; n++ {
		j.Observe(Interval{Base: Arm{Requests: 90}, Canary: Arm{Requests: 10}})
	}
	if r := j.Result(); r.Verdict != deploy.VerdictPass || r.Stats["canary_upper"] > 0.01 {
		t.Fatalf("no errors: %s (%s)", r.Verdict, r.Why)
	}
	t.Logf("no errors at 10 canary requests/s: pass after %d intervals: %s", n, j.Result().Why)
}

func TestThresholdJudge(t *testing.T) {
	hist := func(n, fast float64) Arm { // n requests, fast of them <= 0.1 s, the rest <= 1 s
		return Arm{Requests: n, Buckets: []Bucket{{0.1, fast}, {1, n}}}
	}
	j, _ := New(deploy.AnalysisMetric{Judge: deploy.JudgeThreshold, Threshold: &deploy.ThresholdSpec{
		Value: "p90", Max: ptr(0.5), FailureLimit: 1, MinSamples: 3}}, 0)
	steps := []struct {
		iv   Interval
		want deploy.Verdict
	}{
		{Interval{Canary: hist(100, 95)}, deploy.VerdictInconclusive}, // p90 < 0.1: 1 sample
		{Interval{Canary: Arm{}}, deploy.VerdictInconclusive},         // no requests: no sample
		{Interval{Canary: hist(100, 50)}, deploy.VerdictInconclusive}, // p90 0.82: failure 1 (limit 1)
		{Interval{Canary: hist(100, 99)}, deploy.VerdictPass},         // 3 samples, 1 failure
		{Interval{Canary: hist(10, 0)}, deploy.VerdictFail},           // failure 2 > limit
	}
	for i, s := range steps {
		j.Observe(s.iv)
		if r := j.Result(); r.Verdict != s.want {
			t.Fatalf("step %d: %s (%s), want %s", i, r.Verdict, r.Why, s.want)
		}
	}
	// Values: error rate with a minimum of requests, and the mean.
	j, _ = New(deploy.AnalysisMetric{Judge: deploy.JudgeThreshold, Threshold: &deploy.ThresholdSpec{Value: "requests", Min: ptr(5)}}, 0)
	if r := feed(j, 1, Interval{Canary: Arm{Requests: 3}}); r.Verdict != deploy.VerdictFail {
		t.Errorf("3 requests < min 5: %s", r.Verdict)
	}
	j, _ = New(deploy.AnalysisMetric{Judge: deploy.JudgeThreshold, Threshold: &deploy.ThresholdSpec{Value: "error_rate", Max: ptr(0.05)}}, 0)
	if r := feed(j, 1, Interval{Canary: Arm{Requests: 100, Errors: 5}}); r.Verdict != deploy.VerdictPass || r.Stats["value"] != 0.05 {
		t.Errorf("5%% errors, max 5%%: %s %v", r.Verdict, r.Stats)
	}
	j, _ = New(deploy.AnalysisMetric{Judge: deploy.JudgeThreshold, Threshold: &deploy.ThresholdSpec{Value: "mean", Max: ptr(0.25)}}, 0)
	if r := feed(j, 1, Interval{Canary: hist(100, 50)}); r.Verdict != deploy.VerdictFail || math.Abs(r.Stats["value"]-0.3) > 1e-9 {
		t.Errorf("mean of 50 x 0.05 s and 50 x 0.55 s = 0.3 > 0.25: %s %v", r.Verdict, r.Stats)
	}
}
