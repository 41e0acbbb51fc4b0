// Package guard gathers the evidence that protects a release and judges it. An Observer reads, for
// every active deployment at once, the guarding CloudWatch alarms (one batched DescribeAlarms), the new
// slot's ECS service (DescribeServices batched per cluster) and its target health (at the target
// group's own health-check cadence, or sooner on demand). Evaluate turns one deployment's readings into
// a verdict: fail closed, so a guard that cannot be read is never taken as healthy.
package guard

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/rollback"
)

// Alarm is the latest reading of one guarding alarm.
type Alarm struct {
	State   deploy.AlarmState
	Present bool      // false: the last successful poll did not return it (deleted or misnamed)
	ReadAt  time.Time // last successful poll that covered it (zero: never read)
	OKAt    time.Time // last poll that found it OK
	InsufAt time.Time // last poll that found it INSUFFICIENT_DATA
}

// Readings is what the observer knows about one deployment's guards.
type Readings struct {
	Alarms   map[string]Alarm
	AlarmErr string // error of the last alarm poll; empty when it succeeded
	// AlarmsDelayed, ServiceDelayed and TargetsDelayed: the last read of that kind ran out of time
	// waiting for the daemon's own API budget (a burst): the guard is delayed, not unreadable, so it
	// blocks progress but is not stale.
	AlarmsDelayed, ServiceDelayed, TargetsDelayed bool

	Service        deploy.ECSService
	ServicePresent bool
	ServiceAt      time.Time // last successful DescribeServices covering it
	ServiceGoodAt  time.Time // last reading that found it present
	ServiceErr     string
	ServiceEvery   time.Duration // the cadence the ECS service is read at

	Targets      []deploy.Target
	TargetsAt    time.Time // last successful DescribeTargetHealth
	TargetsErr   string
	TargetsEvery time.Duration // the cadence target health is read at (its health-check interval)
}

// Spec says what guards one deployment and how to read them.
type Spec struct {
	Alarms           []string
	InsufficientData deploy.InsufficientData
	StaleAfter       time.Duration
	// Health: the new slot's ECS service and targets are guards too (false before the slot exists).
	Health bool
	// Acknowledged alarms were forced through while in ALARM: while they stay out of OK they neither
	// trigger nor block (see deploy.Deployment.ForcedAlarms).
	Acknowledged map[string]bool
}

// Verdict is Evaluate's judgement at one moment.
type Verdict struct {
	// Trigger is set when a guard says roll back (an alarm in ALARM, or INSUFFICIENT_DATA read as
	// alarm, or ECS reporting the new deployment failed).
	Trigger *rollback.Trigger
	// Fresh: every guard's latest reading is good and newer than the time asked about.
	Fresh bool
	// Waiting names the guards without such a reading.
	Waiting []string
	// Stale names the guards without a good reading for longer than StaleAfter, with what went wrong.
	Stale []string
}

// Evaluate judges r for spec at now. since is the time fresh readings must be newer than (the start of
// the current bake); watchedFrom is when guarding began, so a guard that was never read is stale only
// StaleAfter after that.
func Evaluate(spec Spec, r Readings, since, watchedFrom, now time.Time) Verdict {
	var v Verdict
	staleAfter := spec.StaleAfter
	if staleAfter <= 0 {
		staleAfter = deploy.DefaultGuardStaleAfter
	}
	// checkWithin records a guard that has no good reading newer than since (waiting) or none at all
	// for longer than within (stale).
	checkWithin := func(name string, latestGood bool, readAt, goodAt time.Time, why string, within time.Duration, delayed bool) {
		if !latestGood || !readAt.After(since) {
			v.Waiting = append(v.Waiting, name)
		}
		if delayed {
			return
		}
		base := goodAt
		if base.Before(watchedFrom) {
			base = watchedFrom
		}
		if now.Sub(base) > within {
			v.Stale = append(v.Stale, fmt.Sprintf("%s (no good reading for %s: %s)", name, now.Sub(base).Round(time.Second), why))
		}
	}
	check := func(name string, latestGood bool, readAt, goodAt time.Time, why string) {
		checkWithin(name, latestGood, readAt, goodAt, why, staleAfter, r.AlarmsDelayed)
	}
	var firing []string
	detail := map[string]string{}
	for _, n := range spec.Alarms {
		a, ok := r.Alarms[n]
		name := "alarm " + n
		switch {
		case !ok || a.ReadAt.IsZero() || a.ReadAt.Before(watchedFrom):
			// (A reading from before this deployment was guarded, for another one, is not evidence:
			// the create check has read the alarm since.)
			check(name, false, time.Time{}, time.Time{}, orWhy(r.AlarmErr, "not read yet"))
			continue
		case !a.Present:
			check(name, false, a.ReadAt, lastGood(a, spec.InsufficientData), "CloudWatch does not return it (deleted or renamed?)")
			continue
		}
		st := a.State.State
		if spec.Acknowledged[n] && st != "OK" {
			check(name, true, a.ReadAt, a.ReadAt, "acknowledged")
			continue
		}
		if st == "ALARM" || (st == "INSUFFICIENT_DATA" && spec.InsufficientData == deploy.InsufficientAlarm) {
			firing = append(firing, n)
			detail["alarm:"+n] = st
			detail["alarm_reason:"+n] = a.State.Reason
		}
		good := st == "OK" || (st == "INSUFFICIENT_DATA" && spec.InsufficientData == deploy.InsufficientOK)
		why := "in " + st
		if r.AlarmErr != "" {
			why = r.AlarmErr
		}
		check(name, good, a.ReadAt, lastGood(a, spec.InsufficientData), why)
	}
	if len(firing) > 0 {
		sort.Strings(firing)
		t := rollback.Trigger{Cause: deploy.CauseAlarm, Reason: fmt.Sprintf("alarm %s in %s", strings.Join(firing, ", "), alarmWord(detail, firing)),
			ObservedAt: now, Detail: detail}
		v.Trigger = &t
	}
	if spec.Health {
		if r.ServicePresent {
			if t, failed := rollback.ECSFailure(r.Service, now); failed && v.Trigger == nil {
				v.Trigger = &t
			}
		}
		checkWithin("ECS service", r.ServicePresent && !r.ServiceAt.IsZero(), r.ServiceAt, r.ServiceGoodAt, orWhy(r.ServiceErr, "service missing"),
			max(staleAfter, 2*r.ServiceEvery), r.ServiceDelayed)
		// Target health is read at its target group's cadence: a reading is stale only when two of
		// those have been missed (or guard_stale_after, whichever is longer).
		checkWithin("target health", !r.TargetsAt.IsZero(), r.TargetsAt, r.TargetsAt, orWhy(r.TargetsErr, "not read yet"),
			max(staleAfter, 2*r.TargetsEvery), r.TargetsDelayed)
	}
	v.Fresh = len(v.Waiting) == 0 && v.Trigger == nil
	return v
}

func lastGood(a Alarm, meaning deploy.InsufficientData) time.Time {
	if meaning == deploy.InsufficientOK && a.InsufAt.After(a.OKAt) {
		return a.InsufAt
	}
	return a.OKAt
}

func alarmWord(detail map[string]string, firing []string) string {
	for _, n := range firing {
		if detail["alarm:"+n] != "ALARM" {
			return "ALARM or INSUFFICIENT_DATA (insufficient_data: alarm)"
		}
	}
	return "ALARM"
}

func orWhy(err, otherwise string) string {
	if err != "" {
		return err
	}
	return otherwise
}
