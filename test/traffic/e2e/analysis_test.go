package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/test/apptask"
	"github.com/switchyard/switchyard/test/daemontest"
	"github.com/switchyard/switchyard/test/traffic/world"
)

// withAnalysis gives the world a Prometheus and the service an analysis block of the world's metrics
// named in names (errors, latency, probe), polled every second with the given alpha.
func withAnalysis(t testing.TB, alpha float64, names ...string) envOption {
	return envOption{
		world: func(o *world.Options) { o.Prometheus = true },
		service: func(tw *world.World) string {
			spec := deploy.AnalysisSpec{Interval: deploy.Duration(time.Second), Alpha: alpha, EarlyPass: true}
			for _, m := range tw.AnalysisMetrics() {
				for _, n := range names {
					if m.Name == n {
						spec.Metrics = append(spec.Metrics, m)
					}
				}
			}
			b, err := json.Marshal(spec)
			if err != nil {
				t.Fatal(err)
			}
			return "    analysis: " + string(b) + "\n" // JSON is a YAML flow mapping
		},
	}
}

// analysedRelease is one release judged by the analysis under load.
type analysedRelease struct {
	d      *deploy.Deployment
	served time.Duration // the canary's weights verified -> rollback decided (0: never had traffic)
	failed int           // requests users saw fail
	total  int
}

// releaseUnderLoad deploys tag as a 10% canary with a 10-minute bake under rate requests/s, waits for
// the deployment to end and measures how long the canary served before the rollback decision.
func releaseUnderLoad(t testing.TB, e *trafficEnv, tag string, rate int, within time.Duration) analysedRelease {
	t.Helper()
	attacks := e.load(rate, within+time.Minute)
	time.Sleep(2 * time.Second) // both colours' counters exist before the release
	d := e.deploy(tag, steps(10, 10*time.Minute, 100, time.Duration(0)))
	done := daemontest.WaitFor(t, e.ctx, e.c, d.ID, "a terminal state", within, func(d *deploy.Deployment) bool { return d.State.Terminal() })
	time.Sleep(time.Second)
	reqs := stopAll(attacks)
	out := analysedRelease{d: done, total: len(reqs)}
	evs, err := e.c.Events(e.ctx, d.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	var canary time.Time
	for _, ev := range evs {
		switch {
		case ev.Action == "weights.verified" && canary.IsZero(): // the canary's weights, the first change
			canary = ev.Time
		case ev.Action == "rollback" && !canary.IsZero():
			out.served = ev.Time.Sub(canary)
		}
	}
	for _, r := range reqs {
		if r.Failed() {
			out.failed++
		}
	}
	return out
}

func (r analysedRelease) String() string {
	return fmt.Sprintf("%s (%s) after the canary served %s; %d of %d requests failed", r.d.State, r.d.Cause,
		r.served.Round(100*time.Millisecond), r.failed, r.total)
}

// Issue 9: releases that are worse than the live one are rolled back by the analysis well before the
// stack's 60 s alarms could see them: every request 500, 2% extra 5xx at a 10% canary and 100
// requests/s, +200 ms latency.
func TestAnalysisRollsBackBadReleases(t *testing.T) {
	cases := []struct {
		name   string
		bad    apptask.Behaviour
		within time.Duration
	}{
		{"hard-failure", apptask.Behaviour{ErrorRate: 1}, 20 * time.Second},
		{"two-percent", apptask.Behaviour{ErrorRate: 0.02}, 90 * time.Second},
		{"latency", apptask.Behaviour{Latency: 200 * time.Millisecond}, 90 * time.Second},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			table := apptask.NewTable(map[string]apptask.Behaviour{"v3": c.bad})
			e := newTrafficEnv(t, "an-"+c.name, poll, table, 1, "", withAnalysis(t, 0.01, "errors", "latency"))
			r := releaseUnderLoad(t, e, "v3", 100, c.within+30*time.Second)
			t.Logf("%s: %s", c.name, r)
			logAnalysis(t, r.d.Analysis)
			if r.d.State != deploy.StateRolledBack || r.d.Cause != deploy.CauseAnalysis {
				t.Fatalf("%s: want rolled back by the analysis; reason %q", r, r.d.Reason)
			}
			if r.served <= 0 || r.served > c.within {
				t.Fatalf("%s: the canary served %s, want within %s", r, r.served, c.within)
			}
			a, err := e.c.Analysis(e.ctx, r.d.ID)
			if err != nil || a.Verdict != deploy.VerdictFail || len(a.Points) == 0 {
				t.Fatalf("stored analysis %+v (%v): want a failed run with its measurements", a, err)
			}
		})
	}
}

// Issue 9: a release that behaves like the live one (A/A) is not rolled back, and with early_pass
// its 10-minute bake ends as soon as every metric passes.
func TestAnalysisPassesAnEqualRelease(t *testing.T) {
	e := newTrafficEnv(t, "an-aa", poll, nil, 1, "", withAnalysis(t, 0.001, "errors", "latency"))
	r := releaseUnderLoad(t, e, "v2", 100, 4*time.Minute)
	t.Logf("A/A: %s", r)
	if r.d.State != deploy.StateSucceeded || r.failed != 0 {
		t.Fatalf("%s: want succeeded with no failed request; reason %q", r, r.d.Reason)
	}
	if r.d.Analysis == nil || r.d.Analysis.Verdict != deploy.VerdictPass {
		t.Fatalf("analysis %+v: want pass", r.d.Analysis)
	}
}

// Issue 9: a release that fails its probes through the test listener never gets production traffic.
func TestAnalysisProbeGateKeepsABadReleaseFromUsers(t *testing.T) {
	table := apptask.NewTable(map[string]apptask.Behaviour{"v3": {ErrorRate: 1}})
	e := newTrafficEnv(t, "an-probe", poll, table, 1, "", withAnalysis(t, 0.01, "errors", "probe"))
	attacks := e.load(50, 2*time.Minute)
	d := e.deploy("v3", steps(10, time.Minute, 100, time.Duration(0)))
	done := e.waitState(d.ID, deploy.StateRolledBack, 90*time.Second)
	reqs := stopAll(attacks)
	if done.Cause != deploy.CauseAnalysis || !strings.Contains(done.Reason, "probe") {
		t.Fatalf("cause %s reason %q: want the probe gate", done.Cause, done.Reason)
	}
	for _, r := range reqs {
		if r.Failed() || r.Colour == "green" {
			t.Fatalf("production traffic reached the release that failed its probes: %+v", r)
		}
	}
	t.Logf("probe gate: %s; %s", done.Reason, summarize(reqs))
}

func logAnalysis(t testing.TB, a *deploy.AnalysisRun) {
	if a == nil {
		t.Logf("no analysis stored")
		return
	}
	t.Logf("analysis %s: %s", a.Verdict, a.Why)
	for _, m := range a.Metrics {
		t.Logf("  %s %s: %s %v", m.Name, m.Verdict, m.Why, m.Stats)
	}
}
