package albmetrics

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/clock"
)

const (
	lbARN   = "arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/app/demo/50dc6c495c0c9188"
	blueARN = "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/blue/73e2d6bc24d8a067"
	greenTG = "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/green/09b3a7e1f1c2d4e5"
)

// fakeSource returns whatever the test last set.
type fakeSource struct {
	mu  sync.Mutex
	now map[string]Counters
	err error
}

func (f *fakeSource) set(m map[string]Counters) { f.mu.Lock(); f.now = m; f.mu.Unlock() }

func (f *fakeSource) source() (map[string]Counters, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]Counters, len(f.now))
	for k, v := range f.now {
		out[k] = v
	}
	return out, f.err
}

// recorder is a Sink that keeps every put, and can be told to fail.
type recorder struct {
	mu   sync.Mutex
	puts [][]Datum
	fail error
}

func (r *recorder) Put(_ context.Context, ns string, data []Datum) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ns != Namespace {
		return fmt.Errorf("namespace %q", ns)
	}
	if r.fail != nil {
		return r.fail
	}
	r.puts = append(r.puts, data)
	return nil
}

func (r *recorder) count() int { r.mu.Lock(); defer r.mu.Unlock(); return len(r.puts) }

// key renders a datum as "Metric{dims}@time=value" for comparison.
func key(d Datum) string {
	var dims []string
	for _, x := range d.Dimensions {
		dims = append(dims, x.Name+"="+x.Value)
	}
	v := d.Value
	if d.Stats != nil {
		v = d.Stats.Sum / d.Stats.SampleCount
	}
	return fmt.Sprintf("%s{%s}@%s=%g", d.MetricName, strings.Join(dims, ","), d.Timestamp.Format("15:04:05"), v)
}

func keys(data []Datum) []string {
	var out []string
	for _, d := range data {
		out = append(out, key(d))
	}
	sort.Strings(out)
	return out
}

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func newPub(t *testing.T, src *fakeSource, sink Sink, period time.Duration) *Publisher {
	t.Helper()
	p, err := New(Config{LoadBalancerARN: lbARN, Source: src.source, Sink: sink, Period: period})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPublishesPeriodDeltasAsTheALB(t *testing.T) {
	src, rec := &fakeSource{}, &recorder{}
	p := newPub(t, src, rec, time.Minute)
	ctx := context.Background()
	src.set(map[string]Counters{
		blueARN: {Requests: 1000, Target2XX: 990, Target5XX: 10, ResponseTimeSum: 50 * time.Second, Healthy: 2},
		greenTG: {Requests: 5, Target2XX: 5, ResponseTimeSum: time.Second, Healthy: 1, Unhealthy: 1},
	})
	if err := p.Tick(ctx, t0); err != nil { // baseline
		t.Fatal(err)
	}
	if rec.count() != 0 {
		t.Fatalf("the baseline sample published %v", rec.puts)
	}
	src.set(map[string]Counters{
		blueARN: {Requests: 1100, Target2XX: 1080, Target4XX: 5, Target5XX: 15, ResponseTimeSum: 60 * time.Second, Healthy: 2},
		greenTG: {Requests: 5, Target2XX: 5, ResponseTimeSum: time.Second, Healthy: 1, Unhealthy: 1, ELB5XX: 3},
	})
	if err := p.Tick(ctx, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if rec.count() != 1 {
		t.Fatalf("puts = %d, want 1", rec.count())
	}
	lb, blue, green := "LoadBalancer=app/demo/50dc6c495c0c9188", ",TargetGroup=targetgroup/blue/73e2d6bc24d8a067", ",TargetGroup=targetgroup/green/09b3a7e1f1c2d4e5"
	want := []string{
		"HTTPCode_ELB_5XX_Count{" + lb + "}@12:00:00=3",
		"HTTPCode_Target_2XX_Count{" + lb + "}@12:00:00=90",
		"HTTPCode_Target_2XX_Count{" + lb + blue + "}@12:00:00=90",
		"HTTPCode_Target_4XX_Count{" + lb + "}@12:00:00=5",
		"HTTPCode_Target_4XX_Count{" + lb + blue + "}@12:00:00=5",
		"HTTPCode_Target_5XX_Count{" + lb + "}@12:00:00=5",
		"HTTPCode_Target_5XX_Count{" + lb + blue + "}@12:00:00=5",
		// green had no requests: only its host counts, since requests flowed through the ALB
		"HealthyHostCount{" + lb + blue + "}@12:00:00=2",
		"HealthyHostCount{" + lb + green + "}@12:00:00=1",
		"RequestCount{" + lb + "}@12:00:00=100",
		"RequestCount{" + lb + blue + "}@12:00:00=100",
		"TargetResponseTime{" + lb + "}@12:00:00=0.1",
		"TargetResponseTime{" + lb + blue + "}@12:00:00=0.1",
		"UnHealthyHostCount{" + lb + blue + "}@12:00:00=0",
		"UnHealthyHostCount{" + lb + green + "}@12:00:00=1",
	}
	sort.Strings(want)
	got := keys(rec.puts[0])
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("datapoints:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, d := range rec.puts[0] {
		if d.StorageResolution != 60 {
			t.Fatalf("%s: a 60 s period is standard resolution, got %d", key(d), d.StorageResolution)
		}
	}
}

func TestNothingIsReportedWithoutRequests(t *testing.T) {
	src, rec := &fakeSource{}, &recorder{}
	p := newPub(t, src, rec, time.Second)
	ctx := context.Background()
	src.set(map[string]Counters{blueARN: {Requests: 7, Target2XX: 7, Healthy: 2}})
	for i := 0; i < 3; i++ {
		if err := p.Tick(ctx, t0.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if rec.count() != 0 {
		t.Fatalf("idle load balancer published %v", rec.puts)
	}
	src.set(map[string]Counters{blueARN: {Requests: 8, Target2XX: 8, Healthy: 2}})
	if err := p.Tick(ctx, t0.Add(3*time.Second)); err != nil {
		t.Fatal(err)
	}
	if rec.count() != 1 || rec.puts[0][0].StorageResolution != 1 || !rec.puts[0][0].Timestamp.Equal(t0.Add(2*time.Second)) {
		t.Fatalf("one request in the 1 s period [12:00:02, 12:00:03): got %v", rec.puts)
	}
}

func TestRestartAndFailedPutCarryOver(t *testing.T) {
	src, rec := &fakeSource{}, &recorder{}
	p := newPub(t, src, rec, time.Minute)
	ctx := context.Background()
	src.set(map[string]Counters{blueARN: {Requests: 500, Target5XX: 500}})
	_ = p.Tick(ctx, t0)
	// The data plane restarted: counters from zero.
	src.set(map[string]Counters{blueARN: {Requests: 4, Target5XX: 4}})
	if err := p.Tick(ctx, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := rec.puts[0]; key(got[0]) != "RequestCount{LoadBalancer=app/demo/50dc6c495c0c9188}@12:00:00=4" {
		t.Fatalf("after a restart: %v", keys(got))
	}
	rec.fail = errors.New("throttled")
	src.set(map[string]Counters{blueARN: {Requests: 10, Target5XX: 10}})
	if err := p.Tick(ctx, t0.Add(2*time.Minute)); err == nil {
		t.Fatal("a failed put was not reported")
	}
	rec.fail = nil
	src.set(map[string]Counters{blueARN: {Requests: 12, Target5XX: 12}})
	if err := p.Tick(ctx, t0.Add(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := key(rec.puts[1][0]); got != "RequestCount{LoadBalancer=app/demo/50dc6c495c0c9188}@12:02:00=8" {
		t.Fatalf("the failed minute's requests should be in the next one: %s", got)
	}
}

func TestAverageOnlySource(t *testing.T) {
	src, rec := &fakeSource{}, &recorder{}
	p := newPub(t, src, rec, time.Minute)
	src.set(map[string]Counters{blueARN: {}})
	_ = p.Tick(context.Background(), t0)
	src.set(map[string]Counters{blueARN: {Requests: 10, Target2XX: 10, ResponseTimeAvg: 300 * time.Millisecond}})
	_ = p.Tick(context.Background(), t0.Add(time.Minute))
	for _, d := range rec.puts[0] {
		if d.MetricName == "TargetResponseTime" && (d.Stats.SampleCount != 10 || d.Stats.Sum < 2.999 || d.Stats.Sum > 3.001) {
			t.Fatalf("TargetResponseTime from an average: %+v", *d.Stats)
		}
	}
}

func TestRunTicksOnAlignedBoundariesInVirtualTime(t *testing.T) {
	fc := clock.NewFake(t0.Add(250 * time.Millisecond))
	src, rec := &fakeSource{}, &recorder{}
	p, err := New(Config{LoadBalancerARN: lbARN, Source: src.source, Sink: rec, Period: 10 * time.Second, Clock: fc})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- p.Run(ctx) }()
	var n uint64
	for i := 1; i <= 3; i++ {
		waitFor(t, func() bool { return fc.Pending() == 1 })
		n += 5
		src.set(map[string]Counters{blueARN: {Requests: n, Target2XX: n}})
		fc.Advance(10 * time.Second)
	}
	waitFor(t, func() bool { return rec.count() == 2 })
	cancel()
	<-done
	// Baseline at 12:00:10; then [12:00:10, 12:00:20) and [12:00:20, 12:00:30).
	for i, want := range []time.Time{t0.Add(10 * time.Second), t0.Add(20 * time.Second)} {
		if d := rec.puts[i][0]; !d.Timestamp.Equal(want) || d.Value != 5 {
			t.Fatalf("put %d: %s, want 5 requests at %s", i, key(d), want.Format("15:04:05"))
		}
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestDimensions(t *testing.T) {
	if got := LoadBalancerDimension(lbARN); got != "app/demo/50dc6c495c0c9188" {
		t.Fatal(got)
	}
	if got := TargetGroupDimension(blueARN); got != "targetgroup/blue/73e2d6bc24d8a067" {
		t.Fatal(got)
	}
}

func TestEachLoadBalancerReportsItsOwnGroups(t *testing.T) {
	const otherLB = "arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/app/other/1111"
	src, rec := &fakeSource{}, &recorder{}
	p, err := New(Config{Source: src.source, Sink: rec, Period: time.Minute}) // every group names its ALB
	if err != nil {
		t.Fatal(err)
	}
	src.set(map[string]Counters{blueARN: {LoadBalancerARN: lbARN}, greenTG: {LoadBalancerARN: otherLB}})
	_ = p.Tick(context.Background(), t0)
	// Only the other ALB's group has traffic; its response time covers the 4 answered requests.
	src.set(map[string]Counters{blueARN: {LoadBalancerARN: lbARN, Healthy: 1},
		greenTG: {LoadBalancerARN: otherLB, Requests: 5, Target2XX: 3, Target5XX: 1, ELB5XX: 1, Responses: 4, ResponseTimeSum: 2 * time.Second}})
	if err := p.Tick(context.Background(), t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	for _, d := range rec.puts[0] {
		if d.Dimensions[0].Value != "app/other/1111" {
			t.Errorf("an idle load balancer reported %s", key(d))
		}
		if d.MetricName == "TargetResponseTime" && (d.Stats.SampleCount != 4 || d.Stats.Sum != 2) {
			t.Errorf("TargetResponseTime %+v, want 4 responses over 2 s", *d.Stats)
		}
	}
	src.set(map[string]Counters{blueARN: {Requests: 1}})
	if err := p.Tick(context.Background(), t0.Add(2*time.Minute)); err == nil {
		t.Error("a group without a load balancer was published")
	}
}
