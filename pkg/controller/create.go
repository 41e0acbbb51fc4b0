package controller

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"

	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/rollback"
	"github.com/switchyard/switchyard/pkg/shifter"
)

// Create validates a request, checks the image, the guards and the live traffic split, persists the
// deployment and starts it. Nothing is changed when it returns an error. AWS throttling makes it wait
// (within the request's context), never refuse.
func (c *Controller) Create(ctx context.Context, req deploy.CreateRequest) (*deploy.Deployment, error) {
	const op = "controller.Create"
	svc, ok := c.service(req.Service)
	if !ok {
		return nil, deploy.Errorf(op, deploy.KindNotFound, "unknown service %q", req.Service)
	}
	if err := deploy.ValidateTag(req.ImageTag); err != nil {
		return nil, err
	}
	if req.Force && strings.TrimSpace(req.Reason) == "" {
		return nil, deploy.Errorf(op, deploy.KindInvalid, "force needs a reason (it is written to the audit trail)")
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
	if _, err := c.plan(svc, req, steps); err != nil {
		return nil, err
	}
	if active, err := c.store.ActiveDeployment(ctx, svc.Name); err == nil {
		return nil, &deploy.Error{Op: op, Kind: deploy.KindConflict, ActiveID: active.ID,
			Message: "service " + svc.Name + " already has an active deployment " + active.ID}
	} else if deploy.KindOf(err) != deploy.KindNotFound {
		return nil, deploy.Wrap(op, "", err, "check active deployments")
	}
	image := svc.ImageRepository + ":" + req.ImageTag
	if err := c.checkImage(ctx, svc, req.ImageTag); err != nil {
		return nil, err
	}
	from, live, err := c.liveSlot(ctx, svc)
	if err != nil {
		return nil, err
	}
	forced, err := c.checkAlarms(ctx, svc, from.Other(), req.Force)
	if err != nil {
		return nil, err
	}
	for _, check := range c.o.Preflight {
		if err := check(ctx, svc); err != nil {
			return nil, deploy.Wrap(op, "", err, "preflight check failed")
		}
	}
	now := c.clock.Now().UTC()
	id, err := uuid.NewV7()
	if err != nil {
		return nil, deploy.Wrap(op, deploy.KindInternal, err, "generate id")
	}
	d := &deploy.Deployment{
		ID: id.String(), Service: svc.Name, Spec: svc, ImageTag: req.ImageTag, Image: image,
		Strategy: strategy, Steps: steps, State: deploy.StatePending, Step: -1,
		From: from, To: from.Other(), Weights: live, CreatedBy: req.Actor, ForcedAlarms: forced,
		CreatedAt: now, UpdatedAt: now, StartAt: utcPtr(req.StartAt),
	}
	leased, hold := c.leaseFor(ctx, d)
	if err := c.store.CreateDeployment(leased, d); err != nil {
		return nil, err
	}
	hold()
	ctx = c.fenced(ctx, d.ID)
	detail := map[string]string{"image": image, "strategy": string(strategy.Type), "steps": describeSteps(steps),
		"from": string(d.From), "to": string(d.To), "weights": d.Weights.String()}
	if d.StartAt != nil {
		detail["start_at"] = d.StartAt.Format(time.RFC3339)
	}
	if req.Force {
		detail["force"] = "true"
		detail["forced_alarms"] = strings.Join(forced, ",")
	}
	c.event(ctx, d, req.Actor, "create", req.Reason, detail)
	c.log.Info("deployment accepted", zap.String("deployment_id", d.ID), zap.String("service", d.Service),
		zap.String("image", image), zap.String("actor", req.Actor), zap.Bool("force", req.Force))
	out := *d
	c.launch(d, false)
	return &out, nil
}

func (c *Controller) checkImage(ctx context.Context, svc deploy.Service, tag string) error {
	const op = "controller.Create"
	if c.o.Images == nil {
		return nil
	}
	var exists, checked bool
	err := c.untilNotThrottled(ctx, func() (err error) {
		exists, checked, err = c.o.Images.TagExists(ctx, svc.ImageRepository, tag)
		return err
	})
	if err != nil {
		return deploy.Wrap(op, "", err, "check image "+svc.ImageRepository+":"+tag)
	}
	if checked && !exists {
		return deploy.Errorf(op, deploy.KindNotFound, "image tag %q not found in repository %s", tag, svc.ImageRepository)
	}
	return nil
}

// liveSlot returns the slot carrying all traffic, from the route cache when its reading is recent,
// else read live. The runner checks the weights again before it moves any.
func (c *Controller) liveSlot(ctx context.Context, svc deploy.Service) (deploy.Slot, deploy.Weights, error) {
	const op = "controller.Create"
	e := c.routes.get(svc.Name)
	routes := e.routes
	if e.err != nil || e.at.IsZero() || c.clock.Now().Sub(e.at) > 2*c.o.RouteRefresh {
		err := c.untilNotThrottled(ctx, func() (err error) {
			routes, err = c.shifter.Read(ctx, svc)
			return err
		})
		if err != nil {
			if deploy.KindOf(err) == deploy.KindNotFound {
				// A missing listener or rule is a configuration problem, not an unknown service.
				return "", deploy.Weights{}, deploy.Wrap(op, deploy.KindPrecondition, err, "a configured route of "+svc.Name+" does not exist")
			}
			return "", deploy.Weights{}, deploy.Wrap(op, "", err, "read live weights")
		}
		c.routes.put(svc.Name, routes, c.clock.Now())
	}
	if len(routes) == 0 {
		return "", deploy.Weights{}, deploy.Errorf(op, deploy.KindPrecondition, "service %s has no routes", svc.Name)
	}
	live, consistent := shifter.Common(routes)
	from, single := live.LiveSlot()
	if !consistent || !single {
		return "", deploy.Weights{}, deploy.Errorf(op, deploy.KindPrecondition,
			"traffic for %s is split (%s) and no active deployment explains it; set the weights to 100/0 first", svc.Name, describeRoutes(routes))
	}
	return from, live, nil
}

// checkAlarms refuses a deployment whose guards are missing (a misnamed alarm would never fire) or
// already firing; with force, firing alarms are acknowledged and returned.
func (c *Controller) checkAlarms(ctx context.Context, svc deploy.Service, to deploy.Slot, force bool) ([]string, error) {
	const op = "controller.Create"
	names := svc.AlarmsFor(to)
	if len(names) == 0 {
		return nil, nil
	}
	var states map[string]deploy.AlarmState
	err := c.untilNotThrottled(ctx, func() (err error) {
		states, err = c.o.Alarms.AlarmStates(ctx, names)
		return err
	})
	if err != nil {
		return nil, deploy.Wrap(op, "", err, "read guarding alarms")
	}
	if missing := rollback.MissingAlarms(names, states); len(missing) > 0 {
		return nil, deploy.Errorf(op, deploy.KindPrecondition, "guarding alarm(s) %s do not exist in CloudWatch; the release would be unguarded", strings.Join(missing, ", "))
	}
	var firing []string
	for _, n := range names {
		st := states[n].State
		if st == "ALARM" || (st == "INSUFFICIENT_DATA" && svc.InsufficientData == deploy.InsufficientAlarm) {
			firing = append(firing, n+" ("+st+")")
		}
	}
	sort.Strings(firing)
	if len(firing) > 0 && !force {
		return nil, deploy.Errorf(op, deploy.KindGuardFiring, "guarding alarm(s) %s already firing; fix them first, or repeat with force and a reason", strings.Join(firing, ", "))
	}
	for i, f := range firing {
		firing[i] = f[:strings.LastIndex(f, " (")]
	}
	return firing, nil
}

// untilNotThrottled runs f again while AWS throttles it, backing off, until ctx ends.
func (c *Controller) untilNotThrottled(ctx context.Context, f func() error) error {
	delay := 100 * time.Millisecond
	for {
		err := f()
		if deploy.KindOf(err) != deploy.KindThrottled {
			return err
		}
		wake, stop := c.clock.After(delay)
		select {
		case <-ctx.Done():
			stop()
			return deploy.Wrap("controller.Create", deploy.KindTimeout, err, "still throttled when the request ended")
		case <-wake:
		}
		delay = min(2*delay, 2*time.Second)
	}
}
