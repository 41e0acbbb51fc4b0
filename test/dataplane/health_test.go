package dataplane

import (
	"testing"
	"time"
)

// Interval 5 s (the ALB's minimum, which kumo accepts), scaled by 0.05 to 250 ms.
const scale = 0.05

var interval = time.Duration(float64(5*time.Second) * scale)

func TestHealthStatesFollowThresholds(t *testing.T) {
	w := newWorld(t)
	tg := w.targetGroup("tg-h-"+uniq(), hc{interval: 5, timeout: 2, healthy: 4, unhealthy: 3, dereg: 0})
	lb, listener := w.loadBalancer("alb-h-"+uniq(), tg)
	a := newApp(t, "a")
	p := w.start(scale, lb)
	url := p.ListenerURL(listener)
	w.register(tg, a)
	registered := time.Now()
	x := waitState(t, p, tg, a, "initial", 5*time.Second)
	if x.Reason != "Elb.InitialHealthChecking" && x.Reason != "Elb.RegistrationInProgress" {
		t.Fatalf("initial target reason %q", x.Reason)
	}
	waitState(t, p, tg, a, "healthy", 10*time.Second)
	// Healthy threshold 4: the first check comes within one interval, three more follow.
	if d := time.Since(registered); d < 3*interval {
		t.Fatalf("healthy after %s, before the healthy threshold (4 checks, %s apart) could pass", d, interval)
	}
	if code, colour := get(t, url+"/"); code != 200 || colour != "a" {
		t.Fatalf("healthy target: %d %q", code, colour)
	}
	a.health.Store(503)
	failed := time.Now()
	x = waitState(t, p, tg, a, "unhealthy", 10*time.Second)
	if d := time.Since(failed); d < 2*interval {
		t.Fatalf("unhealthy %s after the first failing answer, before 3 failed checks", d)
	}
	if x.Reason != "Target.ResponseCodeMismatch" || x.Description != "Health checks failed with these codes: [503]" {
		t.Fatalf("unhealthy reason %q %q", x.Reason, x.Description)
	}
	if st, _ := p.Stats(); st[tg].UnhealthyHosts != 1 || st[tg].HealthyHosts != 0 {
		t.Fatalf("host counts %+v", st[tg])
	}
	a.health.Store(200)
	waitState(t, p, tg, a, "healthy", 10*time.Second)
}

func TestInitialTargetGetsNoTrafficAndNeverHealthyBecomesUnhealthy(t *testing.T) {
	w := newWorld(t)
	tg := w.targetGroup("tg-i-"+uniq(), hc{interval: 5, timeout: 2, healthy: 3, unhealthy: 2, dereg: 0})
	lb, listener := w.loadBalancer("alb-i-"+uniq(), tg)
	good, bad := newApp(t, "good"), newApp(t, "bad")
	bad.health.Store(500)
	w.register(tg, good)
	p := w.start(scale, lb)
	waitState(t, p, tg, good, "healthy", 10*time.Second)
	w.register(tg, bad)
	waitState(t, p, tg, bad, "initial", 5*time.Second)
	got := counts(t, p.ListenerURL(listener)+"/", 200)
	x := waitState(t, p, tg, bad, "unhealthy", 10*time.Second)
	got2 := counts(t, p.ListenerURL(listener)+"/", 200)
	if got["good"] != 200 || got2["good"] != 200 || bad.served.Load() != 0 {
		t.Fatalf("initial/unhealthy target took traffic: %v then %v, bad served %d", got, got2, bad.served.Load())
	}
	if x.Reason != "Target.ResponseCodeMismatch" {
		t.Fatalf("reason %q", x.Reason)
	}
}

func TestFailOpenWhenNoTargetIsHealthy(t *testing.T) {
	w := newWorld(t)
	tg := w.targetGroup("tg-f-"+uniq(), hc{interval: 5, timeout: 2, healthy: 2, unhealthy: 2, dereg: 0})
	lb, listener := w.loadBalancer("alb-f-"+uniq(), tg)
	a, b := newApp(t, "a"), newApp(t, "b")
	w.register(tg, a, b)
	p := w.start(scale, lb)
	url := p.ListenerURL(listener)
	waitState(t, p, tg, a, "healthy", 10*time.Second)
	waitState(t, p, tg, b, "healthy", 10*time.Second)
	a.health.Store(500)
	b.health.Store(500)
	waitState(t, p, tg, a, "unhealthy", 10*time.Second)
	waitState(t, p, tg, b, "unhealthy", 10*time.Second)
	got := counts(t, url+"/", 100)
	if got["a"] == 0 || got["b"] == 0 || got["a"]+got["b"] != 100 {
		t.Fatalf("all targets unhealthy: want requests spread over all of them (fail open), got %v", got)
	}
	b.health.Store(200)
	waitState(t, p, tg, b, "healthy", 10*time.Second)
	if got := counts(t, url+"/", 100); got["b"] != 100 {
		t.Fatalf("one healthy target: want all requests on it, got %v", got)
	}
	st, err := p.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s := st[tg]; s.HealthyHosts != 1 || s.UnhealthyHosts != 1 {
		t.Fatalf("host counts %+v", s)
	}
}

func TestHealthCheckTimeout(t *testing.T) {
	w := newWorld(t)
	tg := w.targetGroup("tg-t-"+uniq(), hc{interval: 5, timeout: 2, healthy: 2, unhealthy: 2, dereg: 0})
	lb, _ := w.loadBalancer("alb-t-"+uniq(), tg)
	a := newApp(t, "a")
	w.register(tg, a)
	p := w.start(scale, lb)
	waitState(t, p, tg, a, "healthy", 10*time.Second)
	a.health.Store(hang)
	if x := waitState(t, p, tg, a, "unhealthy", 10*time.Second); x.Reason != "Target.Timeout" || x.Description != "Request timed out" {
		t.Fatalf("hanging health check: %+v", x)
	}
}
