// Package apitest provides an in-memory stand-in for the deployment controller, for tests of the API,
// the client and the CLI. It implements api.Controller with simple, deterministic rules and lets a test
// script how a deployment progresses as it is polled.
package apitest

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// Stage is one scripted observation of a deployment: applied on a Get of that deployment.
type Stage struct {
	State   deploy.State
	Step    int
	Weights deploy.Weights
	Cause   deploy.Cause
	Events  []deploy.Event // appended to the deployment's log (Seq, DeploymentID, Service, Time filled in)
}

// Call records one mutating call, so tests can assert what the API passed through (actor, reason).
type Call struct {
	Method string
	ID     string
	Actor  string
	Reason string
	Create *deploy.CreateRequest
}

// Controller is the fake. Zero value is not usable; use New.
type Controller struct {
	mu          sync.Mutex
	now         time.Time
	services    map[string]deploy.Service
	deployments map[string]*deploy.Deployment
	order       []string // creation order
	events      map[string][]deploy.Event
	scripts     map[string][]Stage
	seq         int64
	calls       []Call
	setServices int

	// Fail, when set, is returned by every method (to test error mapping).
	Fail error
}

// New returns a fake that knows the given services (all with blue live at 100%).
func New(services ...string) *Controller {
	c := &Controller{
		now:         time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		services:    map[string]deploy.Service{},
		deployments: map[string]*deploy.Deployment{},
		events:      map[string][]deploy.Event{},
		scripts:     map[string][]Stage{},
	}
	for _, s := range services {
		c.services[s] = deploy.Service{Name: s, Strategy: deploy.Strategy{Type: deploy.StrategyCanary, CanaryPercent: 10}}
	}
	return c
}

func (c *Controller) tick() time.Time {
	c.now = c.now.Add(time.Second)
	return c.now
}

// Calls returns the recorded mutating calls.
func (c *Controller) Calls() []Call {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Call(nil), c.calls...)
}

// SetServicesCalls returns how many times SetServices was called.
func (c *Controller) SetServicesCalls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.setServices
}

// Script queues stages for deployment id; each subsequent Get applies the next one.
func (c *Controller) Script(id string, stages ...Stage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.scripts[id] = append(c.scripts[id], stages...)
}

// Put stores d as is (for history and status tests).
func (c *Controller) Put(d deploy.Deployment) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.deployments[d.ID]; !ok {
		c.order = append(c.order, d.ID)
	}
	c.deployments[d.ID] = &d
}

func (c *Controller) appendEvent(d *deploy.Deployment, e deploy.Event) {
	c.seq++
	e.Seq = c.seq
	e.DeploymentID = d.ID
	e.Service = d.Service
	if e.Time.IsZero() {
		e.Time = c.tick()
	}
	if e.State == "" {
		e.State = d.State
	}
	c.events[d.ID] = append(c.events[d.ID], e)
}

func (c *Controller) activeFor(service string) *deploy.Deployment {
	for _, id := range c.order {
		if d := c.deployments[id]; d.Service == service && d.State.Active() {
			return d
		}
	}
	return nil
}

func (c *Controller) Create(_ context.Context, req deploy.CreateRequest) (*deploy.Deployment, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := req
	c.calls = append(c.calls, Call{Method: "Create", Actor: req.Actor, Reason: req.Reason, Create: &r})
	if c.Fail != nil {
		return nil, c.Fail
	}
	svc, ok := c.services[req.Service]
	if !ok {
		return nil, deploy.Errorf("fake.Create", deploy.KindNotFound, "unknown service %q", req.Service)
	}
	if a := c.activeFor(req.Service); a != nil {
		return nil, &deploy.Error{Op: "fake.Create", Kind: deploy.KindConflict, ActiveID: a.ID,
			Message: fmt.Sprintf("service %s already has active deployment %s", req.Service, a.ID)}
	}
	st := svc.Strategy
	if req.Strategy != nil {
		st = *req.Strategy
	}
	steps, err := st.Plan()
	if err != nil {
		return nil, err
	}
	now := c.tick()
	d := &deploy.Deployment{
		ID: fmt.Sprintf("d-%d", len(c.order)+1), Service: req.Service, ImageTag: req.ImageTag,
		Image: "repo/" + req.Service + ":" + req.ImageTag, Strategy: st, Steps: steps, State: deploy.StatePending,
		Step: -1, From: deploy.SlotBlue, To: deploy.SlotGreen, Weights: deploy.AllOn(deploy.SlotBlue),
		Reason: req.Reason, CreatedBy: req.Actor, CreatedAt: now, UpdatedAt: now, Version: 1,
	}
	c.deployments[d.ID] = d
	c.order = append(c.order, d.ID)
	c.appendEvent(d, deploy.Event{Actor: req.Actor, Action: "create", Reason: req.Reason})
	cp := *d
	return &cp, nil
}

func (c *Controller) Get(_ context.Context, id string) (*deploy.Deployment, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.Fail != nil {
		return nil, c.Fail
	}
	d, ok := c.deployments[id]
	if !ok {
		return nil, deploy.Errorf("fake.Get", deploy.KindNotFound, "deployment %s not found", id)
	}
	if st := c.scripts[id]; len(st) > 0 {
		s := st[0]
		c.scripts[id] = st[1:]
		d.State, d.Step, d.Weights, d.Cause = s.State, s.Step, s.Weights, s.Cause
		d.UpdatedAt = c.tick()
		if d.State.Terminal() {
			t := d.UpdatedAt
			d.FinishedAt = &t
		}
		d.Version++
		for _, e := range s.Events {
			c.appendEvent(d, e)
		}
	}
	cp := *d
	return &cp, nil
}

func (c *Controller) List(_ context.Context, f deploy.ListFilter) ([]*deploy.Deployment, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.Fail != nil {
		return nil, c.Fail
	}
	var out []*deploy.Deployment
	for i := len(c.order) - 1; i >= 0; i-- { // newest first
		d := c.deployments[c.order[i]]
		if (f.Service != "" && d.Service != f.Service) || (f.ActiveOnly && !d.State.Active()) {
			continue
		}
		cp := *d
		out = append(out, &cp)
		if f.Limit > 0 && len(out) == f.Limit {
			break
		}
	}
	return out, nil
}

func (c *Controller) Events(_ context.Context, id string, after int64) ([]deploy.Event, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.Fail != nil {
		return nil, c.Fail
	}
	if _, ok := c.deployments[id]; !ok {
		return nil, deploy.Errorf("fake.Events", deploy.KindNotFound, "deployment %s not found", id)
	}
	var out []deploy.Event
	for _, e := range c.events[id] {
		if e.Seq > after {
			out = append(out, e)
		}
	}
	return out, nil
}

// act applies an operator action: it records the call, checks the state and appends an event.
func (c *Controller) act(method string, req deploy.ActionRequest, allowed func(*deploy.Deployment) bool, apply func(*deploy.Deployment)) (*deploy.Deployment, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, Call{Method: method, ID: req.ID, Actor: req.Actor, Reason: req.Reason})
	if c.Fail != nil {
		return nil, c.Fail
	}
	d, ok := c.deployments[req.ID]
	if !ok {
		return nil, deploy.Errorf("fake."+method, deploy.KindNotFound, "deployment %s not found", req.ID)
	}
	if !allowed(d) {
		return nil, deploy.Errorf("fake."+method, deploy.KindPrecondition, "cannot %s deployment %s in state %s", method, d.ID, d.State)
	}
	apply(d)
	d.UpdatedAt = c.tick()
	d.Version++
	c.appendEvent(d, deploy.Event{Actor: req.Actor, Action: method, Reason: req.Reason})
	cp := *d
	return &cp, nil
}

func active(d *deploy.Deployment) bool { return d.State.Active() }

func (c *Controller) Abort(_ context.Context, req deploy.ActionRequest) (*deploy.Deployment, error) {
	return c.act("abort", req, active, func(d *deploy.Deployment) {
		d.State, d.Cause, d.Reason = deploy.StateRollingBack, deploy.CauseAbort, req.Reason
	})
}

func (c *Controller) Pause(_ context.Context, req deploy.ActionRequest) (*deploy.Deployment, error) {
	return c.act("pause", req, func(d *deploy.Deployment) bool {
		return d.State == deploy.StateShifting || d.State == deploy.StatePending
	},
		func(d *deploy.Deployment) { d.PausedFrom, d.State = d.State, deploy.StatePaused })
}

func (c *Controller) Resume(_ context.Context, req deploy.ActionRequest) (*deploy.Deployment, error) {
	return c.act("resume", req, func(d *deploy.Deployment) bool { return d.State == deploy.StatePaused },
		func(d *deploy.Deployment) { d.State, d.PausedFrom = d.PausedFrom, "" })
}

func (c *Controller) Promote(_ context.Context, req deploy.ActionRequest) (*deploy.Deployment, error) {
	return c.act("promote", req, active, func(d *deploy.Deployment) { d.Promote = true })
}

func (c *Controller) Services(context.Context) ([]deploy.ServiceStatus, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.Fail != nil {
		return nil, c.Fail
	}
	names := make([]string, 0, len(c.services))
	for n := range c.services {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]deploy.ServiceStatus, 0, len(names))
	for _, n := range names {
		w := deploy.AllOn(deploy.SlotBlue)
		st := deploy.ServiceStatus{Name: n, Cluster: "main",
			ECSServices:  map[deploy.Slot]string{deploy.SlotBlue: n + "-blue", deploy.SlotGreen: n + "-green"},
			TargetGroups: map[deploy.Slot]string{deploy.SlotBlue: "tg-" + n + "-blue", deploy.SlotGreen: "tg-" + n + "-green"},
		}
		if a := c.activeFor(n); a != nil {
			st.Active = a.ID
			w = a.Weights
		}
		st.Routes = []deploy.RouteWeights{{Route: deploy.Route{ListenerARN: "arn:listener/" + n}, Weights: w}}
		if s, ok := w.LiveSlot(); ok {
			st.LiveSlot = s
		}
		out = append(out, st)
	}
	return out, nil
}

func (c *Controller) SetServices(m map[string]deploy.Service) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setServices++
	c.services = map[string]deploy.Service{}
	for k, v := range m {
		if v.Strategy.Type == "" {
			v.Strategy = deploy.Strategy{Type: deploy.StrategyCanary, CanaryPercent: 10}
		}
		c.services[k] = v
	}
}
