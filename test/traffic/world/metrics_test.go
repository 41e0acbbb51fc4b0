package world

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/test/albmetrics"
	"github.com/switchyard/switchyard/test/apptask"
	"github.com/switchyard/switchyard/test/emulator"
	"github.com/switchyard/switchyard/test/promharness"
	"github.com/switchyard/switchyard/test/traffic/loadgen"
)

// colour is what the daemon's templates see of one colour (pkg/deploy PrometheusQueries).
type colour struct{ Slot, TargetGroup, TargetGroupName, LoadBalancer, Service string }

func (w *World) colour(slot string) colour {
	svc, tg := w.Stack.BlueService, w.Stack.BlueTG
	if slot == "green" {
		svc, tg = w.Stack.GreenService, w.Stack.GreenTG
	}
	return colour{Slot: slot, TargetGroup: albmetrics.TargetGroupDimension(tg), TargetGroupName: TargetGroupName(tg),
		LoadBalancer: albmetrics.LoadBalancerDimension(w.Stack.LoadBalancer), Service: svc}
}

func render(t *testing.T, tmpl string, c colour) string {
	t.Helper()
	var b strings.Builder
	if err := template.Must(template.New("q").Option("missingkey=error").Parse(tmpl)).Execute(&b, c); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// scalar runs a query that must answer one sample; ok is false while it answers none.
func scalar(t *testing.T, w *World, q string) (float64, bool) {
	t.Helper()
	v, err := w.Prom.Query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if len(v) > 1 {
		t.Fatalf("%s: %d samples, want one: %+v", q, len(v), v)
	}
	if len(v) == 0 {
		return 0, false
	}
	return v[0].Value, true
}

// waitValue polls q until it equals want (bounded: Prometheus scrapes every second).
func waitValue(t *testing.T, w *World, q string, want float64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got, ok := scalar(t, w, q)
		if ok && got == want {
			return
		}
		if time.Now().After(deadline) {
			backends, _ := w.Prom.Query(context.Background(), `group by (proxy) (haproxy_backend_http_responses_total)`)
			t.Fatalf("%s = %v (present %v), want %v; HAProxy's backends: %v", q, got, ok, want, backends)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// quantileBucket is the upper bound of the bucket that holds the q-quantile of a cumulative histogram.
func quantileBucket(t *testing.T, v promharness.Vector, q float64) float64 {
	t.Helper()
	type bucket struct{ le, n float64 }
	var bs []bucket
	for _, s := range v {
		le, err := strconv.ParseFloat(s.Labels["le"], 64)
		if err != nil {
			t.Fatalf("bucket %v: %v", s.Labels, err)
		}
		bs = append(bs, bucket{le, s.Value})
	}
	slices.SortFunc(bs, func(a, b bucket) int { return int(math.Copysign(1, a.le-b.le)) })
	if len(bs) != len(apptask.DurationBuckets)+1 {
		t.Fatalf("%d buckets, want %d and +Inf", len(bs), len(apptask.DurationBuckets))
	}
	total := bs[len(bs)-1].n
	for _, b := range bs {
		if b.n >= q*total {
			return b.le
		}
	}
	return math.Inf(1)
}

func requireTools(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("haproxy"); err != nil {
		t.Skip("haproxy not installed (apt-get install haproxy)")
	}
	if _, err := promharness.Binary(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			t.Skip(err)
		}
		t.Fatal(err)
	}
}

// The analysis' evidence through a real Prometheus: the data plane's per-target-group counters and
// the tasks' own histograms, selected per colour by the templates AnalysisMetrics hands the daemon,
// show exactly what each colour served; a task that dies does not make the latency counts fall.
func TestAnalysisMetricsSeeEachColour(t *testing.T) {
	requireTools(t)
	k := emulator.Shared(t)
	ctx := emulator.Context(t, 3*time.Minute)
	table := apptask.NewTable(map[string]apptask.Behaviour{"v2": {ErrorRate: 0.2, Latency: 250 * time.Millisecond}})
	w, err := New(ctx, k.URL, Options{Name: "worldprom", Tags: []string{"v2"}, Table: table, Prometheus: true, Log: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	ms := w.AnalysisMetrics()
	byName := map[string]deploy.AnalysisMetric{}
	for _, m := range ms {
		byName[m.Name] = m
		if m.Prometheus != nil && m.Prometheus.URL != w.Prom.URL {
			t.Fatalf("%s: URL %q, want the world's Prometheus %q", m.Name, m.Prometheus.URL, w.Prom.URL)
		}
	}
	// Green runs v2, as the daemon's prepare step does: a new task definition, the idle service scaled up.
	td := w.ECS.SeedTaskDefinition("td-"+w.Stack.Name, w.Stack.Container, w.Stack.RepositoryURI+":v2")
	if _, err := ecs.NewFromConfig(w.ECS.AWSConfig()).UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String(w.Stack.Cluster),
		Service: aws.String(w.Stack.GreenService), TaskDefinition: aws.String(td), DesiredCount: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	if err := w.WaitHealthy(ctx, w.Stack.GreenTG, 2); err != nil {
		t.Fatal(err)
	}
	// The probe URL is the test listener, which forwards to green only.
	probe := byName["probe"].Probe
	pr, err := loadgen.Run(ctx, loadgen.Options{URL: probe.URL, Rate: 20, Duration: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if pr.ByColour()["green"] != pr.Total() || pr.Total() == 0 {
		t.Fatalf("probe %s reached %v, want green only", probe.URL, pr.ByColour())
	}
	// Production traffic (blue, healthy and fast) and traffic to green through the test listener.
	blueLoad, err := loadgen.Start(ctx, loadgen.Options{URL: w.ProductionURL() + "/api/quotes", Rate: 40, Duration: 4 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := loadgen.Run(ctx, loadgen.Options{URL: w.TestURL() + "/api/quotes", Rate: 40, Duration: 4 * time.Second}); err != nil {
		t.Fatal(err)
	}
	blueLoad.Wait()
	served := w.Fleet.Counts()
	t.Logf("served: blue %+v, green %+v", served["blue"], served["green"])
	if served["green"].Errors == 0 || served["blue"].Errors != 0 || served["blue"].Served < 100 || served["green"].Served < 100 {
		t.Fatalf("the behaviours did not show: %+v", served)
	}
	errs, lat := byName["errors"].Prometheus, byName["latency"].Prometheus
	for _, slot := range []string{"blue", "green"} {
		c, truth := w.colour(slot), served[slot]
		waitValue(t, w, render(t, errs.Requests, c), float64(truth.Served))
		waitValue(t, w, render(t, errs.Errors, c), float64(truth.Errors))
		waitValue(t, w, render(t, LatencyCountQuery, c), float64(truth.Served))
		buckets, err := w.Prom.Query(ctx, render(t, lat.Buckets, c))
		if err != nil {
			t.Fatal(err)
		}
		p90 := quantileBucket(t, buckets, 0.9)
		hq, _ := scalar(t, w, "histogram_quantile(0.9, "+render(t, lat.Buckets, c)+")")
		t.Logf("%s: requests %d, 5xx %d, p90 bucket le=%g (histogram_quantile %.3f s)", slot, truth.Served, truth.Errors, p90, hq)
		if slot == "green" && p90 < 0.25 || slot == "blue" && p90 > 0.1 {
			t.Errorf("%s: p90 in the bucket le=%g", slot, p90)
		}
	}
	// A green task dies: its series go with it, the monotone latency counts do not fall.
	c := w.colour("green")
	before, _ := scalar(t, w, render(t, LatencyCountQuery, c))
	var victim *apptask.Server
	for _, s := range w.Fleet.Running() {
		if s.Spec().Service == w.Stack.GreenService {
			victim = s
		}
	}
	victim.Crash(errors.New("killed by the test"))
	gone := fmt.Sprintf(`up{job=%q,task=%q}`, TasksJob, victim.Spec().TaskARN)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if v, err := w.Prom.Query(ctx, gone); err == nil && len(v) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still scraped", gone)
		}
		time.Sleep(200 * time.Millisecond)
	}
	after, _ := scalar(t, w, render(t, LatencyCountQuery, c))
	plain, _ := scalar(t, w, fmt.Sprintf(`sum(http_request_duration_seconds_count{service=%q})`, c.Service))
	t.Logf("green task gone: monotone count %v -> %v; a plain sum over the running tasks reads %v", before, after, plain)
	if after != before || plain >= before {
		t.Fatalf("after a task died: monotone %v -> %v, plain sum %v", before, after, plain)
	}
}
