package notify_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/clock"
	"github.com/switchyard/switchyard/pkg/controller"
	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/notify"
	"github.com/switchyard/switchyard/pkg/sqlite"
)

const (
	blueTG  = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg-blue/1"
	greenTG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg-green/2"
	lsn     = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/alb/1/2"
	baseTD  = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1"
)

// world is a minimal AWS for the controller: one listener, two ECS services that become stable as
// soon as they are updated, healthy targets, alarms set by the test.
type world struct {
	mu      sync.Mutex
	weights map[string]int
	svcs    map[string]*deploy.ECSService
	images  map[string]string
	rev     int
	alarms  map[string]string
}

func newWorld() *world {
	w := &world{weights: map[string]int{blueTG: 999, greenTG: 0}, svcs: map[string]*deploy.ECSService{},
		images: map[string]string{baseTD: "web:v1"}, alarms: map[string]string{"alarm-5xx": "OK"}}
	for name, n := range map[string]int{"svc-blue": 2, "svc-green": 0} {
		w.svcs[name] = &deploy.ECSService{Name: name, Status: "ACTIVE", TaskDefinition: baseTD, DesiredCount: n, RunningCount: n,
			Deployments: []deploy.ECSDeployment{{ID: "d0", Status: "PRIMARY", RolloutState: "COMPLETED", TaskDefinition: baseTD, DesiredCount: n, RunningCount: n}}}
	}
	return w
}

func (w *world) GetWeights(context.Context, deploy.Route) (map[string]int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return map[string]int{blueTG: w.weights[blueTG], greenTG: w.weights[greenTG]}, nil
}
func (w *world) ReadRoutes(ctx context.Context, rs []deploy.Route) (map[deploy.Route]map[string]int, error) {
	out := map[deploy.Route]map[string]int{}
	for _, r := range rs {
		out[r], _ = w.GetWeights(ctx, r)
	}
	return out, nil
}
func (w *world) SetWeights(_ context.Context, _ deploy.Route, m map[string]int) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for k, v := range m {
		w.weights[k] = v
	}
	return nil
}
func (w *world) ForwardTo(context.Context, deploy.Route, string) error { return nil }
func (w *world) TargetHealth(context.Context, string) ([]deploy.Target, error) {
	return []deploy.Target{{ID: "10.0.0.1", Port: 8000, State: "healthy"}, {ID: "10.0.0.2", Port: 8000, State: "healthy"}}, nil
}
func (w *world) DeregistrationDelay(context.Context, string) (time.Duration, error) {
	return 20 * time.Millisecond, nil
}
func (w *world) HealthCheckInterval(context.Context, string) (time.Duration, error) {
	return 10 * time.Millisecond, nil
}

func (w *world) DescribeService(_ context.Context, _, name string) (deploy.ECSService, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s, ok := w.svcs[name]
	if !ok {
		return deploy.ECSService{}, deploy.Errorf("fake", deploy.KindNotFound, "no service %s", name)
	}
	c := *s
	c.Deployments = append([]deploy.ECSDeployment(nil), s.Deployments...)
	return c, nil
}
func (w *world) DescribeServices(ctx context.Context, cluster string, names []string) (map[string]deploy.ECSService, error) {
	out := map[string]deploy.ECSService{}
	for _, n := range names {
		if s, err := w.DescribeService(ctx, cluster, n); err == nil {
			out[n] = s
		}
	}
	return out, nil
}
func (w *world) ContainerImage(_ context.Context, td, _ string) (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.images[td], nil
}
func (w *world) RegisterTaskDefinition(_ context.Context, _, _, image string, _ map[string]string) (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.rev++
	td := fmt.Sprintf("arn:aws:ecs:us-east-1:123456789012:task-definition/web:%d", 100+w.rev)
	w.images[td] = image
	return td, nil
}
func (w *world) UpdateService(_ context.Context, _, name, td string, n int) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.svcs[name]
	if td != "" {
		s.TaskDefinition = td
	}
	s.DesiredCount, s.RunningCount = n, n
	s.Deployments = []deploy.ECSDeployment{{ID: fmt.Sprint("d", w.rev, n), Status: "PRIMARY", RolloutState: "COMPLETED",
		TaskDefinition: s.TaskDefinition, DesiredCount: n, RunningCount: n}}
	return nil
}

func (w *world) AlarmStates(_ context.Context, names []string) (map[string]deploy.AlarmState, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[string]deploy.AlarmState{}
	for _, n := range names {
		if st, ok := w.alarms[n]; ok {
			out[n] = deploy.AlarmState{Name: n, State: st}
		}
	}
	return out, nil
}

func (w *world) setAlarm(name, state string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.alarms[name] = state
}

func startController(t *testing.T, s *sqlite.Store, w *world) *controller.Controller {
	t.Helper()
	svc := deploy.Service{
		Name: "web", Cluster: "ecs-test", Container: "app", ImageRepository: "web",
		ECSServices:  map[deploy.Slot]string{deploy.SlotBlue: "svc-blue", deploy.SlotGreen: "svc-green"},
		TargetGroups: map[deploy.Slot]string{deploy.SlotBlue: blueTG, deploy.SlotGreen: greenTG},
		Routes:       []deploy.Route{{ListenerARN: lsn}},
		Alarms:       []string{"alarm-5xx"},
		Strategy:     deploy.Strategy{Type: deploy.StrategyCanary, CanaryPercent: 10, Bake: deploy.Duration(time.Hour)},
		DeregDelay:   deploy.Duration(20 * time.Millisecond), ReadyTimeout: deploy.Duration(5 * time.Second),
		StepTimeout: deploy.Duration(2 * time.Second), UnhealthyAfter: deploy.Duration(time.Second),
	}
	c, err := controller.New(controller.Options{Store: s, Router: w, Containers: w, Alarms: w,
		Services: map[string]deploy.Service{"web": svc}, PollInterval: 10 * time.Millisecond, RetryBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); c.Wait() })
	return c
}

// rollbackOnce runs a canary to its 10% bake, fires the guarding alarm and returns how long the
// rollback took from the alarm to rolled_back, with ready called once the canary bakes.
func rollbackOnce(t *testing.T, s *sqlite.Store, ready func()) time.Duration {
	t.Helper()
	w := newWorld()
	c := startController(t, s, w)
	d, err := c.Create(context.Background(), deploy.CreateRequest{Service: "web", ImageTag: "v2", Actor: "tester"})
	if err != nil {
		t.Fatal(err)
	}
	state := func() *deploy.Deployment {
		got, err := s.GetDeployment(context.Background(), d.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	eventually(t, "the canary baking", 10*time.Second, func() bool {
		g := state()
		return g.State == deploy.StateShifting && g.StepStartedAt != nil
	})
	ready()
	start := time.Now()
	w.setAlarm("alarm-5xx", "ALARM")
	eventually(t, "the rollback", 10*time.Second, func() bool { return state().State == deploy.StateRolledBack })
	took := time.Since(start)
	if w.weights[blueTG] != 999 || w.weights[greenTG] != 0 {
		t.Fatalf("weights after the rollback: %v", w.weights)
	}
	return took
}

// A webhook that never answers (it blocks for as long as the test runs, minutes if need be) does not
// slow a rollback: the controller rolls back while the dispatcher's delivery is still inside the
// endpoint. The assertion is on the events (rolled_back stored while the first delivery has not
// returned), not on a timing; the durations with and without the dispatcher are printed.
func TestBlockedWebhookDoesNotSlowRollback(t *testing.T) {
	without := rollbackOnce(t, openStore(t), func() {})

	s := openStore(t)
	r := newReceiver(t, hookSecret, time.Now)
	release := make(chan struct{})
	r.block, r.inside = release, make(chan string, 64)
	defer close(release) // the endpoint answers only when the test is over
	d, err := notify.New(notify.Options{Events: s, Objects: s, Clock: clock.Real{},
		Sinks:        map[string]notify.Sink{"hook": notify.NewWebhook(r.srv.URL, notify.NewSecret([]byte(hookSecret)), nil, nil)},
		Routes:       []notify.Route{{Actions: []string{"*"}, Sinks: []string{"hook"}}},
		PollInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	stop := run(d)
	defer stop()
	var with time.Duration
	var first string
	with = rollbackOnce(t, s, func() {
		select {
		case first = <-r.inside: // the dispatcher is now stuck inside the endpoint
		case <-time.After(10 * time.Second):
			t.Fatal("the dispatcher never reached the webhook")
		}
	})
	// Still stuck: exactly one request arrived and none returned, yet the rollback completed.
	if got := r.deliveries(); len(got) != 1 || got[0].ID != first {
		t.Fatalf("deliveries while blocked: %d (want 1, the first, still in flight)", len(got))
	}
	t.Logf("alarm to rolled_back: %v without notifications, %v with a webhook blocked in its first delivery", without, with)
}
