package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/test/demostack"
)

// BenchmarkAlarmToVerifiedRollback measures, against the emulator and a real daemon process, the time
// from a guarding alarm entering ALARM (just before SetAlarmState is sent) to both routes reading back
// 100/0 on the previous slot (polled here, independently of the daemon, every millisecond). It also
// reports the daemon's own decision time (alarm state seen -> first ModifyListener/ModifyRule sent) from
// the rollback's audit event. Run with e.g. `go test -run X -bench AlarmToVerified -benchtime 30x ./test/e2e`.
func BenchmarkAlarmToVerifiedRollback(b *testing.B) {
	intervals := []time.Duration{time.Second, 250 * time.Millisecond}
	if v := os.Getenv("SWITCHYARD_BENCH_POLL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatal(err)
		}
		intervals = []time.Duration{d}
	}
	for _, poll := range intervals {
		b.Run("poll="+poll.String(), func(b *testing.B) { benchRollback(b, poll) })
	}
}

func benchRollback(b *testing.B, poll time.Duration) {
	e := newEnv(b, fmt.Sprintf("bench%d-", poll.Milliseconds()), poll, "")
	plan := steps(50, time.Hour, 100, time.Duration(0))
	total := make([]time.Duration, 0, b.N)
	decision := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		d := e.deploy("v2", plan)
		e.waitFor(d.ID, "50% verified", 30*time.Second, func(d *deploy.Deployment) bool {
			return d.Weights.Green == 500 && d.StepStartedAt != nil
		})
		// Fire at a random phase of the daemon's poll cycle: its first alarm poll happens when the shift
		// starts, so firing right after the step is verified would always land just after a poll.
		time.Sleep(time.Duration(rand.Int64N(int64(poll))))
		b.StartTimer()
		t0 := time.Now()
		if err := demostack.SetAlarm(e.ctx, e.w.AWS, e.w.Stack.GreenAlarm, "ALARM"); err != nil {
			b.Fatal(err)
		}
		for {
			l, r, err := e.w.Stack.Weights(e.ctx, e.w.AWS)
			if err == nil && l == [2]int32{999, 0} && r == [2]int32{999, 0} {
				break
			}
			if time.Since(t0) > 30*time.Second {
				b.Fatal("weights never returned to blue")
			}
			time.Sleep(time.Millisecond)
		}
		total = append(total, time.Since(t0))
		b.StopTimer()
		if err := demostack.SetAlarm(e.ctx, e.w.AWS, e.w.Stack.GreenAlarm, "OK"); err != nil {
			b.Fatal(err)
		}
		e.waitState(d.ID, deploy.StateRolledBack, 30*time.Second)
		evs, err := e.c.Events(e.ctx, d.ID, 0)
		if err != nil {
			b.Fatal(err)
		}
		for _, ev := range evs {
			if ev.Action == "rollback.traffic_restored" {
				if ms, err := strconv.ParseFloat(ev.Detail["decision_ms"], 64); err == nil {
					decision = append(decision, time.Duration(ms*float64(time.Millisecond)))
				}
			}
		}
		b.StartTimer()
	}
	b.StopTimer()
	p50, p99 := quantile(total, 0.5), quantile(total, 0.99)
	b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(quantile(decision, 0.5).Microseconds())/1000, "decision-p50-ms")
	b.ReportMetric(float64(quantile(decision, 0.99).Microseconds())/1000, "decision-p99-ms")
	b.Logf("poll_interval=%s runs=%d alarm->verified 100/0: median %s p99 %s max %s; daemon decision (alarm seen -> ModifyListener sent): median %s p99 %s",
		poll, len(total), p50.Round(time.Millisecond), p99.Round(time.Millisecond), quantile(total, 1).Round(time.Millisecond),
		quantile(decision, 0.5).Round(10*time.Microsecond), quantile(decision, 0.99).Round(10*time.Microsecond))
}

// quantile returns the q-quantile (nearest rank) of ds.
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}
