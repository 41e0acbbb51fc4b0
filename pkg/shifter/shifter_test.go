package shifter

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
)

type router struct {
	mu      sync.Mutex
	weights map[deploy.Route]map[string]int
	stale   int // read-backs that still return the previous weights
	prev    map[deploy.Route]map[string]int
	sets    int
	setErr  error
}

func (r *router) GetWeights(_ context.Context, rt deploy.Route) (map[string]int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stale > 0 && r.prev[rt] != nil {
		r.stale--
		return r.prev[rt], nil
	}
	return r.weights[rt], nil
}

func (r *router) ReadRoutes(ctx context.Context, rts []deploy.Route) (map[deploy.Route]map[string]int, error) {
	out := map[deploy.Route]map[string]int{}
	for _, rt := range rts {
		w, _ := r.GetWeights(ctx, rt)
		if w != nil {
			out[rt] = w
		}
	}
	return out, nil
}

func (r *router) HealthCheckInterval(context.Context, string) (time.Duration, error) {
	return time.Second, nil
}

func (r *router) SetWeights(_ context.Context, rt deploy.Route, w map[string]int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sets++
	if r.setErr != nil {
		return r.setErr
	}
	r.prev[rt] = r.weights[rt]
	r.weights[rt] = w
	return nil
}

func (r *router) ForwardTo(context.Context, deploy.Route, string) error              { return nil }
func (r *router) TargetHealth(context.Context, string) ([]deploy.Target, error)      { return nil, nil }
func (r *router) DeregistrationDelay(context.Context, string) (time.Duration, error) { return 0, nil }

var svc = deploy.Service{
	Name:         "web",
	TargetGroups: map[deploy.Slot]string{deploy.SlotBlue: "tg-b", deploy.SlotGreen: "tg-g"},
	Routes:       []deploy.Route{{ListenerARN: "l"}, {ListenerARN: "l", RuleARN: "r1"}, {ListenerARN: "l", RuleARN: "r2"}},
}

func newRouter() *router {
	r := &router{weights: map[deploy.Route]map[string]int{}, prev: map[deploy.Route]map[string]int{}}
	for _, rt := range svc.Routes {
		r.weights[rt] = map[string]int{"tg-b": 999, "tg-g": 0}
	}
	return r
}

func TestApplySetsEveryRouteAndVerifies(t *testing.T) {
	r := newRouter()
	r.stale = 4 // eventual consistency: the first read-backs still show the old split
	s := New(r)
	s.VerifyInterval = time.Millisecond
	sent := false
	s.OnSend = func() { sent = true }
	w := deploy.Split(deploy.SlotGreen, 25)
	if err := s.Apply(context.Background(), svc, w); err != nil {
		t.Fatal(err)
	}
	if r.sets != 3 || !sent {
		t.Fatalf("sets=%d sent=%v", r.sets, sent)
	}
	got, consistent, routes, err := s.Live(context.Background(), svc)
	if err != nil || !consistent || got != w || len(routes) != 3 {
		t.Fatalf("live %s consistent=%v err=%v", got, consistent, err)
	}
}

func TestApplyTimesOutWhenReadBackNeverMatches(t *testing.T) {
	r := newRouter()
	r.stale = 1 << 30
	s := New(r)
	s.VerifyInterval = time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	err := s.Apply(ctx, svc, deploy.Split(deploy.SlotGreen, 50))
	if deploy.KindOf(err) != deploy.KindTimeout {
		t.Fatalf("want timeout, got %v", err)
	}
}

func TestApplyRefusesInvalidWeightsWithoutCalling(t *testing.T) {
	r := newRouter()
	s := New(r)
	for _, w := range []deploy.Weights{{Blue: 1000}, {}, {Blue: -1, Green: 1}} {
		if err := s.Apply(context.Background(), svc, w); deploy.KindOf(err) != deploy.KindInvalid {
			t.Fatalf("%s: want invalid, got %v", w, err)
		}
	}
	if r.sets != 0 {
		t.Fatalf("invalid weights reached the ALB %d times", r.sets)
	}
}

func TestApplyReportsSetFailure(t *testing.T) {
	r := newRouter()
	r.setErr = deploy.Errorf("elbv2.ModifyListener", deploy.KindUnavailable, "throttled")
	err := New(r).Apply(context.Background(), svc, deploy.AllOn(deploy.SlotGreen))
	if deploy.KindOf(err) != deploy.KindUnavailable || !errors.Is(err, r.setErr) {
		t.Fatalf("got %v", err)
	}
}

func TestLiveDetectsDisagreementAndForeignTargetGroups(t *testing.T) {
	r := newRouter()
	r.weights[svc.Routes[2]] = map[string]int{"tg-b": 500, "tg-g": 499}
	_, consistent, _, err := New(r).Live(context.Background(), svc)
	if err != nil || consistent {
		t.Fatalf("consistent=%v err=%v", consistent, err)
	}
	r.weights[svc.Routes[2]] = map[string]int{"tg-b": 999, "tg-g": 0, "tg-other": 1}
	if _, _, _, err := New(r).Live(context.Background(), svc); deploy.KindOf(err) != deploy.KindPrecondition {
		t.Fatalf("foreign target group: want precondition, got %v", err)
	}
	r.weights[svc.Routes[2]] = map[string]int{"tg-x": 999}
	if _, _, _, err := New(r).Live(context.Background(), svc); deploy.KindOf(err) != deploy.KindPrecondition {
		t.Fatalf("unrelated route: want precondition, got %v", err)
	}
}
