package rollback

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
)

func TestHealthTrackerNeedsSustainedStreak(t *testing.T) {
	h := HealthTracker{Max: 1, After: 3 * time.Second}
	t0 := time.Unix(1000, 0)
	bad := []deploy.Target{{ID: "a", State: "unhealthy"}, {ID: "b", State: "unhealthy"}, {ID: "c", State: "healthy"}}
	one := []deploy.Target{{ID: "a", State: "unhealthy"}, {ID: "b", State: "healthy"}}
	if _, ok := h.Observe(bad, t0); ok {
		t.Fatal("first bad poll must not trigger")
	}
	if _, ok := h.Observe(bad, t0.Add(2*time.Second)); ok {
		t.Fatal("streak shorter than After must not trigger")
	}
	if _, ok := h.Observe(one, t0.Add(2500*time.Millisecond)); ok {
		t.Fatal("within tolerance must not trigger")
	}
	if _, ok := h.Observe(bad, t0.Add(4*time.Second)); ok {
		t.Fatal("a healthy poll resets the streak")
	}
	tr, ok := h.Observe(bad, t0.Add(7*time.Second))
	if !ok || tr.Cause != deploy.CauseUnhealthy {
		t.Fatalf("sustained streak must trigger: %+v", tr)
	}
}

func TestECSFailureAndReady(t *testing.T) {
	svc := deploy.ECSService{TaskDefinition: "td2", DesiredCount: 2, RunningCount: 2,
		Deployments: []deploy.ECSDeployment{{Status: "PRIMARY", RolloutState: "COMPLETED", TaskDefinition: "td2", DesiredCount: 2, RunningCount: 2}}}
	if _, failed := ECSFailure(svc, time.Now()); failed {
		t.Fatal("completed is not failed")
	}
	healthy := []deploy.Target{{ID: "1", State: "healthy"}, {ID: "2", State: "healthy"}}
	if ok, why := Ready(svc, "td2", healthy); !ok {
		t.Fatal(why)
	}
	if ok, _ := Ready(svc, "td2", healthy[:1]); ok {
		t.Fatal("one healthy target of two is not ready")
	}
	if ok, why := Ready(svc, "td2", append(healthy, deploy.Target{ID: "3", Port: 8000, State: "unhealthy"})); ok || !strings.Contains(why, "3:8000 unhealthy") {
		t.Fatalf("an unhealthy extra target must hold readiness: %v %q", ok, why)
	}
	if ok, why := Ready(svc, "td2", append(healthy, deploy.Target{ID: "4", State: "draining"})); !ok {
		t.Fatalf("draining targets do not hold readiness: %s", why)
	}
	if ok, _ := Ready(svc, "td3", healthy); ok {
		t.Fatal("other task definition is not ready")
	}
	svc.Deployments = append(svc.Deployments, deploy.ECSDeployment{Status: "ACTIVE", TaskDefinition: "td1"})
	if ok, _ := Ready(svc, "td2", healthy); ok {
		t.Fatal("two ECS deployments is not stable")
	}
	svc.Deployments = []deploy.ECSDeployment{{ID: "e1", Status: "PRIMARY", RolloutState: "FAILED", RolloutReason: "circuit breaker"}}
	tr, failed := ECSFailure(svc, time.Now())
	if !failed || tr.Cause != deploy.CauseECS || tr.Reason != "ECS deployment failed: circuit breaker" {
		t.Fatalf("%+v", tr)
	}
}

type alarms struct {
	mu    sync.Mutex
	calls [][]string
	state map[string]string
}

func (a *alarms) AlarmStates(_ context.Context, names []string) (map[string]deploy.AlarmState, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, names)
	out := map[string]deploy.AlarmState{}
	for _, n := range names {
		out[n] = deploy.AlarmState{Name: n, State: a.state[n]}
	}
	return out, nil
}
