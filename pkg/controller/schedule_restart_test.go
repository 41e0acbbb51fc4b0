package controller

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/calendar"
	"github.com/switchyard/switchyard/pkg/clock"
	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/schedule"
)

// scheduleTrail is the actions of a schedule's audit trail.
func scheduleTrail(s *memStore, name string) []string {
	evs, _ := s.Events(context.Background(), deploy.ObjectAuditID(deploy.ObjectSchedule, name), 0)
	var out []string
	for _, e := range evs {
		out = append(out, e.Action)
	}
	return out
}

func premarket(policy schedule.Policy) schedule.Recurring {
	return schedule.Recurring{Name: "premarket", Service: "web", Cron: "15 7 * * 1-5", TZ: "America/New_York",
		Tags: `^v\d+\.\d+\.\d+$`, Policy: policy}
}

// onlySchedule is the one stored schedule, read by a controller.
func onlySchedule(t *testing.T, e *env) deploy.ScheduleRecord {
	t.Helper()
	s := e.c.Schedules()
	if len(s) != 1 {
		t.Fatalf("schedules %+v, want one", s)
	}
	return s[0]
}

// scheduledDeployments are the deployments a schedule created.
func scheduledDeployments(s *memStore) []*deploy.Deployment {
	ds, _ := s.ListDeployments(context.Background(), deploy.ListFilter{})
	var out []*deploy.Deployment
	for _, d := range ds {
		if strings.HasPrefix(d.CreatedBy, "schedule:") {
			out = append(out, d)
		}
	}
	return out
}

// A schedule that fired while another deployment was active and queued (policy queue) or waits
// (policy defer) is pending in the store: a daemon restarted before the active deployment ends starts
// it once that one ends, exactly once, with the tag chosen at the activation.
func TestPendingScheduleSurvivesARestart(t *testing.T) {
	for _, policy := range []schedule.Policy{schedule.PolicyQueue, schedule.PolicyDefer} {
		t.Run(string(policy), func(t *testing.T) {
			clk := vclock{clock.NewFake(et(2026, 12, 7, 7, 0)), t} // a Monday
			store, objs := newMemStore(), newMemObjects()
			e := scheduledEnv(t, clk.Fake, store, objs, nil, nil, nil, "")
			busy := e.create("v2", &deploy.Strategy{Type: deploy.StrategyCanary, CanaryPercent: 10, Bake: deploy.Duration(time.Hour)})
			if _, err := e.c.AddSchedule(context.Background(), "ops", premarket(policy)); err != nil {
				t.Fatal(err)
			}
			clk.until("the 07:15 activation", time.Minute, et(2026, 12, 7, 7, 30), func() bool { return onlySchedule(t, e).LastAction != "" })
			r := onlySchedule(t, e)
			if r.LastAction != string(policy) || !strings.Contains(r.LastReason, busy.ID) {
				t.Fatalf("activation: %+v, want %s naming %s", r, policy, busy.ID)
			}
			if pending := r.Queued != "" || r.Waiting; !pending {
				t.Fatalf("activation left nothing pending: %+v", r)
			}

			// Restart while it is pending; the new daemon recovers the busy deployment, which then ends.
			e.stop()
			clk.Advance(10 * time.Minute)
			e = scheduledEnv(t, clk.Fake, store, objs, e.router, e.ecs, e.alarms, "")
			clk.until("recovered", 10*time.Millisecond, et(2026, 12, 7, 7, 45), func() bool { return e.c.Recovered() })
			if r := onlySchedule(t, e); r.Queued != onlyQueued(policy, "v1.3.0") || r.Waiting != (policy == schedule.PolicyDefer) {
				t.Fatalf("after the restart the schedule is %+v, want it still pending", r)
			}
			clk.until("a few polls", time.Minute, et(2026, 12, 7, 7, 50), func() bool { return !clk.Now().Before(et(2026, 12, 7, 7, 48)) })
			if ds := scheduledDeployments(store); len(ds) != 0 {
				t.Fatalf("deployed %s while %s was still active", ds[0].ImageTag, busy.ID)
			}
			if _, err := e.c.Abort(context.Background(), deploy.ActionRequest{ID: busy.ID, Actor: "ops"}); err != nil {
				t.Fatal(err)
			}
			clk.until("the pending deployment", 10*time.Millisecond, et(2026, 12, 7, 8, 0), func() bool { return onlySchedule(t, e).LastID != "" })
			ds := scheduledDeployments(store)
			if len(ds) != 1 || ds[0].ImageTag != "v1.3.0" || ds[0].CreatedBy != "schedule:premarket" || ds[0].ID != onlySchedule(t, e).LastID {
				t.Fatalf("scheduled deployments %v, want exactly one of v1.3.0 by schedule:premarket", tags(ds))
			}
			if got, want := scheduleTrail(store, "premarket"), []string{"schedule.create", "schedule." + string(policy), "schedule.deploy"}; !slices.Equal(got, want) {
				t.Fatalf("schedule audit trail %v, want %v", got, want)
			}
		})
	}
}

func onlyQueued(p schedule.Policy, tag string) string {
	if p == schedule.PolicyQueue {
		return tag
	}
	return ""
}

func tags(ds []*deploy.Deployment) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.ID+"="+d.ImageTag+" by "+d.CreatedBy)
	}
	return out
}

// A schedule deferred to a freeze's end (07:40) whose daemon is down across that time deploys once
// when the daemon is back (07:50), not twice and not never; one that is back before the freeze ends
// waits for it.
func TestDeferredScheduleFiresAfterARestart(t *testing.T) {
	freezeEnd := et(2026, 12, 7, 7, 40)
	for _, c := range []struct {
		name    string
		downFor time.Duration // from 07:20
	}{{"back before the freeze ends", 5 * time.Minute}, {"down across the retry time", 30 * time.Minute}} {
		t.Run(c.name, func(t *testing.T) {
			clk := vclock{clock.NewFake(et(2026, 12, 7, 7, 0)), t}
			store, objs := newMemStore(), newMemObjects()
			e := scheduledEnv(t, clk.Fake, store, objs, nil, nil, nil, "")
			if _, err := e.c.AddFreeze(context.Background(), "oncall", calendar.Freeze{Start: et(2026, 12, 7, 7, 0), End: freezeEnd, Reason: "vendor maintenance"}); err != nil {
				t.Fatal(err)
			}
			if _, err := e.c.AddSchedule(context.Background(), "ops", premarket(schedule.PolicyDefer)); err != nil {
				t.Fatal(err)
			}
			clk.until("07:20", time.Minute, et(2026, 12, 7, 7, 21), func() bool { return !clk.Now().Before(et(2026, 12, 7, 7, 20)) })
			if r := onlySchedule(t, e); r.LastAction != "defer" || r.RetryAt == nil || !r.RetryAt.Equal(freezeEnd) {
				t.Fatalf("activation: %+v, want deferred to %s", r, freezeEnd)
			}
			e.stop()
			clk.Advance(c.downFor)
			back := clk.Now()
			e = scheduledEnv(t, clk.Fake, store, objs, e.router, e.ecs, e.alarms, "")
			clk.until("the deferred deployment", time.Minute, et(2026, 12, 7, 8, 30), func() bool { return onlySchedule(t, e).LastID != "" })
			ds := scheduledDeployments(store)
			if len(ds) != 1 || ds[0].ImageTag != "v1.3.0" {
				t.Fatalf("scheduled deployments %v, want one of v1.3.0", tags(ds))
			}
			if at := ds[0].CreatedAt; at.Before(freezeEnd) || at.Before(back) || at.After(maxTime(freezeEnd, back).Add(2*time.Minute)) {
				t.Fatalf("deployed at %s, want at %s (the freeze's end or the restart, the later)", at.In(ny), maxTime(freezeEnd, back).In(ny))
			}
			if got, want := scheduleTrail(store, "premarket"), []string{"schedule.create", "schedule.defer", "schedule.deploy"}; !slices.Equal(got, want) {
				t.Fatalf("schedule audit trail %v, want %v", got, want)
			}
		})
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
