package apptask

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/switchyard/switchyard/test/ecsfake"
)

func taskInfo(service, arn, tag string) ecsfake.TaskInfo {
	return ecsfake.TaskInfo{Cluster: "c", Service: service, TaskARN: arn, Tag: tag}
}

// scrape reads the task's /metrics as Prometheus does.
func scrape(t *testing.T, s *Server) map[string]*dto.MetricFamily {
	t.Helper()
	resp, b := get(t, http.DefaultClient, "http://"+s.Addr()+MetricsPath)
	if resp.StatusCode != 200 || resp.Header.Get(HeaderTask) != s.Spec().TaskARN {
		t.Fatalf("scrape: status %d, headers %v", resp.StatusCode, resp.Header)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mf, err := p.TextToMetricFamilies(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("scrape: %v\n%s", err, b)
	}
	return mf
}

func counterByCode(mf map[string]*dto.MetricFamily) map[string]float64 {
	out := map[string]float64{}
	for _, m := range mf[RequestsMetric].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "code" {
				out[l.GetValue()] += m.GetCounter().GetValue()
			}
		}
	}
	return out
}

// A task's metrics count its application requests by code and their latency with the added delay
// in it; health checks and scrapes are not application requests.
func TestMetricsCountRequestsAndLatency(t *testing.T) {
	tbl := NewTable(map[string]Behaviour{"v2": {ErrorRate: 0.5, Latency: 100 * time.Millisecond}})
	s := start(t, Spec{TaskARN: "arn:task/m", Colour: "green", Tag: "v2", Table: tbl, Seed: 7})
	const n = 20
	for range n {
		get(t, http.DefaultClient, "http://"+s.Addr()+"/api/quotes")
		get(t, http.DefaultClient, "http://"+s.Addr()+"/healthz")
	}
	scrape(t, s)
	mf := scrape(t, s)
	c := s.Counts()
	byCode := counterByCode(mf)
	if byCode["200"]+byCode["500"] != n || byCode["500"] != float64(c.Errors) || c.Errors == 0 || c.Errors == n {
		t.Fatalf("by code %v, counts %+v: want %d requests, the 500s among them", byCode, c, n)
	}
	h := mf[DurationMetric].GetMetric()
	if len(h) != 1 {
		t.Fatalf("%s: %d series", DurationMetric, len(h))
	}
	hist := h[0].GetHistogram()
	if hist.GetSampleCount() != n || hist.GetSampleSum() < n*0.1 {
		t.Fatalf("histogram count %d sum %.3f: want %d requests of >= 100 ms", hist.GetSampleCount(), hist.GetSampleSum(), n)
	}
	if len(hist.GetBucket()) != len(DurationBuckets)+1 { // and +Inf
		t.Fatalf("%d buckets, want %d and +Inf", len(hist.GetBucket()), len(DurationBuckets))
	}
	for _, b := range hist.GetBucket() {
		// Nothing can be faster than the added 100 ms; everything is within 10 s.
		if (b.GetUpperBound() < 0.1 && b.GetCumulativeCount() != 0) || (b.GetUpperBound() >= 10 && b.GetCumulativeCount() != n) {
			t.Errorf("bucket le=%g holds %d of %d", b.GetUpperBound(), b.GetCumulativeCount(), n)
		}
	}
	// A fast release: its requests fall into the low buckets.
	tbl.Set("v2", Behaviour{})
	for range n {
		get(t, http.DefaultClient, "http://"+s.Addr()+"/api/quotes")
	}
	for _, b := range scrape(t, s)[DurationMetric].GetMetric()[0].GetHistogram().GetBucket() {
		if b.GetUpperBound() == 0.075 && b.GetCumulativeCount() < n/2 {
			t.Errorf("le=0.075 holds %d: the fast requests are missing", b.GetCumulativeCount())
		}
	}
}

// A task whose health check path is /metrics answers health checks there: the health path wins.
func TestMetricsPathDoesNotTakeTheHealthPath(t *testing.T) {
	s := start(t, Spec{TaskARN: "arn:task/h", Tag: "v1", HealthPath: MetricsPath})
	resp, b := get(t, http.DefaultClient, "http://"+s.Addr()+MetricsPath)
	if resp.StatusCode != 200 || string(b) != "ok\n" || s.Counts().HealthChecks != 1 {
		t.Fatalf("health on %s: %d %q %+v", MetricsPath, resp.StatusCode, b, s.Counts())
	}
}

func TestFleetRunningAndOnChange(t *testing.T) {
	f := NewFleet(NewTable(map[string]Behaviour{"bad": {CrashOnStart: true}}), nil)
	changes := make(chan struct{}, 16)
	f.OnChange(func() { changes <- struct{}{} })
	run := f.Runner()
	rt, err := run(t.Context(), taskInfo("svc-green", "arn:task/f1", "v2"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := run(t.Context(), taskInfo("svc-green", "arn:task/f2", "bad")); err != nil {
		t.Fatal(err)
	}
	wait := func(n int) {
		t.Helper()
		for range n {
			select {
			case <-changes:
			case <-time.After(5 * time.Second):
				t.Fatal("no change reported")
			}
		}
	}
	wait(3) // two starts, one crash
	if r := f.Running(); len(r) != 1 || r[0].Spec().TaskARN != "arn:task/f1" {
		t.Fatalf("running %v", r)
	}
	rt.Stop()
	wait(1)
	if r := f.Running(); len(r) != 0 {
		t.Fatalf("running after stop: %v", r)
	}
}
