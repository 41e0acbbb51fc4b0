// Package rollback holds the triggers that take a release out of traffic (unhealthy targets, ECS
// failures, readiness) and the alarm checks of a create; pkg/guard reads and judges the guards.
package rollback

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// Trigger is a reason to roll back, with the moment it was observed (decision latency is measured from it).
type Trigger struct {
	Cause      deploy.Cause
	Reason     string
	ObservedAt time.Time
	Detail     map[string]string
}

// MissingAlarms lists names that CloudWatch did not return.
func MissingAlarms(names []string, states map[string]deploy.AlarmState) []string {
	var out []string
	for _, n := range names {
		if _, ok := states[n]; !ok {
			out = append(out, n)
		}
	}
	return out
}

// HealthTracker turns per-poll target health into a trigger: more than Max unhealthy new targets,
// continuously for longer than After. A single bad poll does not roll back a release; a sustained one does.
type HealthTracker struct {
	Max   int
	After time.Duration
	since time.Time // first poll of the current unhealthy streak; zero when healthy
}

// Observe records one poll and returns a trigger once the streak is long enough.
func (h *HealthTracker) Observe(targets []deploy.Target, now time.Time) (Trigger, bool) {
	var bad []string
	for _, t := range targets {
		if t.State == "unhealthy" || t.State == "unavailable" {
			bad = append(bad, fmt.Sprintf("%s:%d (%s)", t.ID, t.Port, t.Reason))
		}
	}
	if len(bad) <= h.Max {
		h.since = time.Time{}
		return Trigger{}, false
	}
	if h.since.IsZero() {
		h.since = now
	}
	if now.Sub(h.since) < h.After {
		return Trigger{}, false
	}
	sort.Strings(bad)
	return Trigger{
		Cause:      deploy.CauseUnhealthy,
		Reason:     fmt.Sprintf("%d new target(s) unhealthy for %s (tolerated %d): %s", len(bad), now.Sub(h.since).Round(time.Millisecond), h.Max, strings.Join(bad, ", ")),
		ObservedAt: now,
	}, true
}

// ECSFailure returns a trigger when ECS reports the new service's deployment failed.
func ECSFailure(svc deploy.ECSService, now time.Time) (Trigger, bool) {
	reason, failed := svc.Failed()
	if !failed {
		return Trigger{}, false
	}
	return Trigger{Cause: deploy.CauseECS, Reason: "ECS deployment failed: " + reason, ObservedAt: now}, true
}

// Ready reports whether the new slot can take traffic: its ECS service is stable on taskDef with desired
// tasks and at least desired healthy targets in its target group.
func Ready(svc deploy.ECSService, taskDef string, targets []deploy.Target) (bool, string) {
	if svc.TaskDefinition != taskDef {
		return false, "service not yet on the new task definition"
	}
	if !svc.Stable() {
		return false, fmt.Sprintf("service not stable: %d/%d running, %d pending, %d ECS deployment(s)", svc.RunningCount, svc.DesiredCount, svc.PendingCount, len(svc.Deployments))
	}
	healthy := 0
	var waiting []string
	for _, t := range targets {
		switch {
		case t.Healthy():
			healthy++
		case t.State != "draining": // draining targets are leaving and receive no new requests
			waiting = append(waiting, fmt.Sprintf("%s:%d %s", t.ID, t.Port, t.State))
		}
	}
	if healthy < svc.DesiredCount || len(waiting) > 0 {
		why := fmt.Sprintf("%d/%d targets healthy", healthy, svc.DesiredCount)
		if len(waiting) > 0 {
			why += "; not yet healthy: " + strings.Join(waiting, ", ")
		}
		return false, why
	}
	return true, ""
}
