package e2e

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/test/apptask"
)

// BenchmarkBadRelease measures, in the traffic world under constant load, how long a bad release at a
// 10% canary serves users before it is out of traffic, and how many requests users saw fail, with the
// detection the daemon has: the stack's CloudWatch alarms evaluated from the published ALB metrics
// ("alarms"), and those alarms plus the analysis of issue 9 ("analysis": the world's errors and latency
// metrics through a real Prometheus, every second, alpha 0.01). Bad releases: every request 500, 2% and
// 5% of requests 500, +200 ms and +300 ms latency; and an equal release (A/A), which must not be rolled
// back (analysis path only: the alarms would just wait out the bake).
//
//	cd test/traffic && go test -run X -bench BadRelease -benchtime 1x -timeout 90m ./e2e
//
// $SWITCHYARD_BENCH_PATHS picks the paths (default "alarms,analysis"), $SWITCHYARD_BENCH_KINDS the
// kinds by name (default all).
// $SWITCHYARD_BENCH_RUNS runs per kind (default 3); $SWITCHYARD_BENCH_ALARM_SCALE makes alarm time run
// faster (default 1: the alarms' real 60 s periods, as the issue asks for the baseline); the load is
// $SWITCHYARD_BENCH_RATE requests/s (default 100). A run that is not rolled back within
// $SWITCHYARD_BENCH_RUN_LIMIT (default 5m) is reported as undetected.
func BenchmarkBadRelease(b *testing.B) {
	if testing.Short() {
		b.Skip("minutes per run with real alarm periods")
	}
	runs := envInt(b, "SWITCHYARD_BENCH_RUNS", 3)
	rate := envInt(b, "SWITCHYARD_BENCH_RATE", 100)
	limit := envDuration(b, "SWITCHYARD_BENCH_RUN_LIMIT", 5*time.Minute)
	scale := 1.0
	if s := os.Getenv("SWITCHYARD_BENCH_ALARM_SCALE"); s != "" {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v <= 0 {
			b.Fatalf("SWITCHYARD_BENCH_ALARM_SCALE=%q", s)
		}
		scale = v
	}
	kinds := []struct {
		name string
		bad  apptask.Behaviour
	}{
		{"5xx-100pct", apptask.Behaviour{ErrorRate: 1}},
		{"5xx-2pct", apptask.Behaviour{ErrorRate: 0.02}},
		{"5xx-5pct", apptask.Behaviour{ErrorRate: 0.05}},
		{"latency+200ms", apptask.Behaviour{Latency: 200 * time.Millisecond}},
		{"latency+300ms", apptask.Behaviour{Latency: 300 * time.Millisecond}},
		{"aa", apptask.Behaviour{}},
	}
	paths := strings.Split(envString("SWITCHYARD_BENCH_PATHS", "alarms,analysis"), ",")
	only := envString("SWITCHYARD_BENCH_KINDS", "")
	for _, path := range paths {
		for _, k := range kinds {
			if (only != "" && !strings.Contains(","+only+",", ","+k.name+",")) || (k.name == "aa" && path != "analysis") {
				continue
			}
			b.Run(path+"/"+k.name, func(b *testing.B) {
				var outs []badOutcome
				for i := 0; i < runs; i++ {
					// One sub-benchmark a run, so that each world is torn down before the next starts.
					b.Run(fmt.Sprintf("run%d", i+1), func(b *testing.B) {
						outs = append(outs, badReleaseRun(b, k.bad, rate, scale, limit, path == "analysis"))
					})
				}
				reportBad(b, path+" "+k.name, rate, scale, outs)
			})
		}
	}
}

func envString(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

type badOutcome struct {
	detected bool
	exposure time.Duration // first request served by the new colour -> verified 0%
	failed   int           // requests users saw fail meanwhile
	served   int           // requests the new colour served
	reason   string        // why it was rolled back
}

func badReleaseRun(b *testing.B, bad apptask.Behaviour, rate int, scale float64, limit time.Duration, analysed bool) badOutcome {
	table := apptask.NewTable(map[string]apptask.Behaviour{"v5": bad})
	var opts []envOption
	bake := 24 * time.Hour
	if analysed {
		opts, bake = append(opts, withAnalysis(b, 0.01, "errors", "latency")), 10*time.Minute // early_pass ends it
	}
	e := newTrafficEnv(b, "badrel", poll, table, scale, "", opts...)
	attacks := e.load(rate, limit+time.Minute)
	time.Sleep(2 * time.Second)
	d := e.deploy("v5", steps(10, bake, 100, time.Duration(0)))
	var out badOutcome
	deadline := time.Now().Add(limit)
	var done *deploy.Deployment
	for time.Now().Before(deadline) {
		got, err := e.c.Deployment(e.ctx, d.ID)
		if err == nil && got.State.Terminal() {
			done = got
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	var restored time.Time
	if done != nil && done.State == deploy.StateRolledBack {
		restored = eventTime(b, e.env, d.ID, "rollback.traffic_restored")
		out.detected, out.reason = true, done.Reason
	}
	reqs := stopAll(attacks)
	var first time.Time
	for _, r := range reqs {
		if r.Colour == "green" {
			out.served++
			if first.IsZero() || r.Start.Before(first) {
				first = r.Start
			}
		}
	}
	end := restored
	if !out.detected {
		end = time.Now()
	}
	for _, r := range reqs {
		slow := bad.Latency > 0 && r.Colour == "green"
		if (r.Failed() || slow) && !r.Start.Before(first) && r.Start.Before(end) {
			out.failed++ // a request of a slow release counts as failing its user
		}
	}
	if !first.IsZero() {
		out.exposure = end.Sub(first)
	}
	return out
}

func reportBad(b *testing.B, name string, rate int, scale float64, outs []badOutcome) {
	var exp []time.Duration
	var failed []int
	undetected := 0
	for _, o := range outs {
		if !o.detected {
			undetected++
		}
		exp = append(exp, o.exposure)
		failed = append(failed, o.failed)
	}
	sort.Slice(exp, func(i, j int) bool { return exp[i] < exp[j] })
	sort.Ints(failed)
	var runs []string
	for _, o := range outs {
		why := " (not rolled back)"
		if o.detected {
			why = " (" + o.reason + ")"
		}
		runs = append(runs, fmt.Sprintf("%s/%d failed/%d served%s", o.exposure.Round(100*time.Millisecond), o.failed, o.served, why))
	}
	report(b, "%s at a 10%% canary, %d req/s, alarm scale %g: exposure median %s (min %s, max %s); users' failed requests median %d (min %d, max %d); rolled back %d/%d; runs: %s",
		name, rate, scale, exp[len(exp)/2].Round(100*time.Millisecond), exp[0].Round(100*time.Millisecond), exp[len(exp)-1].Round(100*time.Millisecond),
		failed[len(failed)/2], failed[0], failed[len(failed)-1], len(outs)-undetected, len(outs), strings.Join(runs, "; "))
	b.ReportMetric(exp[len(exp)/2].Seconds(), "exposure-p50-s")
	b.ReportMetric(float64(failed[len(failed)/2]), "failed-p50")
}
