package judge

import (
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// Found in the traffic world: a live colour answering everything within the first bucket (5 ms) made
// the threshold the last bound (10 s), which nothing exceeds, and a +200 ms release passed.
func TestLatencyCatchesASlowReleaseWhenTheLiveOneFitsTheFirstBucket(t *testing.T) {
	bounds := []float64{.005, .01, .025, .05, .1, .25, .5, 1, 10}
	arm := func(n, at float64) Arm { // n requests, all taking about `at` seconds
		a := Arm{Requests: n}
		for _, le := range bounds {
			c := 0.0
			if at <= le {
				c = n
			}
			a.Buckets = append(a.Buckets, Bucket{Le: le, Count: c})
		}
		return a
	}
	j, err := New(deploy.AnalysisMetric{Name: "latency", Judge: deploy.JudgeLatency}, 0.01)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 60; i++ { // 1 s intervals at 100 requests/s, a 10% canary 200 ms slower
		j.Observe(Interval{Base: arm(90, 0.003), Canary: arm(10, 0.203)})
		if r := j.Result(); r.Verdict != deploy.VerdictInconclusive {
			if r.Verdict != deploy.VerdictFail {
				t.Fatalf("after %d s: %s (%s), want fail", i+1, r.Verdict, r.Why)
			}
			t.Logf("failed after %d s of data: %s", i+1, r.Why)
			return
		}
	}
	t.Fatalf("no verdict in 60 s: %+v", j.Result())
}

// Found in the traffic world: two colours of one release differ by a millisecond or two (a new task's
// warm-up, one colour's scrape catching a shared pause): without a tolerance the p90 bound sat at 5 ms
// and 3 of 20 equal releases were failed. A 2 ms shift is not a regression; with tolerance 0 the same
// stream fails, which shows what the tolerance buys.
func TestLatencyToleratesMillisecondNoise(t *testing.T) {
	bounds := []float64{.005, .01, .025, .05, .1, .25, .5, 1, 10}
	arm := func(n, fastShare float64) Arm { // fastShare of n within 5 ms, the rest within 10 ms
		a := Arm{Requests: n}
		for _, le := range bounds {
			c := n
			if le < .01 {
				c = n * fastShare
			}
			a.Buckets = append(a.Buckets, Bucket{Le: le, Count: c})
		}
		return a
	}
	run := func(tol deploy.Duration) deploy.Verdict {
		j, err := New(deploy.AnalysisMetric{Name: "latency", Judge: deploy.JudgeLatency, Tolerance: tol}, 0.01)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 300; i++ { // live: 95% within 5 ms; new: 60% (its p90 a few ms later)
			j.Observe(Interval{Base: arm(90, 0.95), Canary: arm(10, 0.6)})
			if v := j.Result().Verdict; v == deploy.VerdictFail {
				return v
			}
		}
		return j.Result().Verdict
	}
	if v := run(0); v == deploy.VerdictFail {
		t.Fatalf("a 2 ms shift failed with the default tolerance")
	}
	if v := run(deploy.Duration(time.Nanosecond)); v != deploy.VerdictFail {
		t.Fatalf("without tolerance the shift was %s, want fail (the test must see it)", v)
	}
}
