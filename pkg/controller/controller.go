// Package controller runs deployments: a persisted state machine per deployment (pending, preparing,
// shifting, paused, finalizing, then succeeded, or rolling_back then rolled_back), reconciled in the
// manner of argo-rollouts' canary reconciler: observations (guard readings and their freshness,
// operator commands, time) feed one decision function (decide.go) whose action is journalled before
// its side effect, so that a restart can explain, resume or roll back whatever it finds.
package controller

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"

	"github.com/switchyard/switchyard/pkg/analysis"
	"github.com/switchyard/switchyard/pkg/clock"
	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/guard"
	"github.com/switchyard/switchyard/pkg/lease"
	"github.com/switchyard/switchyard/pkg/metrics"
	"github.com/switchyard/switchyard/pkg/shifter"
)

// Options wires a Controller.
type Options struct {
	Store      deploy.Store
	Router     deploy.TrafficRouter
	Containers deploy.Containers
	Alarms     deploy.Alarms
	Images     deploy.Images // optional: without it, tags are not checked against a registry
	// Analysis runs the services' analyses; optional: without it, a service with an analysis block
	// cannot be deployed.
	Analysis *analysis.Engine
	// AnalysisCheckpoint paces the stores of a running analysis between verdict changes (default 15s).
	AnalysisCheckpoint time.Duration
	Scaling            deploy.Scaling // optional: without it, auto scaling is not handed over after a release
	Services           map[string]deploy.Service
	// PollInterval paces guard readings (alarms, ECS, readiness) and decisions (default 1s).
	PollInterval time.Duration
	// RouteRefresh paces the background read of every service's live weights that GET /v1/services
	// and the create check answer from (default 10 × PollInterval, at least 2s): one batched read of
	// every route (20 ARNs a call) per refresh.
	RouteRefresh time.Duration
	// RecoveryRollback makes a restart roll back every deployment that had moved traffic, instead of
	// resuming it (see docs/recovery.md).
	RecoveryRollback bool
	// Preflight checks run before a deployment is accepted (for example the Terraform drift guard).
	Preflight []func(ctx context.Context, svc deploy.Service) error
	// RetryBackoff is the first pause after a failed phase; it doubles up to 50 times this (default 100ms).
	RetryBackoff time.Duration
	Log          *zap.Logger
	Metrics      *metrics.Metrics
	// Clock is the one source of time (default the wall clock); Now, if set and Clock is not, overrides
	// only the time of day.
	Clock clock.Clock
	Now   func() time.Time
	// Calendar is the exchange calendar of the services' windows (default NYSE, no closures); Objects
	// stores freezes, closures and schedules (optional: without it they cannot be added).
	Calendar Calendar
	Objects  deploy.ObjectStore
	// Leases share the deployments among several daemons (leases.go); nil: this daemon runs them all.
	Leases *LeaseOptions
}

// Controller accepts deployment requests and runs them.
type Controller struct {
	o        Options
	store    deploy.Store
	shifter  *shifter.Shifter
	obs      *guard.Observer
	analysis *analysis.Engine
	clock    clock.Clock
	log      *zap.Logger
	routes   *routeCache
	live     liveReads
	cal      *calState
	sched    *scheduler

	mu       sync.Mutex
	services map[string]deploy.Service
	runners  map[string]*runner
	ctx      context.Context // set by Start; runners live as long as it
	wg       sync.WaitGroup
	// recovering counts unfinished deployments found at start whose reconciliation has not finished.
	recovering atomic.Int64

	leases   *lease.Manager // nil without leases
	cmdStore deploy.CommandStore
}

type nowClock struct {
	clock.Real
	now func() time.Time
}

func (c nowClock) Now() time.Time { return c.now() }

// New validates o and returns a Controller. Call Start before creating deployments.
func New(o Options) (*Controller, error) {
	if o.Store == nil || o.Router == nil || o.Containers == nil || o.Alarms == nil {
		return nil, errors.New("controller: Store, Router, Containers and Alarms are required")
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	if o.RouteRefresh <= 0 {
		o.RouteRefresh = max(10*o.PollInterval, 2*time.Second)
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	if o.AnalysisCheckpoint <= 0 {
		o.AnalysisCheckpoint = defaultAnalysisCheckpoint
	}
	if o.RetryBackoff <= 0 {
		o.RetryBackoff = 100 * time.Millisecond
	}
	if o.Clock == nil {
		if o.Now != nil {
			o.Clock = nowClock{now: o.Now}
		} else {
			o.Clock = clock.Real{}
		}
	}
	o.Now = o.Clock.Now
	if o.Leases != nil {
		// Every AWS side effect is checked against the runner's lease first (leases.go).
		o.Router, o.Containers = fencedRouter{o.Router}, fencedContainers{o.Containers}
		if o.Scaling != nil {
			o.Scaling = fencedScaling{o.Scaling}
		}
	}
	o.Router = newBatchReader(o.Router)
	cal, err := newCalState(o.Calendar)
	if err != nil {
		return nil, err
	}
	c := &Controller{
		cal:      cal,
		o:        o,
		store:    o.Store,
		shifter:  shifter.New(o.Router),
		analysis: o.Analysis,
		obs:      guard.NewObserver(o.Alarms, o.Containers, o.Router, o.PollInterval, o.Clock, o.Log.Named("guards")),
		clock:    o.Clock,
		log:      o.Log,
		services: copyServices(o.Services),
		runners:  map[string]*runner{},
		live:     liveReads{m: map[string]liveEntry{}},
	}
	c.routes = newRouteCache(o.Router, o.Clock, o.RouteRefresh, o.Log.Named("routes"))
	c.routes.set(c.services)
	if o.PollInterval < 50*time.Millisecond*4 {
		c.shifter.VerifyInterval = o.PollInterval / 4
	}
	if o.Leases != nil {
		c.newLeases(*o.Leases)
	}
	return c, nil
}

// Start recovers every unfinished deployment (see recover) and starts the guard observer and the
// route cache. A record the store cannot read back is quarantined: reported, its service kept locked,
// and everything else still runs. Runners stop when ctx ends, leaving their records for the next
// start; Wait waits for them.
func (c *Controller) Start(ctx context.Context) error {
	c.mu.Lock()
	c.ctx = ctx
	c.mu.Unlock()
	if err := c.loadCalendar(ctx); err != nil {
		return err
	}
	go c.obs.Run(ctx)
	go c.routes.run(ctx)
	if err := c.startSchedules(ctx); err != nil {
		return err
	}
	active, err := c.store.ListDeployments(ctx, deploy.ListFilter{ActiveOnly: true, Limit: deploy.MaxListLimit})
	if err != nil {
		return deploy.Wrap("controller.Start", "", err, "list unfinished deployments")
	}
	if c.leases != nil {
		return c.startLeased(ctx, active)
	}
	for _, d := range active {
		if d.Quarantine != "" {
			c.log.Error("deployment record quarantined: not run; its service stays locked until an operator fixes it",
				zap.String("deployment_id", d.ID), zap.String("service", d.Service), zap.String("problem", d.Quarantine))
			continue
		}
		c.recovering.Add(1)
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
	c.routes.set(s)
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

// launch starts a runner for d on the controller's context.
func (c *Controller) launch(d *deploy.Deployment, recovering bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ctx := c.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	r := newRunner(c, d)
	ctx, r.cancel = c.runnerContext(ctx, d.ID)
	r.fenceCtx = context.WithoutCancel(ctx)
	c.runners[d.ID] = r
	if c.o.Metrics != nil {
		c.o.Metrics.ActiveDeploys.Set(float64(len(c.runners)))
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		r.run(ctx, recovering)
		r.cancel()
		c.released(r.d)
		c.mu.Lock()
		delete(c.runners, d.ID)
		if c.o.Metrics != nil {
			c.o.Metrics.ActiveDeploys.Set(float64(len(c.runners)))
		}
		c.mu.Unlock()
	}()
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
	if d.Quarantine != "" {
		return nil, deploy.Errorf(op, deploy.KindPrecondition, "deployment %s is quarantined (%s): the daemon cannot read its record; see docs/recovery.md", d.ID, d.Quarantine)
	}
	if d.State.Terminal() {
		return nil, deploy.Errorf(op, deploy.KindPrecondition, "deployment %s is already %s", d.ID, d.State)
	}
	c.mu.Lock()
	r := c.runners[req.ID]
	c.mu.Unlock()
	if r == nil && c.leases != nil {
		return c.remoteCommand(ctx, kind, req)
	}
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
	// The id makes a retry of an append whose outcome was unknown store nothing twice.
	e := &deploy.Event{ID: uuid.NewString(), DeploymentID: d.ID, Service: d.Service, Time: c.clock.Now().UTC(), Actor: actor,
		Action: action, State: d.State, Reason: reason, Detail: detail}
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if err = c.store.AppendEvent(context.WithoutCancel(ctx), e); deploy.KindOf(err) != deploy.KindUnavailable {
			break
		}
		time.Sleep(time.Duration(50<<attempt) * time.Millisecond)
	}
	if err != nil {
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
