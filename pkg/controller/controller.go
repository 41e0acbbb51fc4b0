// Package controller runs deployments: a persisted state machine per deployment (pending, preparing,
// shifting, paused, finalizing, then succeeded, or rolling_back then rolled_back), in the manner of
// argo-rollouts' canary reconciler. Every transition is written to the store before the side effect it
// announces, so that a restart can explain, resume or roll back whatever it finds.
package controller

import (
	"context"
	"errors"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"

	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/metrics"
	"github.com/switchyard/switchyard/pkg/rollback"
	"github.com/switchyard/switchyard/pkg/shifter"
)

// Options wires a Controller.
type Options struct {
	Store      deploy.Store
	Router     deploy.TrafficRouter
	Containers deploy.Containers
	Alarms     deploy.Alarms
	Images     deploy.Images  // optional: without it, tags are not checked against a registry
	Scaling    deploy.Scaling // optional: without it, auto scaling is not handed over after a release
	Services   map[string]deploy.Service
	// PollInterval paces alarm polls, health checks and readiness waits (default 1s).
	PollInterval time.Duration
	// RecoveryRollback makes a restart roll back every deployment that had moved traffic, instead of
	// resuming it (see docs/recovery.md).
	RecoveryRollback bool
	// Preflight checks run before a deployment is accepted (for example the Terraform drift guard).
	Preflight []func(ctx context.Context, svc deploy.Service) error
	// RetryBackoff is the first pause after a failed phase; it doubles up to 50 times this (default 100ms).
	RetryBackoff time.Duration
	Log          *zap.Logger
	Metrics      *metrics.Metrics
	Now          func() time.Time
}

// Controller accepts deployment requests and runs them.
type Controller struct {
	o       Options
	store   deploy.Store
	shifter *shifter.Shifter
	monitor *rollback.Monitor
	log     *zap.Logger

	mu       sync.Mutex
	services map[string]deploy.Service
	runners  map[string]*runner
	ctx      context.Context // set by Start; runners live as long as it
	wg       sync.WaitGroup
	// recovering counts unfinished deployments found at start whose reconciliation has not finished.
	recovering atomic.Int64

	liveMu sync.Mutex
	live   map[string]liveEntry // by deployment id: weights read for Get
}

// New validates o and returns a Controller. Call Start before creating deployments.
func New(o Options) (*Controller, error) {
	if o.Store == nil || o.Router == nil || o.Containers == nil || o.Alarms == nil {
		return nil, errors.New("controller: Store, Router, Containers and Alarms are required")
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	if o.RetryBackoff <= 0 {
		o.RetryBackoff = 100 * time.Millisecond
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	c := &Controller{
		o:        o,
		store:    o.Store,
		shifter:  shifter.New(o.Router),
		monitor:  rollback.NewMonitor(o.Alarms, o.PollInterval, o.Log.Named("alarms")),
		log:      o.Log,
		services: copyServices(o.Services),
		runners:  map[string]*runner{},
		live:     map[string]liveEntry{},
	}
	if o.PollInterval < 50*time.Millisecond*4 {
		c.shifter.VerifyInterval = o.PollInterval / 4
	}
	return c, nil
}

// Start recovers every unfinished deployment (see recover) and starts the alarm monitor. Runners stop
// when ctx ends, leaving their records for the next start; Wait waits for them.
func (c *Controller) Start(ctx context.Context) error {
	c.mu.Lock()
	c.ctx = ctx
	c.mu.Unlock()
	go c.monitor.Run(ctx)
	active, err := c.store.ListDeployments(ctx, deploy.ListFilter{ActiveOnly: true, Limit: 1000})
	if err != nil {
		return deploy.Wrap("controller.Start", "", err, "list unfinished deployments")
	}
	c.recovering.Add(int64(len(active)))
	for _, d := range active {
		c.log.Info("recovering unfinished deployment", zap.String("deployment_id", d.ID),
			zap.String("service", d.Service), zap.String("state", string(d.State)))
		c.launch(d, true)
	}
	return nil
}

// Recovered reports whether every deployment found unfinished at start has been reconciled with the
// live weights (resumed or rolling back); until then the daemon is not ready.
func (c *Controller) Recovered() bool { return c.recovering.Load() == 0 }

// Wait blocks until every runner has stopped (after Start's context ends).
func (c *Controller) Wait() { c.wg.Wait() }

// SetServices replaces the service configuration (config reload). In-flight deployments keep the
// specification they started with.
func (c *Controller) SetServices(s map[string]deploy.Service) {
	c.mu.Lock()
	c.services = copyServices(s)
	c.mu.Unlock()
}

func copyServices(s map[string]deploy.Service) map[string]deploy.Service {
	out := make(map[string]deploy.Service, len(s))
	for k, v := range s {
		out[k] = v
	}
	return out
}

func (c *Controller) service(name string) (deploy.Service, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.services[name]
	return s, ok
}

// Create validates a request, checks the image and the live traffic split, persists the deployment and
// starts it. Nothing is changed when it returns an error.
func (c *Controller) Create(ctx context.Context, req deploy.CreateRequest) (*deploy.Deployment, error) {
	const op = "controller.Create"
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
	if active, err := c.store.ListDeployments(ctx, deploy.ListFilter{Service: svc.Name, ActiveOnly: true, Limit: 1}); err != nil {
		return nil, deploy.Wrap(op, "", err, "check active deployments")
	} else if len(active) > 0 {
		return nil, &deploy.Error{Op: op, Kind: deploy.KindConflict, ActiveID: active[0].ID,
			Message: "service " + svc.Name + " already has an active deployment " + active[0].ID}
	}
	image := svc.ImageRepository + ":" + req.ImageTag
	if c.o.Images != nil {
		exists, checked, err := c.o.Images.TagExists(ctx, svc.ImageRepository, req.ImageTag)
		if err != nil {
			return nil, deploy.Wrap(op, "", err, "check image "+image)
		}
		if checked && !exists {
			return nil, deploy.Errorf(op, deploy.KindNotFound, "image tag %q not found in repository %s", req.ImageTag, svc.ImageRepository)
		}
	}
	live, consistent, routes, err := c.shifter.Live(ctx, svc)
	if err != nil {
		if deploy.KindOf(err) == deploy.KindNotFound {
			// A missing listener or rule is a configuration problem, not an unknown service.
			return nil, deploy.Wrap(op, deploy.KindPrecondition, err, "a configured route of "+svc.Name+" does not exist")
		}
		return nil, deploy.Wrap(op, "", err, "read live weights")
	}
	from, single := live.LiveSlot()
	if !consistent || !single {
		return nil, deploy.Errorf(op, deploy.KindPrecondition,
			"traffic for %s is split (%s) and no active deployment explains it; set the weights to 100/0 first", svc.Name, describeRoutes(routes))
	}
	// A misnamed alarm would never fire: every guarding alarm must exist before traffic moves.
	if names := svc.AlarmsFor(from.Other()); len(names) > 0 {
		states, err := c.o.Alarms.AlarmStates(ctx, names)
		if err != nil {
			return nil, deploy.Wrap(op, "", err, "read guarding alarms")
		}
		if missing := rollback.MissingAlarms(names, states); len(missing) > 0 {
			return nil, deploy.Errorf(op, deploy.KindPrecondition, "guarding alarm(s) %s do not exist in CloudWatch; the release would be unguarded", strings.Join(missing, ", "))
		}
	}
	for _, check := range c.o.Preflight {
		if err := check(ctx, svc); err != nil {
			return nil, deploy.Wrap(op, "", err, "preflight check failed")
		}
	}
	now := c.o.Now().UTC()
	id, err := uuid.NewV7()
	if err != nil {
		return nil, deploy.Wrap(op, deploy.KindInternal, err, "generate id")
	}
	d := &deploy.Deployment{
		ID: id.String(), Service: svc.Name, Spec: svc, ImageTag: req.ImageTag, Image: image,
		Strategy: strategy, Steps: steps, State: deploy.StatePending, Step: -1,
		From: from, To: from.Other(), Weights: live, CreatedBy: req.Actor,
		CreatedAt: now, UpdatedAt: now,
	}
	if err := c.store.CreateDeployment(ctx, d); err != nil {
		return nil, err
	}
	c.event(ctx, d, req.Actor, "create", req.Reason, map[string]string{
		"image": image, "strategy": string(strategy.Type), "steps": describeSteps(steps),
		"from": string(d.From), "to": string(d.To), "weights": d.Weights.String()})
	c.log.Info("deployment accepted", zap.String("deployment_id", d.ID), zap.String("service", d.Service),
		zap.String("image", image), zap.String("actor", req.Actor))
	out := *d
	c.launch(d, false)
	return &out, nil
}

// launch starts a runner for d on the controller's context.
func (c *Controller) launch(d *deploy.Deployment, recovering bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ctx := c.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	r := newRunner(c, d)
	c.runners[d.ID] = r
	if c.o.Metrics != nil {
		c.o.Metrics.ActiveDeploys.Set(float64(len(c.runners)))
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		r.run(ctx, recovering)
		c.mu.Lock()
		delete(c.runners, d.ID)
		if c.o.Metrics != nil {
			c.o.Metrics.ActiveDeploys.Set(float64(len(c.runners)))
		}
		c.mu.Unlock()
	}()
}

// Get returns a deployment with its guarding alarms' last polled states.
func (c *Controller) Get(ctx context.Context, id string) (*deploy.Deployment, error) {
	d, err := c.store.GetDeployment(ctx, id)
	if err != nil {
		return nil, err
	}
	if d.State.Active() {
		// The ALB's own view, so that an operator never has to trust the record alone.
		if live, err := c.liveWeights(ctx, d); err == nil {
			d.Live = live
		} else {
			c.log.Warn("live weights unavailable", zap.String("deployment_id", d.ID), zap.Error(err))
		}
		names := d.Spec.AlarmsFor(d.To)
		states := c.monitor.States(names)
		for _, n := range names {
			st, ok := states[n]
			if !ok {
				st = deploy.AlarmState{Name: n, State: "UNKNOWN"}
			}
			d.Guard = append(d.Guard, st)
		}
	}
	return d, nil
}

// liveWeights reads a deployment's routes from the ALB, at most once per poll interval: watchers poll
// deployments often, and their reads share the ELBv2 request quota with the runners' own.
func (c *Controller) liveWeights(ctx context.Context, d *deploy.Deployment) ([]deploy.RouteWeights, error) {
	c.liveMu.Lock()
	e, ok := c.live[d.ID]
	c.liveMu.Unlock()
	if ok && time.Since(e.at) < c.o.PollInterval {
		return e.routes, nil
	}
	routes, err := c.shifter.Read(ctx, d.Spec)
	if err != nil {
		return nil, err
	}
	c.liveMu.Lock()
	for id, old := range c.live { // keep the cache small: drop entries nobody read for a while
		if time.Since(old.at) > time.Minute {
			delete(c.live, id)
		}
	}
	c.live[d.ID] = liveEntry{at: time.Now(), routes: routes}
	c.liveMu.Unlock()
	return routes, nil
}

type liveEntry struct {
	at     time.Time
	routes []deploy.RouteWeights
}

// List returns deployments, newest first.
func (c *Controller) List(ctx context.Context, f deploy.ListFilter) ([]*deploy.Deployment, error) {
	if f.Service != "" {
		if _, ok := c.service(f.Service); !ok {
			return nil, deploy.Errorf("controller.List", deploy.KindNotFound, "unknown service %q", f.Service)
		}
	}
	return c.store.ListDeployments(ctx, f)
}

// Events returns a deployment's audit events after afterSeq.
func (c *Controller) Events(ctx context.Context, id string, afterSeq int64) ([]deploy.Event, error) {
	if _, err := c.store.GetDeployment(ctx, id); err != nil {
		return nil, err
	}
	return c.store.Events(ctx, id, afterSeq)
}

// Services lists every configured service with the weights read live from the ALB.
func (c *Controller) Services(ctx context.Context) ([]deploy.ServiceStatus, error) {
	c.mu.Lock()
	svcs := make([]deploy.Service, 0, len(c.services))
	for _, s := range c.services {
		svcs = append(svcs, s)
	}
	c.mu.Unlock()
	sort.Slice(svcs, func(i, j int) bool { return svcs[i].Name < svcs[j].Name })
	out := make([]deploy.ServiceStatus, 0, len(svcs))
	for _, s := range svcs {
		st := deploy.ServiceStatus{Name: s.Name, Cluster: s.Cluster, ECSServices: s.ECSServices, TargetGroups: s.TargetGroups}
		live, consistent, routes, err := c.shifter.Live(ctx, s)
		if err != nil {
			st.Error = deploy.MessageOf(err)
		} else {
			st.Routes = routes
			if slot, ok := live.LiveSlot(); ok && consistent {
				st.LiveSlot = slot
			}
		}
		active, err := c.store.ListDeployments(ctx, deploy.ListFilter{Service: s.Name, ActiveOnly: true, Limit: 1})
		if err != nil {
			return nil, err
		}
		if len(active) > 0 {
			st.Active = active[0].ID
		}
		out = append(out, st)
	}
	return out, nil
}

// Abort rolls a deployment back.
func (c *Controller) Abort(ctx context.Context, req deploy.ActionRequest) (*deploy.Deployment, error) {
	return c.command(ctx, cmdAbort, req)
}

// Pause holds a deployment's weights where they are (it stays guarded).
func (c *Controller) Pause(ctx context.Context, req deploy.ActionRequest) (*deploy.Deployment, error) {
	return c.command(ctx, cmdPause, req)
}

// Resume continues a paused deployment; the current step's bake starts again.
func (c *Controller) Resume(ctx context.Context, req deploy.ActionRequest) (*deploy.Deployment, error) {
	return c.command(ctx, cmdResume, req)
}

// Promote skips the remaining steps and moves all traffic to the new release.
func (c *Controller) Promote(ctx context.Context, req deploy.ActionRequest) (*deploy.Deployment, error) {
	return c.command(ctx, cmdPromote, req)
}

func (c *Controller) command(ctx context.Context, kind cmdKind, req deploy.ActionRequest) (*deploy.Deployment, error) {
	op := "controller." + string(kind)
	d, err := c.store.GetDeployment(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	if d.State.Terminal() {
		return nil, deploy.Errorf(op, deploy.KindPrecondition, "deployment %s is already %s", d.ID, d.State)
	}
	c.mu.Lock()
	r := c.runners[req.ID]
	c.mu.Unlock()
	if r == nil {
		return nil, deploy.Errorf(op, deploy.KindUnavailable, "deployment %s is not running in this daemon; retry shortly", d.ID)
	}
	reply := make(chan cmdResult, 1)
	select {
	case r.cmds <- command{kind: kind, req: req, reply: reply}:
	case <-r.done:
		return nil, deploy.Errorf(op, deploy.KindPrecondition, "deployment %s finished before the command arrived", d.ID)
	case <-ctx.Done():
		return nil, deploy.Wrap(op, deploy.KindTimeout, ctx.Err(), "deployment busy")
	}
	// Once delivered, the command is applied: wait for its answer whatever the caller's context says, so
	// that a slow store write is not reported as a failure of a command that took effect.
	res := <-reply
	return res.d, res.err
}

// event appends an audit event; a failure to record it is logged, never hidden.
func (c *Controller) event(ctx context.Context, d *deploy.Deployment, actor, action, reason string, detail map[string]string) {
	if actor == "" {
		actor = deploy.ActorController
	}
	e := &deploy.Event{DeploymentID: d.ID, Service: d.Service, Time: c.o.Now().UTC(), Actor: actor,
		Action: action, State: d.State, Reason: reason, Detail: detail}
	if err := c.store.AppendEvent(context.WithoutCancel(ctx), e); err != nil {
		c.log.Error("audit event not recorded", zap.Error(err), zap.String("deployment_id", d.ID), zap.String("action", action))
	}
}

func describeRoutes(routes []deploy.RouteWeights) string {
	parts := make([]string, len(routes))
	for i, r := range routes {
		parts[i] = r.Route.String() + ": " + r.Weights.String()
	}
	return strings.Join(parts, "; ")
}

func describeSteps(steps []deploy.Step) string {
	parts := make([]string, len(steps))
	for i, s := range steps {
		parts[i] = s.String()
	}
	return strings.Join(parts, ", ")
}
