package dataplane

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"os/exec"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

func TestDeregisteredTargetDrainsThenGoes(t *testing.T) {
	w := newWorld(t)
	const delay = 2 * time.Second
	tg := w.targetGroup("tg-d-"+uniq(), hc{interval: 5, timeout: 2, healthy: 2, unhealthy: 2, dereg: int(delay / time.Second)})
	lb, listener := w.loadBalancer("alb-d-"+uniq(), tg)
	old, next := newApp(t, "old"), newApp(t, "next")
	w.register(tg, old)
	p := w.start(scale, lb)
	url := p.ListenerURL(listener)
	waitState(t, p, tg, old, "healthy", 10*time.Second)
	// A request in flight on the old target when it is deregistered.
	inflight := make(chan error, 1)
	go func() {
		resp, err := client.Get(url + "/slow")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(b) != "old" {
				err = errors.New("in-flight request: " + resp.Status + " " + string(b))
			}
		}
		inflight <- err
	}()
	deadline := time.Now().Add(5 * time.Second)
	for old.served.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	w.register(tg, next)
	waitState(t, p, tg, next, "healthy", 10*time.Second)
	w.deregister(tg, old)
	deregistered := time.Now()
	x := waitState(t, p, tg, old, "draining", 5*time.Second)
	if x.Reason != "Target.DeregistrationInProgress" {
		t.Fatalf("draining reason %q", x.Reason)
	}
	if got := counts(t, url+"/", 50); got["next"] != 50 {
		t.Fatalf("draining target got new requests: %v", got)
	}
	close(old.release)
	if err := <-inflight; err != nil {
		t.Fatalf("in-flight request on the draining target: %v", err)
	}
	for gone := false; !gone; {
		gone = true
		for _, x := range p.TargetHealth(tg) {
			if x.ID == old.ip {
				gone = false
			}
		}
		if time.Since(deregistered) > delay+5*time.Second {
			t.Fatal("deregistered target still listed long after the deregistration delay")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if d := time.Since(deregistered); d < delay {
		t.Fatalf("target removed %s after deregistration, before the %s delay", d, delay)
	}
}

func TestStatsCountTargetAndProxyResponses(t *testing.T) {
	w := newWorld(t)
	tg := w.targetGroup("tg-s-"+uniq(), hc{interval: 5, timeout: 2, healthy: 2, unhealthy: 2, dereg: 0})
	lb, listener := w.loadBalancer("alb-s-"+uniq(), tg)
	a := newApp(t, "a")
	w.register(tg, a)
	p := w.start(scale, lb)
	url := p.ListenerURL(listener)
	waitState(t, p, tg, a, "healthy", 10*time.Second)
	for i := 0; i < 10; i++ {
		get(t, url+"/")
		get(t, url+"/delay")
		get(t, url+"/err")
	}
	// No target left: the proxy itself answers 503, which is the ALB's HTTPCode_ELB_5XX_Count.
	w.deregister(tg, a)
	for len(p.TargetHealth(tg)) > 0 {
		time.Sleep(10 * time.Millisecond)
	}
	for i := 0; i < 5; i++ {
		if code, _ := get(t, url+"/"); code != 503 {
			t.Fatalf("empty target group answered %d, want 503", code)
		}
	}
	var s TGStats
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		st, err := p.Stats()
		if err != nil {
			t.Fatal(err)
		}
		if s = st[tg]; s.Requests >= 35 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("%+v avg %s", s, s.AvgResponseTime())
	if s.Requests != 35 || s.Target2XX != 20 || s.Target5XX != 10 || s.ELB5XX != 5 || s.ResponseCount != 30 {
		t.Fatalf("stats %+v", s)
	}
	// 10 of 30 answers took 60 ms.
	if avg := s.AvgResponseTime(); avg < 18*time.Millisecond || avg > 60*time.Millisecond {
		t.Fatalf("average target response time %s, want about 20 ms", avg)
	}
	if s.LoadBalancerARN != lb {
		t.Fatalf("stats load balancer %q, want %q", s.LoadBalancerARN, lb)
	}
	if l := p.LoadBalancerStats()[lb]; l.Requests != 35 || l.ELB5XX != 5 {
		t.Fatalf("load balancer stats %+v", l)
	}
	p.Close()
	if _, err := p.Stats(); err == nil {
		t.Fatal("Stats after Close: no error")
	}
}

// TestWeightChangePropagation measures ModifyListener in kumo -> HAProxy routing by the new weights:
// all-blue and all-green alternate, so the first request served by the new colour marks the change.
func TestWeightChangePropagation(t *testing.T) {
	w, st, p, _, _ := demo(t)
	url := p.ListenerURL(st.Listener) + "/"
	const n = 40
	var ds []time.Duration
	for i := 0; i < n; i++ {
		want, weights := "green", []int32{0, 999}
		if i%2 == 1 {
			want, weights = "blue", []int32{999, 0}
		}
		// Changes land at a random phase of the sync loop, as a daemon's would.
		time.Sleep(time.Duration(rand.Int64N(int64(p.opts.SyncInterval))))
		start := time.Now()
		w.setListener(st.Listener, forward([]string{st.BlueTG, st.GreenTG}, weights...))
		for {
			if _, colour := get(t, url); colour == want {
				break
			}
			if time.Since(start) > 5*time.Second {
				t.Fatalf("change %d to %s not applied within 5s", i, want)
			}
		}
		ds = append(ds, time.Since(start))
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	med, p99 := ds[n/2], ds[(n*99+99)/100-1]
	t.Logf("weight change propagation over %d changes (sync interval %s): median %s, p99 %s, max %s",
		n, p.opts.SyncInterval, med.Round(time.Millisecond), p99.Round(time.Millisecond), ds[n-1].Round(time.Millisecond))
	if p99 > 4*p.opts.SyncInterval+500*time.Millisecond {
		t.Fatalf("p99 propagation %s, far above the sync interval %s", p99, p.opts.SyncInterval)
	}
}

func TestNewRuleReloadsAndKeepsHealth(t *testing.T) {
	w, st, p, _, green := demo(t)
	w.setListener(st.Listener, forward([]string{st.BlueTG, st.GreenTG}, 999, 0))
	green.health.Store(500)
	waitState(t, p, st.GreenTG, green, "unhealthy", 10*time.Second)
	if _, err := w.lb.CreateRule(w.ctx, &elb.CreateRuleInput{ListenerArn: aws.String(st.Listener), Priority: aws.Int32(5),
		Conditions: []elbtypes.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/green-only/*"}}},
		Actions:    forward([]string{st.GreenTG}, 1)}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for p.Reloads() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if p.Reloads() != 1 {
		t.Fatalf("reloads %d after a new rule", p.Reloads())
	}
	if err := p.WaitSync(w.ctx, 1); err != nil {
		t.Fatal(err)
	}
	// The new worker starts from the old one's server states: unhealthy stays unhealthy.
	if x := p.TargetHealth(st.GreenTG); len(x) != 1 || x[0].State != "unhealthy" {
		t.Fatalf("green after the reload: %+v", x)
	}
	if x := p.TargetHealth(st.BlueTG); len(x) != 1 || x[0].State != "healthy" {
		t.Fatalf("blue after the reload: %+v", x)
	}
	url := p.ListenerURL(st.Listener)
	if _, colour := get(t, url+"/green-only/x"); colour != "green" { // fail-open: green's only target
		t.Fatalf("new rule: served by %q", colour)
	}
	if _, colour := get(t, url+"/other"); colour != "blue" {
		t.Fatalf("default action after reload: served by %q", colour)
	}
	// Stats carry over the reload (they come from the request log, not the worker's counters).
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		s, _ := p.Stats()
		if s[st.GreenTG].Requests >= 1 && s[st.BlueTG].Requests >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stats after reload %+v", s)
		}
	}
	// Health checks run in the new worker.
	green.health.Store(200)
	waitState(t, p, st.GreenTG, green, "healthy", 10*time.Second)
}

func TestPrometheusExporterAndClose(t *testing.T) {
	w := newWorld(t)
	tg := w.targetGroup("tg-p-"+uniq(), hc{interval: 5, timeout: 2, healthy: 2, unhealthy: 2})
	lb, _ := w.loadBalancer("alb-p-"+uniq(), tg)
	p, err := Start(w.ctx, Options{ELBv2: w.lb, LoadBalancerARNs: []string{lb}, HealthScale: scale})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(p.PrometheusURL())
	if err != nil {
		p.Close()
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), "haproxy_backend_http_requests_total{proxy=\""+backendName(tg)+"\"}") {
		p.Close()
		t.Fatalf("exporter lacks the target group's backend:\n%.2000s", b)
	}
	pgid, dir := p.proc.cmd.Process.Pid, p.opts.Dir
	p.Close()
	// Workers reaped by the master leave no process in the group, not even a zombie, at once.
	if err := syscall.Kill(-pgid, 0); !errors.Is(err, syscall.ESRCH) {
		ps, _ := exec.Command("ps", "-eo", "pid,pgid,ppid,stat,cmd").CombinedOutput()
		t.Fatalf("HAProxy process group %d still there after Close: %v\n%s", pgid, err, ps)
	}
	if _, err := exec.Command("test", "-e", dir).CombinedOutput(); err == nil {
		t.Fatalf("Close left %s", dir)
	}
}

func TestMissingHAProxyFailsFast(t *testing.T) {
	w := newWorld(t)
	tg := w.targetGroup("tg-m-"+uniq(), hc{interval: 5, timeout: 2, healthy: 2, unhealthy: 2})
	lb, _ := w.loadBalancer("alb-m-"+uniq(), tg)
	ctx, cancel := context.WithTimeout(w.ctx, 5*time.Second)
	defer cancel()
	_, err := Start(ctx, Options{ELBv2: w.lb, LoadBalancerARNs: []string{lb}, HAProxy: "/nonexistent/haproxy"})
	if err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("Start without haproxy: %v", err)
	}
}

func TestReRegisteredDrainingTargetServesAgain(t *testing.T) {
	w := newWorld(t)
	tg := w.targetGroup("tg-r-"+uniq(), hc{interval: 5, timeout: 2, healthy: 2, unhealthy: 2, dereg: 60})
	lb, listener := w.loadBalancer("alb-r-"+uniq(), tg)
	a := newApp(t, "a")
	w.register(tg, a)
	p := w.start(scale, lb)
	waitState(t, p, tg, a, "healthy", 10*time.Second)
	w.deregister(tg, a)
	waitState(t, p, tg, a, "draining", 5*time.Second)
	if code, _ := get(t, p.ListenerURL(listener)+"/"); code != 503 {
		t.Fatalf("only target draining: %d, want the proxy's 503", code)
	}
	w.register(tg, a)
	waitState(t, p, tg, a, "healthy", 5*time.Second)
	if code, colour := get(t, p.ListenerURL(listener)+"/"); code != 200 || colour != "a" {
		t.Fatalf("re-registered target: %d %q", code, colour)
	}
}

func TestTargetGroupNoLongerForwardedToIsUnused(t *testing.T) {
	w := newWorld(t)
	tgA := w.targetGroup("tg-ua-"+uniq(), hc{interval: 5, timeout: 2, healthy: 2, unhealthy: 2})
	tgB := w.targetGroup("tg-ub-"+uniq(), hc{interval: 5, timeout: 2, healthy: 2, unhealthy: 2})
	lb, listener := w.loadBalancer("alb-u-"+uniq(), tgA)
	a, b := newApp(t, "a"), newApp(t, "b")
	w.register(tgA, a)
	w.register(tgB, b)
	p := w.start(scale, lb)
	waitState(t, p, tgA, a, "healthy", 10*time.Second)
	if _, ok := p.Health(tgB); ok {
		t.Fatal("a group no action forwards to is known to the plane")
	}
	w.setListener(listener, forward([]string{tgB}, 1))
	x := waitState(t, p, tgA, a, "unused", 10*time.Second)
	if x.Reason != "Target.NotInUse" {
		t.Fatalf("unused reason %q", x.Reason)
	}
	waitState(t, p, tgB, b, "healthy", 10*time.Second)
	if _, colour := get(t, p.ListenerURL(listener)+"/"); colour != "b" {
		t.Fatalf("served by %q after forwarding to B", colour)
	}
}
