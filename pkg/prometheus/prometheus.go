// Package prometheus is the analysis provider for PromQL: per colour, it renders a metric's query
// templates with the colour's Target and runs them as instant queries on the Prometheus HTTP API
// (optionally signed with SigV4 for Amazon Managed Service for Prometheus).
//
// It speaks the HTTP API with net/http and encoding/json rather than client_golang/api: one endpoint
// and one small JSON shape, and the adapter must map every HTTP status and errorType to a
// deploy.Kind and sign each request body itself, which the client library would hide behind its own
// error type and round-tripper.
//
// # Empty results
//
// An instant query over series that do not exist returns an empty vector, both for a colour that has
// served nothing yet (normal at the start of a shift: the new colour's counters appear with its first
// request) and for a query with a typo (forever). The rule: the live colour's reference query
// (Requests, or Buckets when Requests is unset) must return data; if it does, any other empty result
// is 0 (no requests, no errors, no histogram yet). If it does not, the reading fails with KindNotFound,
// which counts toward the metric's consecutive-error limit: a typo'd query fails the analysis closed
// within a few intervals instead of feeding zeros to the judge forever. Both colours use the same
// template, so a query right for one colour is right for the other. Without a live colour (Base.Slot
// empty) the rule applies to the new colour.
package prometheus

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"text/template"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/switchyard/switchyard/pkg/analysis"
	"github.com/switchyard/switchyard/pkg/analysis/judge"
	"github.com/switchyard/switchyard/pkg/deploy"
)

const op = "prometheus.Measure"

// Doer sends one HTTP request (*http.Client has it).
type Doer interface {
	Do(req *http.Request) (*http.Response, error)
}

// Config sets up a Provider.
type Config struct {
	// HTTP sends the queries (default: a plain *http.Client; Timeout bounds each query).
	HTTP Doer
	// Timeout bounds one query (default 5 s).
	Timeout time.Duration
	// Credentials and Region sign the requests of metrics with SigV4 set (service "aps"). Never the
	// default credential chain: the caller passes the provider it means (wrap it in
	// aws.NewCredentialsCache so that every query does not retrieve credentials again).
	Credentials aws.CredentialsProvider
	Region      string
	// Parallel bounds the queries in flight (default 8).
	Parallel int
}

// Provider implements analysis.Provider for PrometheusQueries.
type Provider struct {
	cfg Config
	sem chan struct{}

	mu        sync.Mutex
	templates map[string]*template.Template
}

// New returns a provider.
func New(cfg Config) *Provider {
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 8
	}
	return &Provider{cfg: cfg, sem: make(chan struct{}, cfg.Parallel), templates: map[string]*template.Template{}}
}

// Measure answers each request with both colours' cumulative counters at now. The requests are
// read in parallel; each one's error is its own.
func (p *Provider) Measure(ctx context.Context, now time.Time, reqs []analysis.Request) ([]analysis.Reading, []error) {
	out := make([]analysis.Reading, len(reqs))
	errs := make([]error, len(reqs))
	var wg sync.WaitGroup
	for i := range reqs {
		wg.Go(func() { out[i], errs[i] = p.measure(ctx, now, reqs[i]) })
	}
	wg.Wait()
	return out, errs
}

// templateData is what a query template sees.
type templateData struct {
	Slot            string
	TargetGroup     string
	TargetGroupName string
	LoadBalancer    string
	Service         string
}

func (p *Provider) measure(ctx context.Context, now time.Time, r analysis.Request) (analysis.Reading, error) {
	q := r.Metric.Prometheus
	if q == nil || q.URL == "" || (q.Requests == "" && q.Buckets == "") {
		return analysis.Reading{}, deploy.Errorf(op, deploy.KindInvalid, "metric %q: prometheus url and requests or buckets query required", r.Metric.Name)
	}
	if q.SigV4 && (p.cfg.Credentials == nil || p.cfg.Region == "") {
		return analysis.Reading{}, deploy.Errorf(op, deploy.KindInvalid, "metric %q: sigv4 set but the daemon has no AWS credentials and region for Prometheus", r.Metric.Name)
	}
	refIdx, ref := 0, r.Base // the live colour's series must exist (package doc)
	if ref.Slot == "" {
		refIdx, ref = 1, r.Canary
	}
	if ref.Slot == "" {
		return analysis.Reading{}, deploy.Errorf(op, deploy.KindInvalid, "metric %q: no colour to read", r.Metric.Name)
	}
	var reading analysis.Reading
	var wg sync.WaitGroup
	var armErr [2]error
	var refFound [2]bool
	for i, t := range []analysis.Target{r.Base, r.Canary} {
		if t.Slot == "" {
			continue
		}
		arm := &reading.Base
		if i == 1 {
			arm = &reading.Canary
		}
		wg.Go(func() { refFound[i], armErr[i] = p.arm(ctx, now, q, t, arm, r.Metric.Judge == deploy.JudgeLatency) })
	}
	wg.Wait()
	for _, err := range armErr {
		if err != nil {
			return analysis.Reading{}, deploy.Wrap(op, "", err, "metric "+strconv.Quote(r.Metric.Name))
		}
	}
	if !refFound[refIdx] {
		return analysis.Reading{}, deploy.Errorf(op, deploy.KindNotFound,
			"metric %q: no series for the %s colour (%s): check the query (an empty result is not read as zero while the live colour has none)",
			r.Metric.Name, ref.Slot, refQuery(q))
	}
	return reading, nil
}

func refQuery(q *deploy.PrometheusQueries) string {
	if q.Requests != "" {
		return "requests"
	}
	return "buckets"
}

// arm reads one colour; found says the reference query (Requests, else Buckets) had data.
// With latency (the latency judge) the requests are the histogram's own +Inf count whenever it has one.
func (p *Provider) arm(ctx context.Context, now time.Time, q *deploy.PrometheusQueries, t analysis.Target, arm *judge.Arm, latency bool) (bool, error) {
	data := templateData{Slot: string(t.Slot), TargetGroup: t.TargetGroup, TargetGroupName: t.TargetGroupName, LoadBalancer: t.LoadBalancer, Service: t.Service}
	type result struct {
		samples []sample
		err     error
	}
	queries := map[string]string{"requests": q.Requests, "errors": q.Errors, "buckets": q.Buckets}
	results := make(map[string]*result, 3)
	var wg sync.WaitGroup
	for name, tmpl := range queries {
		if tmpl == "" {
			continue
		}
		res := &result{}
		results[name] = res
		wg.Go(func() {
			expr, err := p.render(tmpl, data)
			if err != nil {
				res.err = deploy.Wrap("", deploy.KindInvalid, err, name+" query template")
				return
			}
			res.samples, res.err = p.query(ctx, now, q, expr)
			if res.err != nil {
				res.err = deploy.Wrap("", "", res.err, fmt.Sprintf("%s query %q", name, expr))
			}
		})
	}
	wg.Wait()
	for _, name := range []string{"requests", "errors", "buckets"} {
		if res := results[name]; res != nil && res.err != nil {
			return false, res.err
		}
	}
	var found bool
	if res := results["requests"]; res != nil {
		arm.Requests, found = sum(res.samples), len(res.samples) > 0
	}
	if res := results["errors"]; res != nil {
		arm.Errors = sum(res.samples)
	}
	if res := results["buckets"]; res != nil {
		buckets, inf, hasInf, err := byLe(res.samples)
		if err != nil {
			return false, deploy.Wrap("", deploy.KindInvalid, err, "buckets query")
		}
		arm.Buckets = buckets
		switch {
		case hasInf && (latency || q.Requests == ""):
			// The histogram's own +Inf count, from the same evaluation as its buckets: a separate
			// requests query can see a scrape the buckets query did not, and requests minus a bucket
			// (the latency judge's exceedances) would count requests that were never slow.
			arm.Requests, found = inf, found || len(res.samples) > 0
		case q.Requests == "" && len(buckets) > 0:
			return false, deploy.Errorf("", deploy.KindInvalid, "buckets query has no le=\"+Inf\" series and no requests query counts the requests")
		case q.Requests == "":
			found = len(res.samples) > 0
		}
	}
	return found, nil
}

func (p *Provider) render(text string, data templateData) (string, error) {
	p.mu.Lock()
	t, ok := p.templates[text]
	if !ok {
		var err error
		if t, err = template.New("query").Option("missingkey=error").Parse(text); err != nil {
			p.mu.Unlock()
			return "", err
		}
		p.templates[text] = t
	}
	p.mu.Unlock()
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return "", err
	}
	return b.String(), nil
}

func sum(s []sample) float64 {
	var v float64
	for _, x := range s {
		v += x.Value
	}
	return v
}

// byLe folds a histogram's series into cumulative buckets ascending by le, summing series that
// share an le (instances not aggregated by the query). +Inf is returned apart: Requests is that
// bucket.
func byLe(s []sample) (buckets []judge.Bucket, inf float64, hasInf bool, err error) {
	counts := map[float64]float64{}
	for _, x := range s {
		raw, ok := x.Labels["le"]
		if !ok {
			return nil, 0, false, fmt.Errorf("a series without an le label: %v", x.Labels)
		}
		le, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			return nil, 0, false, fmt.Errorf("le=%q is not a number", raw)
		}
		counts[le] += x.Value
	}
	for le, c := range counts {
		if math.IsInf(le, 1) {
			inf, hasInf = c, true
			continue
		}
		buckets = append(buckets, judge.Bucket{Le: le, Count: c})
	}
	sort.Slice(buckets, func(i, j int) bool { return buckets[i].Le < buckets[j].Le })
	return buckets, inf, hasInf, nil
}
