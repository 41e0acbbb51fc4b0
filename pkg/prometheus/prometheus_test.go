package prometheus

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/analysis"
	"github.com/switchyard/switchyard/pkg/analysis/judge"
	"github.com/switchyard/switchyard/pkg/deploy"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 500_000_000, time.UTC)

var (
	blue = analysis.Target{Slot: deploy.SlotBlue, TargetGroup: "targetgroup/web-blue/1", TargetGroupName: "web-blue",
		LoadBalancer: "app/web/9", Service: "web-blue"}
	green = analysis.Target{Slot: deploy.SlotGreen, TargetGroup: "targetgroup/web-green/2", TargetGroupName: "web-green",
		LoadBalancer: "app/web/9", Service: "web-green"}
)

// fakeProm answers each query from a table of raw "data" JSON (or a full answer with status) and
// records the queries and times it saw.
type fakeProm struct {
	mu      sync.Mutex
	answers map[string]string // query -> data JSON
	seen    []string
	times   []string
}

func (f *fakeProm) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/api/v1/query" || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	q := r.FormValue("query")
	f.mu.Lock()
	f.seen = append(f.seen, q)
	f.times = append(f.times, r.FormValue("time"))
	data, ok := f.answers[q]
	f.mu.Unlock()
	if !ok {
		data = `{"resultType":"vector","result":[]}`
	}
	fmt.Fprintf(w, `{"status":"success","data":%s}`, data)
}

func vec(samples ...string) string {
	return `{"resultType":"vector","result":[` + strings.Join(samples, ",") + `]}`
}

func smp(v string, labels ...string) string {
	var l []string
	for i := 0; i+1 < len(labels); i += 2 {
		l = append(l, fmt.Sprintf("%q:%q", labels[i], labels[i+1]))
	}
	return fmt.Sprintf(`{"metric":{%s},"value":[1772366400.5,%q]}`, strings.Join(l, ","), v)
}

func metric(url string, q deploy.PrometheusQueries) deploy.AnalysisMetric {
	q.URL = url
	return deploy.AnalysisMetric{Name: "m", Provider: deploy.ProviderPrometheus, Prometheus: &q}
}

func measureOne(t *testing.T, p *Provider, r analysis.Request) (analysis.Reading, error) {
	t.Helper()
	out, errs := p.Measure(context.Background(), now, []analysis.Request{r})
	return out[0], errs[0]
}

func TestTemplatesSumsAndBuckets(t *testing.T) {
	f := &fakeProm{answers: map[string]string{
		// Blue: two instances, summed; its errors a scalar.
		`sum(req{slot="blue",tg="targetgroup/web-blue/1",name="web-blue",lb="app/web/9",svc="web-blue"})`: vec(smp("60", "instance", "a"), smp("40", "instance", "b")),
		`err{slot="blue"}`:  `{"resultType":"scalar","result":[1772366400.5,"3"]}`,
		`hist{slot="blue"}`: vec(smp("100", "le", "+Inf"), smp("50", "le", "0.1", "instance", "a"), smp("30", "le", "0.1", "instance", "b"), smp("95", "le", "0.5")),
		// Green: requests only; errors and histogram have no series yet.
		`sum(req{slot="green",tg="targetgroup/web-green/2",name="web-green",lb="app/web/9",svc="web-green"})`: vec(smp("7")),
	}}
	s := httptest.NewServer(f)
	defer s.Close()
	p := New(Config{})
	m := metric(s.URL+"/", deploy.PrometheusQueries{
		Requests: `sum(req{slot="{{.Slot}}",tg="{{.TargetGroup}}",name="{{.TargetGroupName}}",lb="{{.LoadBalancer}}",svc="{{.Service}}"})`,
		Errors:   `err{slot="{{.Slot}}"}`,
		Buckets:  `hist{slot="{{.Slot}}"}`,
	})
	got, err := measureOne(t, p, analysis.Request{Key: "d", Metric: m, Base: blue, Canary: green})
	if err != nil {
		t.Fatal(err)
	}
	want := analysis.Reading{
		Base:   judge.Arm{Requests: 100, Errors: 3, Buckets: []judge.Bucket{{Le: 0.1, Count: 80}, {Le: 0.5, Count: 95}}},
		Canary: judge.Arm{Requests: 7},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("reading\n got %+v\nwant %+v", got, want)
	}
	for _, tm := range f.times {
		if tm != "1772366400.500" {
			t.Fatalf("query time %q, want now", tm)
		}
	}
}

func TestBucketsAloneGiveRequestsFromInf(t *testing.T) {
	f := &fakeProm{answers: map[string]string{
		`h{slot="blue"}`:  vec(smp("10", "le", "0.2"), smp("12", "le", "+Inf")),
		`h{slot="green"}`: vec(smp("1", "le", "0.2"), smp("4", "le", "+Inf")),
	}}
	s := httptest.NewServer(f)
	defer s.Close()
	got, err := measureOne(t, New(Config{}), analysis.Request{Metric: metric(s.URL, deploy.PrometheusQueries{Buckets: `h{slot="{{.Slot}}"}`}), Base: blue, Canary: green})
	if err != nil {
		t.Fatal(err)
	}
	if got.Base.Requests != 12 || got.Canary.Requests != 4 || len(got.Base.Buckets) != 1 || got.Canary.Buckets[0] != (judge.Bucket{Le: 0.2, Count: 1}) {
		t.Fatalf("reading %+v", got)
	}
}

// An empty result is zero only while the live colour's reference query has data (package doc).
func TestEmptyResults(t *testing.T) {
	f := &fakeProm{answers: map[string]string{`r{slot="blue"}`: vec(smp("5"))}}
	s := httptest.NewServer(f)
	defer s.Close()
	p := New(Config{})
	good := metric(s.URL, deploy.PrometheusQueries{Requests: `r{slot="{{.Slot}}"}`, Errors: `e{slot="{{.Slot}}"}`})
	got, err := measureOne(t, p, analysis.Request{Metric: good, Base: blue, Canary: green})
	if err != nil || got.Base.Requests != 5 || !reflect.DeepEqual(got.Canary, judge.Arm{}) {
		t.Fatalf("new colour without series yet: %+v, %v", got, err)
	}
	typo := metric(s.URL, deploy.PrometheusQueries{Requests: `r{colour="{{.Slot}}"}`})
	if _, err := measureOne(t, p, analysis.Request{Metric: typo, Base: blue, Canary: green}); deploy.KindOf(err) != deploy.KindNotFound {
		t.Fatalf("query matching nothing for the live colour: %v, want not_found", err)
	}
	// No live colour: the new colour's series must exist.
	if _, err := measureOne(t, p, analysis.Request{Metric: good, Canary: green}); deploy.KindOf(err) != deploy.KindNotFound {
		t.Fatalf("no live colour, new colour empty: %v", err)
	}
	got, err = measureOne(t, p, analysis.Request{Metric: good, Canary: blue})
	if err != nil || got.Canary.Requests != 5 || !reflect.DeepEqual(got.Base, judge.Arm{}) {
		t.Fatalf("no live colour: %+v, %v", got, err)
	}
}

func TestInvalidQueriesAndResults(t *testing.T) {
	f := &fakeProm{answers: map[string]string{
		`matrix`: `{"resultType":"matrix","result":[]}`,
		`nan`:    vec(smp("NaN")),
		`nole`:   vec(smp("1", "job", "x")),
		`noinf`:  vec(smp("1", "le", "0.1")),
	}}
	s := httptest.NewServer(f)
	defer s.Close()
	p := New(Config{})
	for name, q := range map[string]deploy.PrometheusQueries{
		"matrix":         {Requests: "matrix"},
		"nan":            {Requests: "nan"},
		"no le":          {Requests: "matrix", Buckets: "nole"},
		"no +Inf":        {Buckets: "noinf"},
		"bad template":   {Requests: "{{.Slot"},
		"unknown field":  {Requests: "{{.Colour}}"},
		"no query":       {Errors: "e"},
		"sigv4 no creds": {Requests: "r", SigV4: true},
	} {
		if _, err := measureOne(t, p, analysis.Request{Metric: metric(s.URL, q), Base: blue, Canary: green}); deploy.KindOf(err) != deploy.KindInvalid {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
}

func TestErrorShapesMapToKinds(t *testing.T) {
	hang := make(chan struct{})
	defer close(hang)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/query" {
			http.NotFound(w, r)
			return
		}
		switch q := r.FormValue("query"); q {
		case "bad":
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected identifier"}`)
		case "exec":
			w.WriteHeader(http.StatusUnprocessableEntity)
			fmt.Fprint(w, `{"status":"error","errorType":"execution","error":"many-to-many matching not allowed"}`)
		case "unavail":
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `{"status":"error","errorType":"unavailable","error":"shutting down"}`)
		case "qtimeout":
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `{"status":"error","errorType":"timeout","error":"query timed out in expression evaluation"}`)
		case "proxy503":
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `<html>503 Service Temporarily Unavailable</html>`)
		case "throttled":
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"message":"Rate exceeded"}`)
		case "denied":
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"message":"The request signature we calculated does not match"}`)
		case "html":
			fmt.Fprint(w, `<html>login</html>`)
		case "hang":
			select {
			case <-hang:
			case <-r.Context().Done():
			}
		}
	}))
	defer s.Close()
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "http://" + dead.Addr().String()
	dead.Close()
	p := New(Config{Timeout: 100 * time.Millisecond})
	for _, c := range []struct {
		url, query string
		want       deploy.Kind
	}{
		{s.URL, "bad", deploy.KindInvalid},
		{s.URL, "exec", deploy.KindInvalid},
		{s.URL, "unavail", deploy.KindUnavailable},
		{s.URL, "qtimeout", deploy.KindTimeout},
		{s.URL, "proxy503", deploy.KindUnavailable},
		{s.URL, "throttled", deploy.KindThrottled},
		{s.URL, "denied", deploy.KindForbidden},
		{s.URL, "html", deploy.KindInvalid},
		{s.URL + "/wrong/path", "bad", deploy.KindNotFound},
		{s.URL, "hang", deploy.KindTimeout},
		{deadURL, "x", deploy.KindUnavailable},
	} {
		_, err := measureOne(t, p, analysis.Request{Metric: metric(c.url, deploy.PrometheusQueries{Requests: c.query}), Base: blue, Canary: green})
		if deploy.KindOf(err) != c.want {
			t.Errorf("%s %s: %v (kind %s), want %s", c.url, c.query, err, deploy.KindOf(err), c.want)
		}
		if err != nil && !strings.HasPrefix(err.Error(), op+": ") {
			t.Errorf("%s: error %q does not name the operation", c.query, err)
		}
	}
}

// Each request's error is its own: one bad metric does not fail the others.
func TestRequestsAnsweredIndependently(t *testing.T) {
	f := &fakeProm{answers: map[string]string{`ok{slot="blue"}`: vec(smp("1")), `ok{slot="green"}`: vec(smp("2"))}}
	s := httptest.NewServer(f)
	defer s.Close()
	reqs := []analysis.Request{
		{Metric: metric(s.URL, deploy.PrometheusQueries{Requests: `ok{slot="{{.Slot}}"}`}), Base: blue, Canary: green},
		{Metric: metric(s.URL, deploy.PrometheusQueries{Requests: `typo`}), Base: blue, Canary: green},
	}
	out, errs := New(Config{}).Measure(context.Background(), now, reqs)
	if errs[0] != nil || out[0].Canary.Requests != 2 || errs[1] == nil {
		t.Fatalf("readings %+v, errors %v", out, errs)
	}
}

// A latency metric's requests are its histogram's +Inf count from the same evaluation, never a
// separate requests query: one evaluated a scrape later made requests minus a bucket count requests
// that were never slow (in the traffic world, 2% of an equal release's requests "above 25 ms").
func TestLatencyRequestsComeFromTheHistogram(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.FormValue("query")
		w.Header().Set("Content-Type", "application/json")
		if strings.Contains(q, "bucket") {
			fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[`+
				`{"metric":{"le":"0.025"},"value":[1,"100"]},{"metric":{"le":"+Inf"},"value":[1,"100"]}]}}`)
			return
		}
		fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"105"]}]}}`) // a scrape later
	}))
	defer srv.Close()
	m := deploy.AnalysisMetric{Name: "latency", Provider: deploy.ProviderPrometheus, Judge: deploy.JudgeLatency,
		Prometheus: &deploy.PrometheusQueries{URL: srv.URL, Requests: "sum(count)", Buckets: "sum by (le) (bucket)"}}
	p := New(Config{})
	out, errs := p.Measure(context.Background(), time.Now(), []analysis.Request{{Key: "d", Metric: m,
		Base: analysis.Target{Slot: deploy.SlotBlue}, Canary: analysis.Target{Slot: deploy.SlotGreen}}})
	if errs[0] != nil {
		t.Fatal(errs[0])
	}
	if got := out[0].Canary.Requests; got != 100 {
		t.Fatalf("requests %v, want the histogram's +Inf count 100 (5 phantom slow requests otherwise)", got)
	}
}
