package controller

import (
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/guard"
	"github.com/switchyard/switchyard/pkg/rollback"
)

// evaluation is one look at a deployment's guards.
type evaluation struct {
	verdict   guard.Verdict
	unhealthy *rollback.Trigger
}

func (e evaluation) trigger() *rollback.Trigger {
	if e.verdict.Trigger != nil {
		return e.verdict.Trigger
	}
	return e.unhealthy
}

// watch tells the observer what this deployment needs read: the new slot's ECS service and targets
// once its task definition exists, and with guard set its alarms too (from then on it may carry
// traffic).
func (r *runner) watch(withAlarms bool) {
	w := guard.Watch{Cluster: r.svc.Cluster}
	if r.d.TaskDef != "" {
		w.Service, w.TargetGroup = r.svc.ECSServices[r.d.To], r.svc.TargetGroups[r.d.To]
	}
	kind := "prepare"
	if withAlarms {
		w.Alarms, kind = r.svc.AlarmsFor(r.d.To), "guard"
	}
	key := kind + "|" + w.Service
	if r.watching == key {
		return
	}
	if withAlarms && r.watching[:min(len(r.watching), 5)] != "guard" {
		r.watchedFrom = r.now()
	}
	r.notify = r.c.obs.Watch(r.d.ID, w)
	r.watching = key
}

func (r *runner) unwatch() {
	if r.watching != "" {
		r.c.obs.Unwatch(r.d.ID)
		r.watching, r.notify = "", nil
	}
}

// guardSpec is what guards this deployment, from the specification it started with.
func (r *runner) guardSpec() guard.Spec {
	spec := guard.Spec{
		Alarms:           r.svc.AlarmsFor(r.d.To),
		InsufficientData: r.svc.InsufficientData,
		StaleAfter:       r.svc.GuardStaleAfter.D(),
		Health:           r.d.TaskDef != "",
	}
	if spec.StaleAfter <= 0 {
		spec.StaleAfter = deploy.DefaultGuardStaleAfter
	}
	if spec.InsufficientData == "" {
		spec.InsufficientData = deploy.InsufficientStale
	}
	for _, n := range r.d.ForcedAlarms {
		if !r.rearmed[n] {
			if spec.Acknowledged == nil {
				spec.Acknowledged = map[string]bool{}
			}
			spec.Acknowledged[n] = true
		}
	}
	return spec
}

// freshSince is the time the guards' readings must be newer than for the next step forward.
func (r *runner) freshSince() time.Time {
	d := r.d
	switch {
	case d.State == deploy.StateShifting && d.StepStartedAt != nil:
		return *d.StepStartedAt
	case d.State == deploy.StateFinalizing && d.ShiftedAt != nil:
		return *d.ShiftedAt
	}
	return r.phaseSince
}

// evaluate reads the observer's latest readings for this deployment and judges them.
func (r *runner) evaluate() (evaluation, guard.Readings) {
	rd := r.c.obs.Readings(r.d.ID)
	for _, n := range r.d.ForcedAlarms {
		if a, ok := rd.Alarms[n]; ok && a.Present && a.State.State == "OK" {
			r.rearmed[n] = true
		}
	}
	if r.d.TaskDef != "" && rd.TargetsAt.After(r.healthAt) {
		r.healthAt = rd.TargetsAt
		r.unhealthy = nil
		if t, bad := r.health.Observe(rd.Targets, rd.TargetsAt); bad {
			r.unhealthy = &t
		}
	}
	v := guard.Evaluate(r.guardSpec(), rd, r.freshSince(), r.watchedFrom, r.now())
	return evaluation{verdict: v, unhealthy: r.unhealthy}, rd
}
