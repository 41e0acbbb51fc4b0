package controller

import (
	"context"
	"strings"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/schedule"
)

// DryRun answers what Create would do with req, in time: the timeline of every step's start, weights
// and bake given the calendar, the service's window, the freezes and the step timings, and where it
// would hold or be refused. It reads nothing from AWS and changes nothing.
func (c *Controller) DryRun(ctx context.Context, req deploy.CreateRequest) (*deploy.DryRun, error) {
	const op = "controller.DryRun"
	svc, ok := c.service(req.Service)
	if !ok {
		return nil, deploy.Errorf(op, deploy.KindNotFound, "unknown service %q", req.Service)
	}
	if err := deploy.ValidateTag(req.ImageTag); err != nil {
		return nil, err
	}
	strategy := svc.Strategy
	if req.Strategy != nil {
		strategy = *req.Strategy
	}
	steps, err := strategy.Plan()
	if err != nil {
		return nil, err
	}
	if steps, err = c.analysisSteps(svc, steps); err != nil {
		return nil, err
	}
	out, err := c.timeline(svc, req, steps)
	if err != nil {
		return nil, err
	}
	out.ImageTag = req.ImageTag
	return out, nil
}

// timeline computes the dry run of steps for svc from req.StartAt (or now).
func (c *Controller) timeline(svc deploy.Service, req deploy.CreateRequest, steps []deploy.Step) (*deploy.DryRun, error) {
	w, err := c.window(svc)
	if err != nil {
		return nil, err
	}
	start := c.clock.Now()
	if req.StartAt != nil && req.StartAt.After(start) {
		start = *req.StartAt
	}
	entries := schedule.Timeline(start, deploy.ScheduleSteps(steps), w, svc.StepTimeouts())
	refused := len(entries) > 0 && entries[len(entries)-1].Kind == schedule.EntryRefused
	return &deploy.DryRun{Service: svc.Name, Zone: w.Location().String(), Window: w.String(), Steps: steps,
		Timeline: entries, Refused: refused, Text: schedule.Render(entries, w.Location())}, nil
}

// plan refuses, before anything is stored, a deployment whose timeline cannot finish: a step with no
// opening of its window within the horizon, or a start in the past.
func (c *Controller) plan(svc deploy.Service, req deploy.CreateRequest, steps []deploy.Step) (*deploy.DryRun, error) {
	const op = "controller.Create"
	if req.StartAt != nil && req.StartAt.Before(c.clock.Now().Add(-time.Minute)) {
		return nil, deploy.Errorf(op, deploy.KindInvalid, "start_at %s is in the past", req.StartAt.Format(time.RFC3339))
	}
	dr, err := c.timeline(svc, req, steps)
	if err != nil {
		return nil, err
	}
	if dr.Refused {
		last := dr.Timeline[len(dr.Timeline)-1].Text
		return nil, deploy.Errorf(op, deploy.KindPrecondition, "%s (see the dry run: deploy --dry-run)", strings.TrimPrefix(last, "refused: "))
	}
	return dr, nil
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
