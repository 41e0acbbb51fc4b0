package judge

import (
	"testing"

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
