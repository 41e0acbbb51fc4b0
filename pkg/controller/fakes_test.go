package controller

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// memStore is an in-memory deploy.Store with the same conflict semantics as the real stores.
type memStore struct {
	mu     sync.Mutex
	deps   map[string]deploy.Deployment
	events []deploy.Event
	seq    int64
	fail   error // returned by UpdateDeployment when set
	failed int   // UpdateDeployment calls answered with fail
}

func newMemStore() *memStore { return &memStore{deps: map[string]deploy.Deployment{}} }

func (s *memStore) CreateDeployment(_ context.Context, d *deploy.Deployment) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range s.deps {
		if o.Service == d.Service && o.State.Active() {
			return &deploy.Error{Op: "mem.Create", Kind: deploy.KindConflict, ActiveID: o.ID, Message: "active"}
		}
	}
	d.Version = 1
	s.deps[d.ID] = clone(d)
	return nil
}

func (s *memStore) UpdateDeployment(_ context.Context, d *deploy.Deployment) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		s.failed++
		return s.fail
	}
	o, ok := s.deps[d.ID]
	if !ok {
		return deploy.Errorf("mem.Update", deploy.KindNotFound, "no %s", d.ID)
	}
	if o.Version != d.Version {
		return deploy.Errorf("mem.Update", deploy.KindConflict, "stale version %d != %d", d.Version, o.Version)
	}
	d.Version++
	s.deps[d.ID] = clone(d)
	return nil
}

func (s *memStore) GetDeployment(_ context.Context, id string) (*deploy.Deployment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.deps[id]
	if !ok {
		return nil, deploy.Errorf("mem.Get", deploy.KindNotFound, "deployment %s not found", id)
	}
	c := clone(&d)
	return &c, nil
}

func (s *memStore) ActiveDeployment(_ context.Context, service string) (*deploy.Deployment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.deps {
		if d.Service == service && d.State.Active() {
			c := clone(&d)
			return &c, nil
		}
	}
	return nil, deploy.Errorf("mem.Active", deploy.KindNotFound, "no active deployment of %s", service)
}

func (s *memStore) ListDeployments(_ context.Context, f deploy.ListFilter) ([]*deploy.Deployment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*deploy.Deployment
	for _, d := range s.deps {
		if (f.Service == "" || d.Service == f.Service) && (!f.ActiveOnly || d.State.Active()) {
			c := clone(&d)
			out = append(out, &c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

func (s *memStore) AppendEvent(_ context.Context, e *deploy.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	e.Seq = s.seq
	s.events = append(s.events, *e)
	return nil
}

func (s *memStore) Events(_ context.Context, id string, after int64) ([]deploy.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []deploy.Event
	for _, e := range s.events {
		if e.DeploymentID == id && e.Seq > after {
			out = append(out, e)
		}
	}
	return out, nil
}

func (s *memStore) Close() error { return nil }

func (s *memStore) failedUpdates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failed
}

func (a *fakeAlarms) callCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.calls
}

// eventually waits until cond holds (the event a test expects), failing after limit.
func eventually(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (s *memStore) actions(id string) []string {
	evs, _ := s.Events(context.Background(), id, 0)
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Action
	}
	return out
}

func clone(d *deploy.Deployment) deploy.Deployment {
	c := *d
	c.Steps = append([]deploy.Step(nil), d.Steps...)
	if d.Intended != nil {
		w := *d.Intended
		c.Intended = &w
	}
	return c
}

// fakeRouter keeps weights per route and records every SetWeights.
type fakeRouter struct {
	mu      sync.Mutex
	weights map[deploy.Route]map[string]int
	sets    []map[string]int
	health  map[string][]deploy.Target
	setErr  error
	// lie makes read-back return the old weights this many times (eventual consistency).
	lie int
}

func newFakeRouter(routes []deploy.Route, blueTG, greenTG string) *fakeRouter {
	f := &fakeRouter{weights: map[deploy.Route]map[string]int{}, health: map[string][]deploy.Target{}}
	for _, r := range routes {
		f.weights[r] = map[string]int{blueTG: 999, greenTG: 0}
	}
	return f
}

func (f *fakeRouter) GetWeights(_ context.Context, r deploy.Route) (map[string]int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w, ok := f.weights[r]
	if !ok {
		return nil, deploy.Errorf("fake.Get", deploy.KindNotFound, "no route %s", r)
	}
	out := map[string]int{}
	for k, v := range w {
		out[k] = v
	}
	return out, nil
}

func (f *fakeRouter) ReadRoutes(ctx context.Context, routes []deploy.Route) (map[deploy.Route]map[string]int, error) {
	out := map[deploy.Route]map[string]int{}
	for _, r := range routes {
		w, err := f.GetWeights(ctx, r)
		if deploy.KindOf(err) == deploy.KindNotFound {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[r] = w
	}
	return out, nil
}

func (f *fakeRouter) HealthCheckInterval(context.Context, string) (time.Duration, error) {
	return 10 * time.Millisecond, nil
}

func (f *fakeRouter) SetWeights(_ context.Context, r deploy.Route, w map[string]int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.setErr != nil {
		return f.setErr
	}
	cp := map[string]int{}
	for k, v := range w {
		cp[k] = v
	}
	f.sets = append(f.sets, cp)
	f.weights[r] = cp
	return nil
}

func (f *fakeRouter) ForwardTo(_ context.Context, r deploy.Route, tg string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.setErr != nil {
		return f.setErr
	}
	f.weights[r] = map[string]int{tg: 1}
	return nil
}

func (f *fakeRouter) set(r deploy.Route, w map[string]int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.weights[r] = w
}

func (f *fakeRouter) TargetHealth(_ context.Context, tg string) ([]deploy.Target, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]deploy.Target(nil), f.health[tg]...), nil
}

func (f *fakeRouter) setHealth(tg string, ts ...deploy.Target) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.health[tg] = ts
}

func (f *fakeRouter) DeregistrationDelay(context.Context, string) (time.Duration, error) {
	return 20 * time.Millisecond, nil
}

// fakeECS simulates services that become stable as soon as they are updated, unless told to fail.
type fakeECS struct {
	mu       sync.Mutex
	services map[string]*deploy.ECSService
	images   map[string]string // task def -> image
	rev      int
	failNext string
	router   *fakeRouter
	tg       map[string]string // service -> target group
	updates  []string
}

func newFakeECS(router *fakeRouter) *fakeECS {
	return &fakeECS{services: map[string]*deploy.ECSService{}, images: map[string]string{}, router: router, tg: map[string]string{}}
}

func (e *fakeECS) seed(name, td, image string, desired int, tg string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.images[td] = image
	e.tg[name] = tg
	e.services[name] = &deploy.ECSService{Name: name, Status: "ACTIVE", TaskDefinition: td, DesiredCount: desired, RunningCount: desired,
		Deployments: []deploy.ECSDeployment{{ID: "d0", Status: "PRIMARY", RolloutState: "COMPLETED", TaskDefinition: td, DesiredCount: desired, RunningCount: desired}}}
	e.registerTargets(name, desired)
}

func (e *fakeECS) registerTargets(name string, n int) {
	var ts []deploy.Target
	for i := 0; i < n; i++ {
		ts = append(ts, deploy.Target{ID: fmt.Sprintf("10.0.%d.%d", len(name), i), Port: 8000, State: "healthy"})
	}
	e.router.setHealth(e.tg[name], ts...)
}

func (e *fakeECS) DescribeService(_ context.Context, cluster, name string) (deploy.ECSService, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.services[name]
	if !ok {
		return deploy.ECSService{}, deploy.Errorf("fake.Describe", deploy.KindNotFound, "no service %s", name)
	}
	c := *s
	c.Deployments = append([]deploy.ECSDeployment(nil), s.Deployments...)
	return c, nil
}

func (e *fakeECS) DescribeServices(ctx context.Context, cluster string, names []string) (map[string]deploy.ECSService, error) {
	out := map[string]deploy.ECSService{}
	for _, n := range names {
		s, err := e.DescribeService(ctx, cluster, n)
		if deploy.KindOf(err) == deploy.KindNotFound {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[n] = s
	}
	return out, nil
}

func (e *fakeECS) ContainerImage(_ context.Context, td, _ string) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.images[td], nil
}

func (e *fakeECS) RegisterTaskDefinition(_ context.Context, base, container, image string, tags map[string]string) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.images[base]; !ok {
		return "", deploy.Errorf("fake.Register", deploy.KindNotFound, "no task definition %s", base)
	}
	e.rev++
	td := fmt.Sprintf("arn:aws:ecs:us-east-1:123456789012:task-definition/web:%d", 100+e.rev)
	e.images[td] = image
	return td, nil
}

func (e *fakeECS) UpdateService(_ context.Context, cluster, name, td string, desired int) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.services[name]
	if !ok {
		return deploy.Errorf("fake.Update", deploy.KindNotFound, "no service %s", name)
	}
	e.updates = append(e.updates, fmt.Sprintf("%s td=%s n=%d", name, td, desired))
	if td != "" {
		s.TaskDefinition = td
	}
	s.DesiredCount = desired
	dep := deploy.ECSDeployment{ID: fmt.Sprintf("d%d", len(e.updates)), Status: "PRIMARY", RolloutState: "COMPLETED", TaskDefinition: s.TaskDefinition, DesiredCount: desired, RunningCount: desired}
	if e.failNext != "" && desired > 0 {
		dep.RolloutState, dep.RolloutReason, dep.RunningCount, dep.FailedTasks = "FAILED", e.failNext, 0, 2
		e.failNext = ""
		s.RunningCount = 0
		s.Deployments = []deploy.ECSDeployment{dep}
		return nil
	}
	s.RunningCount = desired
	s.Deployments = []deploy.ECSDeployment{dep}
	e.registerTargets(name, desired)
	return nil
}

// fakeAlarms returns states set by the test.
type fakeAlarms struct {
	mu     sync.Mutex
	states map[string]deploy.AlarmState
	calls  int
	names  [][]string
	err    error // returned by every AlarmStates call when set
}

func (a *fakeAlarms) AlarmStates(_ context.Context, names []string) (map[string]deploy.AlarmState, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls++
	a.names = append(a.names, append([]string(nil), names...))
	if a.err != nil {
		return nil, a.err
	}
	out := map[string]deploy.AlarmState{}
	for _, n := range names {
		if st, ok := a.states[n]; ok {
			out[n] = st
		}
	}
	return out, nil
}

func (a *fakeAlarms) fail(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.err = err
}

func (a *fakeAlarms) set(name, state string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.states[name] = deploy.AlarmState{Name: name, State: state, Reason: "test set " + state}
}

type fakeImages struct{ tags map[string]bool }

func (f fakeImages) TagExists(_ context.Context, repo, tag string) (bool, bool, error) {
	return f.tags[tag], true, nil
}

// fakeScaling keeps scalable targets by service name.
type fakeScaling struct {
	mu      sync.Mutex
	targets map[string]deploy.ScalableTarget
	sets    int
}

func (f *fakeScaling) GetScaling(_ context.Context, _, service string) (deploy.ScalableTarget, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.targets[service], nil
}

func (f *fakeScaling) SetScaling(_ context.Context, _, service string, t deploy.ScalableTarget) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sets++
	f.targets[service] = t
	return nil
}
