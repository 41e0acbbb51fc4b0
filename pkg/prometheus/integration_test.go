package prometheus

import (
	"context"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	promclient "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/switchyard/switchyard/pkg/analysis"
	"github.com/switchyard/switchyard/pkg/analysis/judge"
	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/test/promharness"
)

// TestRealPrometheus reads per-colour counters and a histogram that a real Prometheus scraped from
// a client_golang exporter.
func TestRealPrometheus(t *testing.T) {
	if _, err := promharness.Binary(); err != nil {
		t.Skipf("real Prometheus test skipped: %v", err)
	}
	reg := promclient.NewRegistry()
	reqs := promclient.NewCounterVec(promclient.CounterOpts{Name: "app_requests_total"}, []string{"slot", "code"})
	lat := promclient.NewHistogramVec(promclient.HistogramOpts{Name: "app_latency_seconds", Buckets: []float64{0.1, 0.5}}, []string{"slot"})
	reg.MustRegister(reqs, lat)
	reqs.WithLabelValues("blue", "200").Add(95)
	reqs.WithLabelValues("blue", "500").Add(5)
	reqs.WithLabelValues("green", "200").Add(10) // green has no 5xx series at all
	for i := range 10 {
		lat.WithLabelValues("blue").Observe(0.05)
		lat.WithLabelValues("green").Observe(0.05 + 0.1*float64(i%3)) // 0.05, 0.15, 0.25
	}
	exp := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer exp.Close()
	job, err := promharness.JobFromURL("app", exp.URL+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	srv, err := promharness.Start(ctx, promharness.Config{Jobs: []promharness.Job{job}, ScrapeInterval: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	m := deploy.AnalysisMetric{Name: "app", Provider: deploy.ProviderPrometheus, Prometheus: &deploy.PrometheusQueries{
		URL:      srv.URL,
		Requests: `sum(app_requests_total{job="app",slot="{{.Slot}}"})`,
		Errors:   `sum(app_requests_total{job="app",slot="{{.Slot}}",code=~"5.."})`,
		Buckets:  `sum by (le) (app_latency_seconds_bucket{job="app",slot="{{.Slot}}"})`,
	}}
	typo := m
	typo.Prometheus = &deploy.PrometheusQueries{URL: srv.URL, Requests: `sum(app_request_total{slot="{{.Slot}}"})`}
	bad := m
	bad.Prometheus = &deploy.PrometheusQueries{URL: srv.URL, Requests: `sum(app_requests_total{slot="{{.Slot}}"}`}
	p := New(Config{})
	all := []analysis.Request{
		{Key: "d", Metric: m, Base: blue, Canary: green},
		{Key: "d", Metric: typo, Base: blue, Canary: green},
		{Key: "d", Metric: bad, Base: blue, Canary: green},
	}
	want := analysis.Reading{
		Base:   judge.Arm{Requests: 100, Errors: 5, Buckets: []judge.Bucket{{Le: 0.1, Count: 10}, {Le: 0.5, Count: 10}}},
		Canary: judge.Arm{Requests: 10, Buckets: []judge.Bucket{{Le: 0.1, Count: 4}, {Le: 0.5, Count: 10}}},
	}
	// Wait for the first scrape (Prometheus needs a few seconds to discover the target).
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, errs := p.Measure(ctx, time.Now(), all)
		if errs[0] == nil && reflect.DeepEqual(out[0], want) {
			if deploy.KindOf(errs[1]) != deploy.KindNotFound {
				t.Errorf("typo'd metric name: %v, want not_found", errs[1])
			}
			if deploy.KindOf(errs[2]) != deploy.KindInvalid {
				t.Errorf("unparsable query: %v, want invalid", errs[2])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("reading %+v (error %v), want %+v", out[0], errs[0], want)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Counters move: the next scrape shows new green errors.
	reqs.WithLabelValues("green", "500").Add(3)
	deadline = time.Now().Add(15 * time.Second)
	for {
		out, errs := p.Measure(ctx, time.Now(), all[:1])
		if errs[0] == nil && out[0].Canary.Errors == 3 && out[0].Canary.Requests == 13 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("green errors never seen: %+v, %v", out[0], errs[0])
		}
		time.Sleep(200 * time.Millisecond)
	}
}
