package dataplane

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/switchyard/switchyard/test/emulator"
)

func TestMain(m *testing.M) {
	code := m.Run()
	emulator.StopShared()
	os.Exit(code)
}

var (
	seq    atomic.Int64
	nextIP atomic.Int64
)

// uniq is a short unique suffix for resource names in the shared emulator.
func uniq() string { return fmt.Sprintf("%d%d", time.Now().UnixNano()%100000, seq.Add(1)) }

// app is a stand-in target: it answers with its name in X-Switchyard-Colour, its /healthz answers
// health (200 by default), /slow blocks until release is closed, /err answers 500, /delay waits delay.
type app struct {
	name    string
	ip      string
	port    int
	health  atomic.Int32
	served  atomic.Int64
	release chan struct{}
	srv     *http.Server
}

// newApp listens on its own loopback address: kumo keys registrations by target Id alone, so two
// targets of one group must differ in IP, not only in port.
func newApp(t *testing.T, name string) *app {
	t.Helper()
	n := nextIP.Add(1)
	ip := fmt.Sprintf("127.0.%d.%d", 10+n/250, n%250+1)
	l, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	a := &app{name: name, ip: ip, port: l.Addr().(*net.TCPAddr).Port, release: make(chan struct{})}
	a.health.Store(200)
	a.srv = &http.Server{Handler: http.HandlerFunc(a.serve)}
	go func() { _ = a.srv.Serve(l) }()
	t.Cleanup(func() { a.srv.Close() })
	return a
}

// hang as an app's health makes its /healthz answer nothing (until the checker gives up).
const hang = -1

func (a *app) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/healthz" {
		code := int(a.health.Load())
		if code == hang {
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
			return
		}
		w.WriteHeader(code)
		return
	}
	a.served.Add(1)
	w.Header().Set("X-Switchyard-Colour", a.name)
	switch r.URL.Path {
	case "/slow":
		<-a.release
	case "/err":
		w.WriteHeader(500)
	case "/delay":
		time.Sleep(60 * time.Millisecond)
	}
	_, _ = io.WriteString(w, a.name)
}

func (a *app) target() elbtypes.TargetDescription {
	return elbtypes.TargetDescription{Id: aws.String(a.ip), Port: aws.Int32(int32(a.port))}
}

type world struct {
	t   *testing.T
	ctx context.Context
	lb  *elb.Client
}

func newWorld(t *testing.T) *world {
	k := emulator.Shared(t)
	return &world{t: t, ctx: emulator.Context(t, 3*time.Minute), lb: elb.NewFromConfig(emulator.Config(k.URL))}
}

// hc is a target group's health-check configuration.
type hc struct {
	interval, timeout, healthy, unhealthy int32
	dereg                                 int
}

func (w *world) targetGroup(name string, h hc) string {
	w.t.Helper()
	out, err := w.lb.CreateTargetGroup(w.ctx, &elb.CreateTargetGroupInput{Name: aws.String(name), Protocol: elbtypes.ProtocolEnumHttp,
		Port: aws.Int32(8000), VpcId: aws.String("vpc-test"), TargetType: elbtypes.TargetTypeEnumIp, HealthCheckPath: aws.String("/healthz"),
		HealthCheckIntervalSeconds: aws.Int32(h.interval), HealthCheckTimeoutSeconds: aws.Int32(h.timeout),
		HealthyThresholdCount: aws.Int32(h.healthy), UnhealthyThresholdCount: aws.Int32(h.unhealthy)})
	if err != nil {
		w.t.Fatal(err)
	}
	arn := aws.ToString(out.TargetGroups[0].TargetGroupArn)
	if _, err := w.lb.ModifyTargetGroupAttributes(w.ctx, &elb.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(arn),
		Attributes: []elbtypes.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String(strconv.Itoa(h.dereg))}}}); err != nil {
		w.t.Fatal(err)
	}
	return arn
}

// loadBalancer creates an ALB with one listener forwarding to tg; it returns the ALB and listener ARNs.
func (w *world) loadBalancer(name, tg string) (string, string) {
	w.t.Helper()
	out, err := w.lb.CreateLoadBalancer(w.ctx, &elb.CreateLoadBalancerInput{Name: aws.String(name), Subnets: []string{"subnet-a", "subnet-b"},
		Type: elbtypes.LoadBalancerTypeEnumApplication})
	if err != nil {
		w.t.Fatal(err)
	}
	lbARN := aws.ToString(out.LoadBalancers[0].LoadBalancerArn)
	l, err := w.lb.CreateListener(w.ctx, &elb.CreateListenerInput{LoadBalancerArn: aws.String(lbARN), Protocol: elbtypes.ProtocolEnumHttp,
		Port: aws.Int32(80), DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(tg)}}})
	if err != nil {
		w.t.Fatal(err)
	}
	return lbARN, aws.ToString(l.Listeners[0].ListenerArn)
}

func (w *world) register(tg string, apps ...*app) {
	w.t.Helper()
	var ts []elbtypes.TargetDescription
	for _, a := range apps {
		ts = append(ts, a.target())
	}
	if _, err := w.lb.RegisterTargets(w.ctx, &elb.RegisterTargetsInput{TargetGroupArn: aws.String(tg), Targets: ts}); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) deregister(tg string, apps ...*app) {
	w.t.Helper()
	var ts []elbtypes.TargetDescription
	for _, a := range apps {
		ts = append(ts, a.target())
	}
	if _, err := w.lb.DeregisterTargets(w.ctx, &elb.DeregisterTargetsInput{TargetGroupArn: aws.String(tg), Targets: ts}); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) start(scale float64, lbs ...string) *Plane {
	w.t.Helper()
	p, err := Start(w.ctx, Options{ELBv2: w.lb, LoadBalancerARNs: lbs, HealthScale: scale, Dir: w.t.TempDir()})
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(p.Close)
	return p
}

// forward is a weighted forward action.
func forward(tgs []string, weights ...int32) []elbtypes.Action {
	var tuples []elbtypes.TargetGroupTuple
	for i, tg := range tgs {
		tuples = append(tuples, elbtypes.TargetGroupTuple{TargetGroupArn: aws.String(tg), Weight: aws.Int32(weights[i])})
	}
	return []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: &elbtypes.ForwardActionConfig{TargetGroups: tuples}}}
}

func (w *world) setListener(listener string, actions []elbtypes.Action) {
	w.t.Helper()
	if _, err := w.lb.ModifyListener(w.ctx, &elb.ModifyListenerInput{ListenerArn: aws.String(listener), DefaultActions: actions}); err != nil {
		w.t.Fatal(err)
	}
}

// waitState polls the plane until the target of a reports state, or fails the test at the deadline.
func waitState(t *testing.T, p *Plane, tg string, a *app, state string, within time.Duration) Target {
	t.Helper()
	deadline := time.Now().Add(within)
	var last Target
	for time.Now().Before(deadline) {
		for _, x := range p.TargetHealth(tg) {
			if x.ID == a.ip && int(x.Port) == a.port {
				last = x
				if x.State == state {
					return x
				}
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	out, _ := p.proc.cmd1("show stat -1 4 -1")
	t.Fatalf("target %s (%s) not %s within %s; last %+v (err %v)\n%s\nstderr: %s", a.name, a.ip, state, within, last, p.Err(), out, p.proc.stderr.String())
	return last
}

var client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

// get sends one request and returns the status and the serving colour ("" if the proxy answered).
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("X-Switchyard-Colour")
}

// counts sends n requests and counts responses by colour (status != 200 counts as "status:N").
func counts(t *testing.T, url string, n int) map[string]int {
	t.Helper()
	out := map[string]int{}
	for i := 0; i < n; i++ {
		code, colour := get(t, url)
		if code != 200 {
			colour = "status:" + strconv.Itoa(code)
		}
		out[colour]++
	}
	return out
}
