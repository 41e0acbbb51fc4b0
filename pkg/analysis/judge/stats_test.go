package judge

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// The acceptance figures: A/A false-failure rates over thousands of simulated runs, detection
// times for known effects, and the time a good release takes to pass. Intervals are 1 s at 100
// requests/s. Print them with: go test -run 'TestAA|TestDetectionTimes|TestPassTimes' -v ./pkg/analysis/judge

// simRuns is the number of runs per scenario: the full size normally, fewer under -short or -race.
func simRuns(full int) int {
	if testing.Short() || raceEnabled {
		return full / 8
	}
	return full
}

var (
	errorsMetric  = deploy.AnalysisMetric{Name: "5xx", Judge: deploy.JudgeErrors}
	latencyMetric = deploy.AnalysisMetric{Name: "latency", Judge: deploy.JudgeLatency}
	fastLatency   = lognormal(0.05, 0.5, 0) // median 50 ms, p90 95 ms
)

// binomialLimit is the smallest k with P(Binomial(n, p) > k) < tail: a count above it is evidence
// (at level tail) that the true rate exceeds p. With a fixed seed the check cannot flake.
func binomialLimit(n int, p, tail float64) int {
	cdf := 0.0
	for k := 0; k <= n; k++ {
		lc, _ := math.Lgamma(float64(n + 1))
		l1, _ := math.Lgamma(float64(k + 1))
		l2, _ := math.Lgamma(float64(n - k + 1))
		cdf += math.Exp(lc - l1 - l2 + float64(k)*math.Log(p) + float64(n-k)*math.Log1p(-p))
		if 1-cdf < tail {
			return k
		}
	}
	return n
}

// A/A: both colours behave the same; the canary weight steps from 10% to 50% half-way (the real split
// following with a lag). The share of runs that ever FAIL must not exceed alpha.
func TestAAFalseFailures(t *testing.T) {
	const alpha, intervals = 0.01, 600
	runs := simRuns(2000)
	limit := binomialLimit(runs, alpha, 1e-4)
	var rows []string
	for _, c := range []struct {
		name string
		m    deploy.AnalysisMetric
		arm  arm
	}{
		{"errors, 0.5% both", errorsMetric, arm{errRate: 0.005}},
		{"errors, 0% both", errorsMetric, arm{errRate: 0}},
		{"errors, 5% both", errorsMetric, arm{errRate: 0.05}},
		{"latency, lognormal 50 ms both", latencyMetric, arm{cum: fastLatency}},
	} {
		failed := 0
		for r := 0; r < runs; r++ {
			w := newWorld(uint64(1000+r), 100, c.arm, c.arm)
			if f, _ := run(t, c.m, alpha, w, intervals, intervals/2); f > 0 {
				failed++
			}
		}
		rows = append(rows, fmt.Sprintf("| %-30s | %5d | %5d | %6d | %6.2f%% | %5.2f%% | %5d |",
			c.name, runs, intervals, failed, 100*float64(failed)/float64(runs), 100*alpha, limit))
		if failed > limit {
			t.Errorf("%s: %d of %d A/A runs failed: more than alpha = %v allows (limit %d)", c.name, failed, runs, alpha, limit)
		}
	}
	t.Logf("A/A false failures (10%% -> 50%% canary at 300 s, 100 rps, 1 s intervals):\n"+
		"| scenario                       |  runs | s/run | failed |   rate |  alpha | limit |\n"+
		"|--------------------------------|-------|-------|--------|--------|--------|-------|\n%s",
		strings.Join(rows, "\n"))
}

// Time to FAIL a bad release, in seconds of data (1 s intervals), at a 10% canary and 100 rps unless
// the scenario says otherwise.
func TestDetectionTimes(t *testing.T) {
	const horizon = 600
	runs := simRuns(1000)
	noMin := func(m deploy.AnalysisMetric) deploy.AnalysisMetric { m.MinRequests = 1; return m }
	var rows []string
	for _, c := range []struct {
		name      string
		m         deploy.AnalysisMetric
		canary    float64 // weight
		base, can arm
		target    int // detection is required (no run may miss)
		alpha     float64
	}{
		{"hard failure (100% 5xx), 0.5% base", errorsMetric, 0.1, arm{errRate: 0.005}, arm{errRate: 1}, 3, 0},
		{"  same, min_requests 1 (evidence only)", noMin(errorsMetric), 0.1, arm{errRate: 0.005}, arm{errRate: 1}, 2, 0},
		{"+2% 5xx on 0.5% base", errorsMetric, 0.1, arm{errRate: 0.005}, arm{errRate: 0.025}, 0, 0},
		{"+2% 5xx on 0% base", errorsMetric, 0.1, arm{errRate: 0}, arm{errRate: 0.02}, 0, 0},
		{"+2% 5xx on 0.5% base, 50% canary", errorsMetric, 0.5, arm{errRate: 0.005}, arm{errRate: 0.025}, 0, 0},
		{"+2% 5xx on 0.5% base, alpha 0.05", errorsMetric, 0.1, arm{errRate: 0.005}, arm{errRate: 0.025}, 0, 0.05},
		{"+1% 5xx on 0.5% base", errorsMetric, 0.1, arm{errRate: 0.005}, arm{errRate: 0.015}, 0, 0},
		{"+200 ms on 50 ms median", latencyMetric, 0.1, arm{cum: fastLatency}, arm{cum: lognormal(0.05, 0.5, 0.2)}, 40, 0},
		{"  same, min_requests 1 (evidence only)", noMin(latencyMetric), 0.1, arm{cum: fastLatency}, arm{cum: lognormal(0.05, 0.5, 0.2)}, 0, 0},
		{"+20 ms on 50 ms median", latencyMetric, 0.1, arm{cum: fastLatency}, arm{cum: lognormal(0.05, 0.5, 0.02)}, 0, 0},
	} {
		ts := make([]int, runs)
		for r := range ts {
			w := newWorld(uint64(5000+r), 100, c.base, c.can)
			w.w = c.canary
			alpha := c.alpha
			if alpha == 0 {
				alpha = 0.01
			}
			ts[r] = runAt(t, c.m, alpha, w, horizon, c.canary)
		}
		d := distOf(ts)
		rows = append(rows, fmt.Sprintf("| %-40s | %5d | %6d | %4d | %4d | %6d |", c.name, runs, d.median, d.p90, d.max, d.missed))
		if d.missed > 0 && c.target > 0 {
			t.Errorf("%s: %d runs not detected in %d s", c.name, d.missed, horizon)
		}
	}
	t.Logf("detection times, seconds of data (1 s intervals, 100 rps, alpha 0.01 unless said; missed = not within %d s):\n"+
		"| scenario                                 |  runs | median |  p90 |  max | missed |\n"+
		"|------------------------------------------|-------|--------|------|------|--------|\n%s",
		horizon, strings.Join(rows, "\n"))
}

// runAt runs at a constant canary weight and answers the interval of the first FAIL (0: none).
func runAt(t testing.TB, m deploy.AnalysisMetric, alpha float64, w *world, horizon int, weight float64) int {
	j, err := New(m, alpha)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= horizon; i++ {
		j.Observe(w.step(weight))
		if verdictOf(j) == deploy.VerdictFail {
			return i
		}
	}
	return 0
}

// Time for a good release (A/A) to PASS, at a 10% canary and 100 rps (the weight steps to 50% at
// 300 s), default margins.
func TestPassTimes(t *testing.T) {
	const alpha, horizon = 0.01, 600
	runs := simRuns(400)
	var rows []string
	for _, c := range []struct {
		name string
		m    deploy.AnalysisMetric
		arm  arm
	}{
		{"errors, 0% both (margin 1%)", errorsMetric, arm{errRate: 0}},
		{"errors, 0.5% both (margin 1%)", errorsMetric, arm{errRate: 0.005}},
		{"latency, same lognormal (margin 5%)", latencyMetric, arm{cum: fastLatency}},
	} {
		ts := make([]int, runs)
		for r := range ts {
			_, ts[r] = run(t, c.m, alpha, newWorld(uint64(9000+r), 100, c.arm, c.arm), horizon, horizon/2)
		}
		d := distOf(ts)
		rows = append(rows, fmt.Sprintf("| %-36s | %5d | %6d | %4d | %4d | %6d |", c.name, runs, d.median, d.p90, d.max, d.missed))
		if d.missed > runs/100 {
			t.Errorf("%s: %d of %d good releases did not pass in %d s", c.name, d.missed, runs, horizon)
		}
	}
	t.Logf("time to PASS a good release, seconds (10%% canary, 100 rps, 50%% from 300 s):\n"+
		"| scenario                             |  runs | median |  p90 |  max | missed |\n"+
		"|--------------------------------------|-------|--------|------|------|--------|\n%s", strings.Join(rows, "\n"))
}
